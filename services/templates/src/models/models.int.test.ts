// The models a template may name (docs/templates.md, "Models") and its face in
// the store, through the templates service's gRPC face. Real: PostgreSQL, the
// service, signatures. Nothing stands in.
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelConfigSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplatePatchSchema, TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import {
  applyPatch,
  contentFromJson,
  contentToJson,
  fieldViolations,
  jsonHash,
  patchToJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedPublish, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { expectCode } from "../../test/helpers.js";

const CREDS = generateServiceCredentials();
const SERVED = ["gpt-oss-20b", "acme-large"];

let databaseUrl: string;
let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let sql: pg.Client;

async function counts() {
  const r = await sql.query(`select (select count(*)::int from templates) as t,
    (select count(*)::int from template_versions) as v, (select count(*)::int from signature_nonces) as n`);
  return r.rows[0] as { t: number; v: number; n: number };
}

const withModel = (name: string, over: Partial<TemplateContentJson> = {}) =>
  sampleContent({ model: { default: name, allow_override: true }, ...over });

const update = async (c: TestIdentity, id: string, version: bigint, body: TemplateContent) =>
  client.updateTemplate({
    templateId: id,
    expectedVersion: version,
    content: body,
    signature: await signOperation(c.account, "UpdateTemplate", {
      inboxId: c.inboxId,
      templateId: id,
      version,
      contentHash: jsonHash(contentToJson(body)),
    }),
  });

beforeAll(async () => {
  databaseUrl = await createTestDatabase("templates_models");
  service = await startTemplateService({ databaseUrl, credentials: CREDS.templates, models: SERVED });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
});

describe("the models a template may name", () => {
  it("are listed to anyone, in the order the pool is configured with", async () => {
    expect((await client.listModels({})).models).toEqual(SERVED);
  });

  it("refuse a template that names another at create, naming the field, and nothing is stored", async () => {
    const alice = newIdentity();
    const before = await counts();
    const err = await expectCode(
      signedTemplate(client, alice, withModel("no-such-model-xyz"), "private"),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err)).toEqual([
      {
        field: "content.model.default",
        description: '"no-such-model-xyz" is not a model this pool serves: one of "gpt-oss-20b", "acme-large"',
      },
    ]);
    expect(await counts()).toEqual(before);
    expect((await signedTemplate(client, alice, withModel("acme-large"), "private")).version).toBe(1n);
  });

  it("refuse an update or a patch to an unserved model, naming the field, and the template stays as it was", async () => {
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, withModel("gpt-oss-20b"), "private");
    const before = await counts();
    const err = await expectCode(
      update(alice, t.id, 1n, contentFromJson(withModel("no-such-model-xyz"))),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err)[0]?.field).toBe("content.model.default");

    const patch = create(TemplatePatchSchema, {
      model: create(ModelConfigSchema, { default: "no-such-model-xyz", allowOverride: true }),
    });
    const result = applyPatch(contentToJson(t.content!), patchToJson(patch));
    const patchErr = await expectCode(
      client.patchTemplate({
        templateId: t.id,
        expectedVersion: 1n,
        patch,
        signature: await signOperation(alice.account, "PatchTemplate", {
          inboxId: alice.inboxId,
          templateId: t.id,
          version: 1n,
          patchHash: jsonHash(patchToJson(patch)),
          contentHash: jsonHash(result),
        }),
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(patchErr)[0]?.field).toBe("patch.model.default");
    // No version, no spent nonce, the model as it was.
    expect(await counts()).toEqual(before);
    const row = await sql.query(`select version, model from templates where id = $1`, [t.id]);
    expect(row.rows[0]).toEqual({ version: 1, model: { default: "gpt-oss-20b", allow_override: true } });
  });

  it("may stay what a template had after the pool stopped serving it, so its creator can still edit it", async () => {
    const alice = newIdentity();
    const t = await signedTemplate(client, alice, withModel("acme-large"), "private");
    const narrower = await startTemplateService({ databaseUrl, credentials: CREDS.templates, models: ["gpt-oss-20b"] });
    try {
      const other = createServiceClient(TemplateService, narrower.url, CREDS.gateway).client;
      const body = contentFromJson(withModel("acme-large", { instructions: "Still on acme." }));
      const res = await other.updateTemplate({
        templateId: t.id,
        expectedVersion: 1n,
        content: body,
        signature: await signOperation(alice.account, "UpdateTemplate", {
          inboxId: alice.inboxId,
          templateId: t.id,
          version: 1n,
          contentHash: jsonHash(contentToJson(body)),
        }),
      });
      expect(res.template?.content?.model?.default).toBe("acme-large");
      expect((await other.listModels({})).models).toEqual(["gpt-oss-20b"]);
    } finally {
      await narrower.close();
    }
  });
});

describe("a template's face in the store", () => {
  it("shows its avatar and conversation starters in the store's listing, and refuses starters that are not short lines", async () => {
    const alice = newIdentity();
    const starters = ["Plan a weekend in Kyoto", "What should I pack?"];
    const t = await signedTemplate(
      client,
      alice,
      sampleContent({ agent_name: "Starter Guide", avatar: "🧭", conversation_starters: starters }),
      "private",
    );
    await signedPublish(client, alice, { id: t.id, version: t.version });
    const store = await client.browseStore({ query: "Starter Guide" });
    const listed = store.templates.find((x) => x.id === t.id);
    expect(listed?.content).toMatchObject({ avatar: "🧭", conversationStarters: starters });

    const before = await counts();
    const err = await expectCode(
      signedTemplate(client, alice, sampleContent({ conversation_starters: ["one\ntwo"] }), "private"),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err)[0]?.field).toBe("content.conversation_starters[0]");
    expect(await counts()).toEqual(before);
  });
});
