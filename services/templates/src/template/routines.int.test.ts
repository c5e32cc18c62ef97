// A template's routines in the templates service (docs/templates.md,
// "Routines"): real PostgreSQL, the real service over gRPC, real creator
// signatures. Nothing stands in.
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  LOCAL_POOL_ID,
  SignatureVerifier,
  signOperation,
  verifyTemplateRelease,
} from "@convos-pool/kit/signing";
import {
  applyPatch,
  contentToJson,
  fieldViolations,
  jsonHash,
  patchToJson,
  routineFromJson,
  type RoutineJson,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "../server.js";
import { as, expectCode } from "../../test/helpers.js";

const CREDS = generateServiceCredentials();

let service: RunningTemplateService;
let client: Client<typeof TemplateService>;
let sql: pg.Client;

const createTemplate = (c: TestIdentity, over: Partial<TemplateContentJson> = {}) =>
  signedTemplate(client, c, sampleContent(over), "private");

const plan: RoutineJson = {
  id: "weekly-plan",
  name: "The week's plan",
  rrule: "FREQ=WEEKLY;BYDAY=MO",
  time: "09:00",
  instruction: "Post the week's plan.",
};

beforeAll(async () => {
  const databaseUrl = await createTestDatabase("templates");
  service = await startTemplateService({ databaseUrl, credentials: CREDS.templates });
  client = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
});

describe("a template's routines", () => {
  it("are stored, read back, listed and carried in the signed release", async () => {
    const alice = newIdentity();
    const t = await createTemplate(alice, { routines: [plan] });
    expect(contentToJson(t.content!).routines).toEqual([plan]);
    const stored = await sql.query(`select routines from templates where id = $1`, [t.id]);
    expect(stored.rows[0].routines).toEqual([plan]);
    const listed = await client.listCreatorTemplates({ creatorId: alice.inboxId }, as(alice));
    expect(listed.templates[0]?.content?.routines.map((r) => r.id)).toEqual(["weekly-plan"]);

    const releases = createServiceClient(TemplateReleaseService, service.url, CREDS.claims).client;
    const { release } = await releases.getTemplateRelease({ templateId: t.id });
    expect(contentToJson(release!.content!).routines).toEqual([plan]);
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    expect(await verifyTemplateRelease(verifier, release!, { templateId: t.id, creatorId: alice.inboxId })).toBe(
      alice.account.address,
    );
  });

  it("refuses every bad routine at once, each named by its field, and stores nothing", async () => {
    const alice = newIdentity();
    const before = (await sql.query(`select count(*)::int as n from templates`)).rows[0].n;
    const err = await expectCode(
      createTemplate(alice, {
        routines: [
          { ...plan, rrule: "FREQ=MINUTELY;INTERVAL=5" },
          { ...plan, id: "weekly-plan", time: "9am", instruction: "x".repeat(1001) },
        ],
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(err).map((v) => v.field)).toEqual([
      "content.routines[0].rrule",
      "content.routines[1].id",
      "content.routines[1].time",
      "content.routines[1].instruction",
    ]);
    const many = Array.from({ length: 6 }, (_, i) => ({ ...plan, id: `r${i}` }));
    const tooMany = await expectCode(createTemplate(alice, { routines: many }), Code.InvalidArgument);
    expect(fieldViolations(tooMany).map((v) => v.field)).toEqual(["content.routines"]);
    expect((await sql.query(`select count(*)::int as n from templates`)).rows[0].n).toBe(before);
  });

  it("a patch moves one to another time, and a patch with none removes them", async () => {
    const alice = newIdentity();
    const t = await createTemplate(alice, { routines: [plan] });
    const patchAt = async (version: bigint, patch: Parameters<typeof create<typeof TemplatePatchSchema>>[1]) => {
      const json = patchToJson(create(TemplatePatchSchema, patch));
      const current = (await client.getTemplate({ templateId: t.id }, as(alice))).template!;
      return (
        await client.patchTemplate({
          templateId: t.id,
          expectedVersion: version,
          patch,
          signature: await signOperation(alice.account, "PatchTemplate", {
            inboxId: alice.inboxId,
            templateId: t.id,
            version,
            patchHash: jsonHash(json),
            contentHash: jsonHash(applyPatch(contentToJson(current.content!), json)),
          }),
        })
      ).template!;
    };
    const moved = await patchAt(1n, { routines: [routineFromJson({ ...plan, time: "10:30" })] });
    expect(moved.content?.routines.map((r) => r.time)).toEqual(["10:30"]);
    const none = await patchAt(2n, { clearRoutines: true });
    expect(none.content?.routines).toEqual([]);
    expect(contentToJson(none.content!)).toEqual(sampleContent());
  });
});
