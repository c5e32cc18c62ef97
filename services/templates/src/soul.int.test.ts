// SOUL through the templates service: stored, versioned, signed and listed
// like the rest of a template's content, on a real PostgreSQL.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoulSchema, Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
  type TemplatePatch,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import {
  applyPatch,
  contentFromJson,
  contentToJson,
  fieldViolations,
  jsonHash,
  patchToJson,
  soulFromJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, sampleSoul, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "./server.js";
import { as } from "../test/helpers.js";

const CREDS = generateServiceCredentials();
let service: RunningTemplateService;
let client: Client<typeof TemplateService>;

const marlow = sampleSoul();

const create1 = (c: TestIdentity, json: TemplateContentJson) => signedTemplate(client, c, json, "private");

async function patch(
  c: TestIdentity,
  id: string,
  version: bigint,
  base: TemplateContentJson,
  fields: Pick<TemplatePatch, "soul">,
) {
  const p = create(TemplatePatchSchema, fields);
  const json = patchToJson(p);
  const signature = await signOperation(c.account, "PatchTemplate", {
    inboxId: c.inboxId,
    templateId: id,
    version,
    patchHash: jsonHash(json),
    contentHash: jsonHash(applyPatch(base, json)),
  });
  return (await client.patchTemplate({ templateId: id, expectedVersion: version, patch: p, signature })).template!;
}

beforeAll(async () => {
  service = await startTemplateService({
    databaseUrl: await createTestDatabase("templates_soul"),
    credentials: CREDS.templates,
  });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
});

afterAll(async () => {
  await service?.close();
});

describe("a template's SOUL", () => {
  it("is kept with the content, signed in the release an agent checks, and changed or removed by a patch, each a version", async () => {
    const alice = newIdentity();
    const json = sampleContent({ soul: marlow });
    const t = await create1(alice, json);
    expect(contentToJson(t.content!)).toEqual(json);
    expect(contentToJson((await client.getTemplate({ templateId: t.id }, as(alice))).template!.content!).soul).toEqual(
      marlow,
    );

    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    const { release } = await releases.getTemplateRelease({ templateId: t.id });
    expect(release?.content?.soul?.identity?.role).toBe("Ship's navigator");
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    expect(await verifyTemplateRelease(verifier, release!, { templateId: t.id, creatorId: alice.inboxId })).toBe(
      alice.account.address,
    );

    const v2 = await patch(alice, t.id, 1n, json, { soul: soulFromJson({ identity: { role: "Harbour pilot" } }) });
    expect(contentToJson(v2.content!).soul).toEqual({ identity: { role: "Harbour pilot" } });
    const v3 = await patch(alice, t.id, 2n, contentToJson(v2.content!), { soul: create(SoulSchema) });
    expect(contentToJson(v3.content!)).not.toHaveProperty("soul");

    const history = (await client.listTemplateVersions({ templateId: t.id }, as(alice))).versions;
    expect(history.map((v) => contentToJson(v.snapshot!.content!).soul?.identity?.role)).toEqual([
      undefined,
      "Harbour pilot",
      "Ship's navigator",
    ]);
  });

  it("a signature over the content without its SOUL does not cover one, and a SOUL out of limits is refused naming its field", async () => {
    const alice = newIdentity();
    const plain = sampleContent();
    const signature = await signOperation(alice.account, "CreateTemplate", {
      inboxId: alice.inboxId,
      contentHash: jsonHash(plain),
    });
    const withSoul = contentFromJson(sampleContent({ soul: marlow }));
    const forged = await client
      .createTemplate({ creatorId: alice.inboxId, content: withSoul, signature })
      .catch((e: unknown) => ConnectError.from(e));
    expect(forged).toBeInstanceOf(ConnectError);
    expect((forged as ConnectError).code).toBe(Code.PermissionDenied);

    const bad = sampleContent({ soul: { philosophy: { principles: ["one", "two", "three\nlines"] } } });
    const refused = await create1(alice, bad).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect(fieldViolations(refused as ConnectError)[0]?.field).toBe("content.soul.philosophy.principles[2]");
    expect((await client.listCreatorTemplates({ creatorId: alice.inboxId }, as(alice))).templates).toHaveLength(0);
  });

  it("the store's listing carries a public template's identity (not the rest of its SOUL)", async () => {
    const alice = newIdentity();
    const category = `soul-${Date.now().toString(36)}`;
    const t = await create1(alice, sampleContent({ category, soul: marlow }));
    const signature = await signOperation(alice.account, "SetTemplateVisibility", {
      inboxId: alice.inboxId,
      templateId: t.id,
      version: 1n,
      visibility: "public",
    });
    await client.setTemplateVisibility({
      templateId: t.id,
      expectedVersion: 1n,
      visibility: Visibility.PUBLIC,
      signature,
    });
    const [listed] = (await client.browseStore({ category })).templates;
    expect(contentToJson(listed!.content!).soul).toEqual({ identity: marlow.identity });
  });
});
