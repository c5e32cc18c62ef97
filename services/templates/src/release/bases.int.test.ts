// Base templates in the templates service (docs/templates.md, "Base
// templates"): which bases a change may name, the resolved view, the
// releases the claims service gets (each layer signed by its own creator),
// pushes to every template that follows a base, and deletion refused under
// templates that build on one. On a real PostgreSQL, over gRPC.
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TemplateStatus, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateReleaseService, TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyReleaseChain,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { contentToJson, type BaseJson, type TemplateContentJson } from "@convos-pool/kit/content";
import { createLogger, createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import {
  codeOf,
  newIdentity,
  sampleContent,
  signedContentUpdate,
  signedTemplate,
  tool,
  type TestIdentity,
} from "@convos-pool/kit/testing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { Receiver } from "../../test/sync-receiver.js";
import { as } from "../../test/helpers.js";

const CREDS = generateServiceCredentials();
const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });

let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let releases: Client<typeof TemplateReleaseService>;
let receiver: Receiver;

const baseOf = (t: Template, version?: number): BaseJson => ({
  template_id: t.id,
  creator_id: t.creatorId,
  ...(version ? { version } : {}),
});

/** Content built on `base`: no model of its own, so the base's. */
function derived(base: BaseJson, over: Partial<TemplateContentJson> = {}): TemplateContentJson {
  const { model: _inherited, ...c } = sampleContent({ tools: [], ...over });
  return { ...c, base };
}

const update = (c: TestIdentity, t: Template, content: TemplateContentJson): Promise<Template> =>
  signedContentUpdate(client, c, t, content);

beforeAll(async () => {
  receiver = await new Receiver(CREDS.claims).start();
  service = await startTemplateService({
    databaseUrl: await createTestDatabase("templates_bases"),
    credentials: CREDS.templates,
    log: createLogger("templates", { level: "error" }),
    sync: { claimsUrl: receiver.server.url, intervalMs: 100, backoff: { initialMs: 100, maxMs: 400 } },
  });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
});

afterEach(() => receiver.reset());

afterAll(async () => {
  await service?.close();
  await receiver?.server.close();
});

describe("base templates", () => {
  it("build on the creator's own template or a public one, by its creator, at a version it has; naming the field otherwise", async () => {
    const acme = newIdentity();
    const saul = newIdentity();
    const policy = await signedTemplate(client, acme, sampleContent({ agent_name: "Acme policy" }));
    const secret = await signedTemplate(client, acme, sampleContent({ agent_name: "Acme internal" }), "private");

    expect(await codeOf(signedTemplate(client, saul, derived(baseOf(policy)), "private"))).toBe("ok");
    expect(await codeOf(signedTemplate(client, acme, derived(baseOf(secret)), "private"))).toBe("ok");
    const refused = async (content: TemplateContentJson) => {
      const err = await signedTemplate(client, saul, content, "private").catch(
        (e: unknown) => e as Error & { code: Code },
      );
      return err instanceof Error ? `${Code[(err as { code: Code }).code]}: ${err.message}` : "ok";
    };
    // Another creator's private template is not there, as everywhere.
    expect(await refused(derived(baseOf(secret)))).toMatch(/^NotFound: .*content\.base\.template_id/);
    expect(await refused(derived({ ...baseOf(policy), creator_id: saul.inboxId }))).toMatch(
      /^InvalidArgument: .*content\.base\.creator_id/,
    );
    expect(await refused(derived(baseOf(policy, 7)))).toMatch(/^InvalidArgument: .*content\.base\.version/);
    // A pinned version must be one whose content its creator signed (publishing made version 2, with no content of its own).
    expect(await refused(derived(baseOf(policy, 2)))).toMatch(/^InvalidArgument: .*content\.base\.version/);
    expect(await refused(derived({ ...baseOf(policy), template_id: "nope" }))).toMatch(
      /^InvalidArgument: .*content\.base\.template_id/,
    );
  });

  it("show the resolved view: instructions base first, tools added once, the nearest model, and IDENTITY.md", async () => {
    const acme = newIdentity();
    const saul = newIdentity();
    const base = await signedTemplate(
      client,
      acme,
      sampleContent({
        agent_name: "Acme base",
        instructions: "Never share internal data.",
        tools: [tool("email", "pool")],
        model: { default: "gpt-oss-120b", allow_override: false },
      }),
    );
    const mid = await signedTemplate(
      client,
      acme,
      derived(baseOf(base), {
        agent_name: "Acme support",
        instructions: "You answer customers.",
        tools: [tool("sms", "pool")],
      }),
    );
    const leaf = await signedTemplate(
      client,
      saul,
      derived(baseOf(mid, 1), {
        agent_name: "Saul's desk",
        instructions: "You are Saul's.",
        tools: [tool("email", "pool", { name: "Saul's mail" })],
      }),
    );

    const res = await client.getTemplate({ templateId: leaf.id, resolve: true }, as(saul));
    const r = contentToJson(res.resolved!.content!);
    expect(r.instructions).toBe("Never share internal data.\n\nYou answer customers.\n\nYou are Saul's.");
    expect(r.tools.map((t) => [t.id, t.name])).toEqual([
      ["email", "Saul's mail"],
      ["sms", tool("sms", "pool").name],
    ]);
    expect(r.model).toEqual({ default: "gpt-oss-120b", allow_override: false });
    expect(r.base).toBeUndefined();
    expect(res.resolved!.layers.map((l) => [l.templateId, l.version, l.pinned, l.agentName])).toEqual([
      [leaf.id, 1n, false, "Saul's desk"],
      [mid.id, 1n, true, "Acme support"],
      [base.id, 1n, false, "Acme base"],
    ]);
    expect(res.resolved!.identityMd).toBe(`# Saul's desk\n\n${r.instructions}\n`);
    // The template itself is as its creator wrote it; without `resolve`, no resolved view.
    expect(contentToJson(res.template!.content!).base).toEqual(baseOf(mid, 1));
    expect((await client.getTemplate({ templateId: leaf.id }, as(saul))).resolved).toBeUndefined();
  });

  it("refuse a cycle and a fourth level, also one a base's change would make", async () => {
    const acme = newIdentity();
    const a = await signedTemplate(client, acme, sampleContent({ agent_name: "A" }));
    const b = await signedTemplate(client, acme, derived(baseOf(a), { agent_name: "B" }));
    const c = await signedTemplate(client, acme, derived(baseOf(b), { agent_name: "C" }));
    expect(await codeOf(signedTemplate(client, acme, derived(baseOf(c), { agent_name: "D" })))).toBe(
      "FailedPrecondition",
    );
    // A on C: C builds on B, which builds on A.
    const cycle = await update(acme, a, derived(baseOf(c), { agent_name: "A" })).catch((e: Error) => e);
    expect(cycle).toBeInstanceOf(Error);
    expect((cycle as Error).message).toMatch(/content\.base\.template_id: .*a cycle/);
    // A gets a base of its own: C would be four levels deep.
    const z = await signedTemplate(client, acme, sampleContent({ agent_name: "Z" }));
    const deeper = await update(acme, a, derived(baseOf(z), { agent_name: "A" })).catch((e: Error) => e);
    expect((deeper as Error).message).toMatch(/content\.base: this would make 4 levels/);
    // A template on itself.
    expect(await codeOf(update(acme, a, derived(baseOf(a), { agent_name: "A" })))).toBe("FailedPrecondition");
    expect((await client.getTemplate({ templateId: a.id }, as(acme))).template!.version).toBe(a.version);
  });

  it("hand the claims service each layer as its creator signed it; a new base version reaches the templates that follow it, not one that stays", async () => {
    const acme = newIdentity();
    const saul = newIdentity();
    const kim = newIdentity();
    const base = await signedTemplate(
      client,
      acme,
      sampleContent({ agent_name: "Acme base", instructions: "Policy v1." }),
    );
    const follows = await signedTemplate(client, saul, derived(baseOf(base), { agent_name: "Saul's" }));
    const alsoFollows = await signedTemplate(client, kim, derived(baseOf(base), { agent_name: "Kim's" }));
    const stays = await signedTemplate(client, kim, derived(baseOf(base, 1), { agent_name: "Kim's steady" }));

    const got = await releases.getTemplateRelease({ templateId: follows.id });
    expect(got.bases.map((b) => [b.templateId, b.version])).toEqual([[base.id, 1n]]);
    const checked = await verifyReleaseChain(verifier, got.release!, got.bases, {
      templateId: follows.id,
      creatorId: saul.inboxId,
    });
    expect(checked.content.instructions).toBe(`Policy v1.\n\n${derived(baseOf(base)).instructions}`);

    const base2 = await update(acme, base, sampleContent({ agent_name: "Acme base", instructions: "Policy v2." }));
    await waitFor("the base's and its followers' pushes", () =>
      [base.id, follows.id, alsoFollows.id].every((id) => receiver.of(id).length > 0),
    );
    for (const [t, creator] of [
      [follows, saul],
      [alsoFollows, kim],
    ] as const) {
      const i = receiver.received.findLastIndex((r) => r.templateId === t.id);
      const pushed = await verifyReleaseChain(verifier, receiver.received[i]!, receiver.bases[i]!, {
        templateId: t.id,
        creatorId: creator.inboxId,
      });
      expect(pushed.key).toEqual([1n, base2.contentVersion]);
      expect(pushed.content.instructions).toMatch(/^Policy v2\./);
    }
    // The base's own push too; the one that stays on version 1 resolves as before, so it may be pushed but never moves.
    expect(receiver.of(base.id).map((r) => r.version)).toEqual([base2.contentVersion]);
    const steady = await releases.getTemplateRelease({ templateId: stays.id });
    expect(steady.bases.map((b) => [b.version, b.content!.instructions])).toEqual([[1n, "Policy v1."]]);
  });

  it("keep a base from being deleted while templates build on it; archived, it keeps serving them", async () => {
    const acme = newIdentity();
    const saul = newIdentity();
    const base = await signedTemplate(client, acme, sampleContent({ agent_name: "Acme base" }));
    const child = await signedTemplate(client, saul, derived(baseOf(base)));
    const del = await signOperation(acme.account, "DeleteTemplate", {
      inboxId: acme.inboxId,
      templateId: base.id,
      version: base.version,
    });
    const refused = await client
      .deleteTemplate({ templateId: base.id, expectedVersion: base.version, signature: del })
      .catch((e: Error) => e);
    expect((refused as Error).message).toMatch(new RegExp(`is the base of ${child.id}: archive it instead`));

    const arch = await signOperation(acme.account, "ArchiveTemplate", {
      inboxId: acme.inboxId,
      templateId: base.id,
      version: base.version,
    });
    const archived = (
      await client.archiveTemplate({ templateId: base.id, expectedVersion: base.version, signature: arch })
    ).template!;
    expect(archived.status).toBe(TemplateStatus.ARCHIVED);
    const got = await releases.getTemplateRelease({ templateId: child.id });
    expect(got.bases.map((b) => b.templateId)).toEqual([base.id]);
    // No new template can build on an archived one of someone else.
    expect(await codeOf(signedTemplate(client, newIdentity(), derived(baseOf(base))))).toBe("NotFound");
  });
});
