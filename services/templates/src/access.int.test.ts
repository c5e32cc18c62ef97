// What the templates service lets each service do (TEMPLATES_ACCESS), what
// it gives the claims service to configure agents with (TemplateReleaseService),
// how template ids come from the signed create, and the writes per creator.
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { CALLER_HEADER, contentFromJson, contentToJson, jsonHash, templateIdFor } from "@convos-pool/kit/content";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import {
  createServiceClient,
  generateServiceCredentials,
  limitExceededOf,
  type ClientCredentials,
} from "@convos-pool/kit/server";
import { codeOf, newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "./server.js";

const CREDS = generateServiceCredentials();
let service: RunningTemplateService;
let limited: RunningTemplateService;
const clients: { close(): void }[] = [];

function client<S extends typeof TemplateService | typeof TemplateReleaseService | typeof TemplateUsageService>(
  s: S,
  creds: ClientCredentials,
  on = service,
) {
  const c = createServiceClient(s, on.url, creds);
  clients.push(c);
  return c.client;
}

beforeAll(async () => {
  service = await startTemplateService({
    databaseUrl: await createTestDatabase("templates_access"),
    credentials: CREDS.templates,
  });
  limited = await startTemplateService({
    databaseUrl: await createTestDatabase("templates_limited"),
    credentials: CREDS.templates,
    limits: { templateWritesPerCaller: { points: 2, seconds: 1 } },
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await service?.close();
  await limited?.close();
});

async function create(
  templates: Client<typeof TemplateService>,
  c: TestIdentity,
  visibility: "public" | "private" = "private",
) {
  const content = sampleContent();
  const signature = await signOperation(c.account, "CreateTemplate", {
    inboxId: c.inboxId,
    contentHash: jsonHash(content),
  });
  let t = (await templates.createTemplate({ creatorId: c.inboxId, content: contentFromJson(content), signature }))
    .template!;
  expect(t.id).toBe(templateIdFor(c.inboxId, signature.nonce));
  if (visibility === "public") {
    const s = await signOperation(c.account, "SetTemplateVisibility", {
      inboxId: c.inboxId,
      templateId: t.id,
      version: t.version,
      visibility: "public",
    });
    t = (
      await templates.setTemplateVisibility({
        templateId: t.id,
        expectedVersion: t.version,
        visibility: Visibility.PUBLIC,
        signature: s,
      })
    ).template!;
  }
  return t;
}

describe("TemplateReleaseService (the claims service's)", () => {
  it("gives a template with its content version as the creator signed it, whatever its visibility; the release verifies after create, publish, update, patch and rollback", async () => {
    const gw = client(TemplateService, CREDS.gateway);
    const releases = client(TemplateReleaseService, CREDS.claims);
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    const alice = newIdentity();
    const check = async (id: string, contentVersion: bigint, instructions: string) => {
      const { template, release } = await releases.getTemplateRelease({ templateId: id });
      expect(template?.contentVersion).toBe(contentVersion);
      expect(release?.version).toBe(contentVersion);
      expect(release?.content?.instructions).toBe(instructions);
      expect(await verifyTemplateRelease(verifier, release!, { templateId: id, creatorId: alice.inboxId })).toBe(
        alice.account.address,
      );
      return template!;
    };
    const priv = await create(gw, alice);
    await check(priv.id, 1n, sampleContent().instructions);
    let t = await create(gw, alice, "public");
    expect(t.version).toBe(2n);
    t = await check(t.id, 1n, sampleContent().instructions);

    const updated = sampleContent({ instructions: "Updated." });
    const upd = await signOperation(alice.account, "UpdateTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: t.version,
      contentHash: jsonHash(updated),
    });
    t = (
      await gw.updateTemplate({
        templateId: t.id,
        expectedVersion: t.version,
        content: contentFromJson(updated),
        signature: upd,
      })
    ).template!;
    t = await check(t.id, 3n, "Updated.");

    const patch = { instructions: "Patched." };
    const patchSig = await signOperation(alice.account, "PatchTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: t.version,
      patchHash: jsonHash(patch),
      contentHash: jsonHash({ ...contentToJson(t.content!), ...patch }),
    });
    t = (await gw.patchTemplate({ templateId: t.id, expectedVersion: t.version, patch, signature: patchSig }))
      .template!;
    t = await check(t.id, 4n, "Patched.");

    const back = await signOperation(alice.account, "RollbackTemplate", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: t.version,
      targetVersion: 1n,
      contentHash: jsonHash(sampleContent()),
    });
    t = (
      await gw.rollbackTemplate({ templateId: t.id, expectedVersion: t.version, targetVersion: 1n, signature: back })
    ).template!;
    await check(t.id, 5n, sampleContent().instructions);

    expect(await codeOf(releases.getTemplateRelease({ templateId: "tmpl_0000000000000000" }))).toBe("NotFound");
    const bad = ConnectError.from(await releases.getTemplateRelease({ templateId: "nope" }).catch((e: unknown) => e));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/^template_id: /);
  });
});

describe("who may call the templates service", () => {
  it("people's requests only through the gateway; uses and releases only for the claims service; nothing for an instance host", async () => {
    const t = await create(client(TemplateService, CREDS.gateway), newIdentity(), "public");
    const probe = async (creds: ClientCredentials) => ({
      templates: await codeOf(client(TemplateService, creds).getTemplate({ templateId: t.id })),
      release: await codeOf(client(TemplateReleaseService, creds).getTemplateRelease({ templateId: t.id })),
      usage: await codeOf(client(TemplateUsageService, creds).recordTemplateUse({ templateId: t.id })),
    });
    expect(await probe(CREDS.gateway)).toEqual({
      templates: "ok",
      release: "PermissionDenied",
      usage: "PermissionDenied",
    });
    expect(await probe(CREDS.claims)).toEqual({ templates: "PermissionDenied", release: "ok", usage: "ok" });
    expect(await probe(CREDS.templates)).toEqual({
      templates: "PermissionDenied",
      release: "PermissionDenied",
      usage: "PermissionDenied",
    });
    expect(await probe(CREDS["instance-host"])).toEqual({
      templates: "PermissionDenied",
      release: "PermissionDenied",
      usage: "PermissionDenied",
    });
    expect(await probe({ token: "not-a-credential" })).toEqual({
      templates: "Unauthenticated",
      release: "Unauthenticated",
      usage: "Unauthenticated",
    });
  });

  it("a caller header from anyone but the gateway counts as no one: a private template stays hidden", async () => {
    const alice = newIdentity();
    const priv = await create(client(TemplateService, CREDS.gateway), alice);
    const asAlice = { headers: { [CALLER_HEADER]: alice.inboxId } };
    expect(await codeOf(client(TemplateService, CREDS.gateway).getTemplate({ templateId: priv.id }, asAlice))).toBe(
      "ok",
    );
    // The claims service may read releases, not act as a person on TemplateService.
    expect(await codeOf(client(TemplateService, CREDS.claims).getTemplate({ templateId: priv.id }, asAlice))).toBe(
      "PermissionDenied",
    );
    // Without the gateway's credential on the call, the header is no one's: the gateway itself, with no header, sees nothing.
    expect(await codeOf(client(TemplateService, CREDS.gateway).getTemplate({ templateId: priv.id }))).toBe("NotFound");
  });
});

describe("template writes per creator", () => {
  it("the third write in the window is RESOURCE_EXHAUSTED with retry-after; nothing is written and its signature stays good for after the window", async () => {
    const gw = client(TemplateService, CREDS.gateway, limited);
    const alice = newIdentity();
    await create(gw, alice);
    await create(gw, alice);
    const content = sampleContent({ agent_name: "Third" });
    const signature = await signOperation(alice.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(content),
    });
    const req = { creatorId: alice.inboxId, content: contentFromJson(content), signature };
    const err = ConnectError.from(await gw.createTemplate(req).catch((e: unknown) => e));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe("template writes per creator");
    const mine = async () =>
      (await gw.listCreatorTemplates({ creatorId: alice.inboxId }, { headers: { [CALLER_HEADER]: alice.inboxId } }))
        .templates;
    expect(await mine()).toHaveLength(2);
    // Another creator is not held back.
    await create(gw, newIdentity());
    // A bad signature in Alice's name is not counted: it is refused before.
    const mallory = newIdentity();
    const forged = await signOperation(mallory.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(content),
    });
    expect(await codeOf(gw.createTemplate({ ...req, signature: forged }))).toBe("PermissionDenied");
    // The scenario: a client waits what retry-after said (the 1 s window), then sends the same request.
    await sleep(limitExceededOf(err)!.retryAfterSeconds * 1000 + 50);
    expect((await gw.createTemplate(req)).template?.id).toBe(templateIdFor(alice.inboxId, signature.nonce));
    expect(await mine()).toHaveLength(3);
  });
});
