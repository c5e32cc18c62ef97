// A store people can trust (docs/store.md), on a real PostgreSQL and real gRPC:
// reports, operators' signed actions and their log, delisting and review,
// the featured list, "most used" by distinct owners, the publishing limit,
// release notes and diffs.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ReportState,
  StoreCurationService,
  TemplateStandingService,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { ReviewState, Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  StoreSort,
  TemplatePatchSchema,
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  DEFAULT_LIMITS,
  createServiceClient,
  generateServiceCredentials,
  limitExceededOf,
} from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  SignatureVerifier,
  signOperation,
  type OperationFields,
  type SignedOperation,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import {
  contentFromJson,
  contentToJson,
  fieldViolations,
  jsonHash,
  patchToJson,
  applyPatch,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { openDatabase } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedPublish, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { migrations } from "../db/migrations.js";
import { parseOperators, startTemplateService, type RunningTemplateService } from "../server.js";
import { refreshRecentOwners } from "../usage/service.js";
import { as, expectCode } from "../../test/helpers.js";

const CREDS = generateServiceCredentials();
const operator = newIdentity();
const PUBLISHES = 4;

let service: RunningTemplateService;
let templates: Client<typeof TemplateService>;
let curation: Client<typeof StoreCurationService>;
let usage: Client<typeof TemplateUsageService>;
let sql: pg.Client;
let databaseUrl: string;

const sign = (who: TestIdentity, op: SignedOperation, fields: OperationFields) =>
  signOperation(who.account, op, { inboxId: who.inboxId, ...fields });

/** A private template of `c`, signed, at version 1. */
const createTemplate = (c: TestIdentity, over: Partial<TemplateContentJson> = {}): Promise<Template> =>
  signedTemplate(templates, c, sampleContent(over), "private");

const publish = (c: TestIdentity, t: Template): Promise<Template> => signedPublish(templates, c, t);

async function publicTemplate(
  over: Partial<TemplateContentJson> = {},
): Promise<{ creator: TestIdentity; t: Template }> {
  const creator = newIdentity();
  return { creator, t: await publish(creator, await createTemplate(creator, over)) };
}

async function delist(templateId: string, reason: string) {
  const signature = await sign(operator, "DelistTemplate", { templateId, reason });
  return (await curation.delistTemplate({ operatorId: operator.inboxId, templateId, reason, signature })).template!;
}

async function browse(category: string, sort = StoreSort.NEWEST) {
  return (await templates.browseStore({ category, sort })).templates;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase("curation");
  service = await startTemplateService({
    databaseUrl,
    credentials: CREDS.templates,
    operators: [operator.inboxId],
    limits: { ...DEFAULT_LIMITS, templatePublishesPerCaller: { points: PUBLISHES, seconds: 3600 } },
  });
  templates = createServiceClient(TemplateService, service.url, CREDS.gateway).client;
  curation = createServiceClient(StoreCurationService, service.url, CREDS.gateway).client;
  usage = createServiceClient(TemplateUsageService, service.url, CREDS.claims).client;
  sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await service?.close();
});

describe("reports", () => {
  it("anyone signed in reports a template in the store once while the report is open; the rest is refused naming why", async () => {
    const { t } = await publicTemplate();
    const reader = newIdentity();
    const res = await curation.reportTemplate({ templateId: t.id, reason: "  asks for seed phrases  " }, as(reader));
    expect(res.report).toMatchObject({
      templateId: t.id,
      reporterId: reader.inboxId,
      reason: "asks for seed phrases",
      state: ReportState.OPEN,
    });

    // One per person per template: the second is ALREADY_EXISTS and changes nothing.
    await expectCode(curation.reportTemplate({ templateId: t.id, reason: "again" }, as(reader)), Code.AlreadyExists);
    const { rows } = await sql.query(`select reason from template_reports where template_id = $1`, [t.id]);
    expect(rows).toEqual([{ reason: "asks for seed phrases" }]);
    // Another person's is their own.
    await curation.reportTemplate({ templateId: t.id, reason: "spam" }, as(newIdentity()));

    await expectCode(curation.reportTemplate({ templateId: t.id, reason: "x" }), Code.Unauthenticated);
    const blank = await expectCode(
      curation.reportTemplate({ templateId: t.id, reason: "   " }, as(newIdentity())),
      Code.InvalidArgument,
    );
    expect(fieldViolations(blank).map((v) => v.field)).toEqual(["reason"]);
    const long = await expectCode(
      curation.reportTemplate({ templateId: t.id, reason: "x".repeat(1_001) }, as(newIdentity())),
      Code.InvalidArgument,
    );
    expect(fieldViolations(long).map((v) => v.field)).toEqual(["reason"]);
    const badId = await expectCode(
      curation.reportTemplate({ templateId: "nope", reason: "x" }, as(newIdentity())),
      Code.InvalidArgument,
    );
    expect(fieldViolations(badId).map((v) => v.field)).toEqual(["template_id"]);
    // A private template is not there for anyone but its creator.
    const hidden = await createTemplate(newIdentity());
    await expectCode(curation.reportTemplate({ templateId: hidden.id, reason: "x" }, as(reader)), Code.NotFound);
  });

  it("only operators read reports and act; a forged, replayed or non-operator signature is refused and changes nothing", async () => {
    const { t } = await publicTemplate();
    await curation.reportTemplate({ templateId: t.id, reason: "scam" }, as(newIdentity()));
    const stranger = newIdentity();
    await expectCode(curation.listReports({ templateId: t.id }), Code.Unauthenticated);
    await expectCode(curation.listReports({ templateId: t.id }, as(stranger)), Code.PermissionDenied);
    expect((await curation.listReports({ templateId: t.id }, as(operator))).reports.map((r) => r.reason)).toEqual([
      "scam",
    ]);

    const reason = "scam";
    // A person who is not an operator, signing for themself.
    const own = await sign(stranger, "DelistTemplate", { templateId: t.id, reason });
    await expectCode(
      curation.delistTemplate({ operatorId: stranger.inboxId, templateId: t.id, reason, signature: own }),
      Code.PermissionDenied,
    );
    // Someone else's key in the operator's name.
    const forged = await signOperation(stranger.account, "DelistTemplate", {
      inboxId: operator.inboxId,
      templateId: t.id,
      reason,
    });
    await expectCode(
      curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason, signature: forged }),
      Code.PermissionDenied,
    );
    // The operator's signature over another reason than the one sent.
    const other = await sign(operator, "DelistTemplate", { templateId: t.id, reason: "something milder" });
    await expectCode(
      curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason, signature: other }),
      Code.PermissionDenied,
    );
    await expectCode(
      curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason }),
      Code.Unauthenticated,
    );
    const badOperator = await expectCode(
      curation.delistTemplate({ operatorId: "op", templateId: t.id, reason }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(badOperator).map((v) => v.field)).toEqual(["operator_id"]);
    expect(await browse(t.content!.category)).toContainEqual(expect.objectContaining({ id: t.id }));
    expect(
      (await sql.query(`select count(*)::int as n from curation_log where template_id = $1`, [t.id])).rows[0].n,
    ).toBe(0);

    // The operator's own: done once; the same signed request again is a replay.
    const good = await sign(operator, "DelistTemplate", { templateId: t.id, reason });
    await curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason, signature: good });
    await expectCode(
      curation.delistTemplate({ operatorId: operator.inboxId, templateId: t.id, reason, signature: good }),
      Code.Unauthenticated,
    );
  });

  it("an operator dismisses a template's open reports, which leaves it in the store", async () => {
    const { t } = await publicTemplate();
    await curation.reportTemplate({ templateId: t.id, reason: "I do not like it" }, as(newIdentity()));
    const signature = await sign(operator, "DismissTemplateReports", { templateId: t.id, note: "a matter of taste" });
    const res = await curation.dismissReports({
      operatorId: operator.inboxId,
      templateId: t.id,
      note: "a matter of taste",
      signature,
    });
    expect(res.dismissed).toBe(1n);
    const all = await curation.listReports({ templateId: t.id, includeResolved: true }, as(operator));
    expect(all.reports.map((r) => [r.state, r.resolvedBy])).toEqual([[ReportState.DISMISSED, operator.inboxId]]);
    expect((await curation.listReports({ templateId: t.id }, as(operator))).reports).toEqual([]);
    // Nothing open left to dismiss; the reporter may report it again now.
    const again = await sign(operator, "DismissTemplateReports", { templateId: t.id, note: "" });
    await expectCode(
      curation.dismissReports({ operatorId: operator.inboxId, templateId: t.id, note: "", signature: again }),
      Code.FailedPrecondition,
    );
  });
});

describe("delisting and review", () => {
  it("a delisted template leaves the store and the featured list, its reports are upheld, its creator sees why, asks for a review and is relisted", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const { creator, t } = await publicTemplate({ category });
    const reporter = newIdentity();
    await curation.reportTemplate({ templateId: t.id, reason: "tells people to send it money" }, as(reporter));
    const featureSig = await sign(operator, "SetFeatured", { templateId: t.id, featured: true });
    expect(
      (
        await curation.setFeatured({
          operatorId: operator.inboxId,
          templateId: t.id,
          featured: true,
          signature: featureSig,
        })
      ).template?.featured,
    ).toBe(true);
    expect((await curation.listFeatured({})).templates.map((x) => x.id)).toContain(t.id);

    const delisted = await delist(t.id, "It asks for payments to a private wallet.");
    expect(delisted.delisting).toMatchObject({
      reason: "It asks for payments to a private wallet.",
      operatorId: operator.inboxId,
      reviewState: ReviewState.UNSPECIFIED,
    });
    // Out of the store, the featured list, and everyone's reads but its creator's and the operators'.
    expect(await browse(category)).toEqual([]);
    expect((await curation.listFeatured({})).templates.map((x) => x.id)).not.toContain(t.id);
    await expectCode(templates.getTemplate({ templateId: t.id }), Code.NotFound);
    await expectCode(templates.getTemplate({ templateId: t.id }, as(reporter)), Code.NotFound);
    expect((await templates.listCreatorTemplates({ creatorId: creator.inboxId }, as(reporter))).templates).toEqual([]);
    const seen = (await templates.getTemplate({ templateId: t.id }, as(creator))).template!;
    expect(seen.delisting?.reason).toBe("It asks for payments to a private wallet.");
    expect(
      (await templates.listCreatorTemplates({ creatorId: creator.inboxId }, as(creator))).templates[0]?.delisting
        ?.reason,
    ).toBe("It asks for payments to a private wallet.");
    expect((await templates.getTemplate({ templateId: t.id }, as(operator))).template?.delisting).toBeDefined();
    expect(
      (await curation.listReports({ templateId: t.id, includeResolved: true }, as(operator))).reports.map(
        (r) => r.state,
      ),
    ).toEqual([ReportState.UPHELD]);
    // A delisted template cannot be featured, nor delisted twice.
    const refeature = await sign(operator, "SetFeatured", { templateId: t.id, featured: true });
    await expectCode(
      curation.setFeatured({ operatorId: operator.inboxId, templateId: t.id, featured: true, signature: refeature }),
      Code.FailedPrecondition,
    );
    await expectCode(delist(t.id, "again"), Code.FailedPrecondition);
    // The claims service reads it with its delisting, and owners' agents learn of it.
    const release = await createServiceClient(
      TemplateReleaseService,
      service.url,
      CREDS.claims,
    ).client.getTemplateRelease({ templateId: t.id });
    expect(release.template?.delisting?.reason).toBe("It asks for payments to a private wallet.");
    const standings = await createServiceClient(
      TemplateStandingService,
      service.url,
      CREDS.claims,
    ).client.getTemplateStandings({
      templateIds: [t.id, (await publicTemplate()).t.id],
    });
    expect(standings.standings.map((s) => [s.templateId, s.delisting?.reason])).toEqual([
      [t.id, "It asks for payments to a private wallet."],
    ]);

    // The creator fixes it and asks for a review of the version it is now at.
    const fixed = contentFromJson(
      sampleContent({ category, instructions: "You plan trips. You never ask for money." }),
    );
    const updateSig = await sign(creator, "UpdateTemplate", {
      templateId: t.id,
      version: t.version,
      contentHash: jsonHash(contentToJson(fixed)),
    });
    const v3 = (
      await templates.updateTemplate({
        templateId: t.id,
        expectedVersion: t.version,
        content: fixed,
        signature: updateSig,
        releaseNotes: "No more payment requests.",
      })
    ).template!;
    const message = "I removed the payment request.";
    // Based on a stale version: a conflict.
    const stale = await sign(creator, "RequestTemplateReview", { templateId: t.id, version: t.version, message });
    await expectCode(
      curation.requestReview({ templateId: t.id, expectedVersion: t.version, message, signature: stale }),
      Code.Aborted,
    );
    // By someone else: refused.
    const notTheirs = await signOperation(reporter.account, "RequestTemplateReview", {
      inboxId: creator.inboxId,
      templateId: t.id,
      version: v3.version,
      message,
    });
    await expectCode(
      curation.requestReview({ templateId: t.id, expectedVersion: v3.version, message, signature: notTheirs }),
      Code.PermissionDenied,
    );
    const asked = await sign(creator, "RequestTemplateReview", { templateId: t.id, version: v3.version, message });
    const requested = (
      await curation.requestReview({ templateId: t.id, expectedVersion: v3.version, message, signature: asked })
    ).template!;
    expect(requested.delisting).toMatchObject({
      reviewState: ReviewState.REQUESTED,
      reviewMessage: message,
      reviewVersion: v3.version,
    });
    // It reaches the operators.
    const waiting = await curation.listDelistings({ reviewRequestedOnly: true }, as(operator));
    expect(waiting.templates.find((x) => x.id === t.id)?.delisting?.reviewMessage).toBe(message);
    await expectCode(curation.listDelistings({}, as(creator)), Code.PermissionDenied);

    // An operator declines, saying why; the creator sees it and asks again.
    const note = "The instructions still link the wallet.";
    const declineSig = await sign(operator, "DeclineTemplateReview", { templateId: t.id, note });
    await curation.declineReview({ operatorId: operator.inboxId, templateId: t.id, note, signature: declineSig });
    expect((await templates.getTemplate({ templateId: t.id }, as(creator))).template?.delisting).toMatchObject({
      reviewState: ReviewState.DECLINED,
      reviewNote: note,
    });
    const again = await sign(creator, "RequestTemplateReview", {
      templateId: t.id,
      version: v3.version,
      message: "Removed the link too.",
    });
    await curation.requestReview({
      templateId: t.id,
      expectedVersion: v3.version,
      message: "Removed the link too.",
      signature: again,
    });

    // Relisted: back in the store, its reason gone.
    const relistSig = await sign(operator, "RelistTemplate", { templateId: t.id, note: "fixed" });
    const back = (
      await curation.relistTemplate({
        operatorId: operator.inboxId,
        templateId: t.id,
        note: "fixed",
        signature: relistSig,
      })
    ).template!;
    expect(back.delisting).toBeUndefined();
    expect((await browse(category)).map((x) => x.id)).toEqual([t.id]);
    expect((await templates.getTemplate({ templateId: t.id })).template?.id).toBe(t.id);
    const relistAgain = await sign(operator, "RelistTemplate", { templateId: t.id, note: "" });
    await expectCode(
      curation.relistTemplate({ operatorId: operator.inboxId, templateId: t.id, note: "", signature: relistAgain }),
      Code.FailedPrecondition,
    );

    // Every action is logged with its signature, which checks out again; the creator reads those about their template.
    const log = (await curation.listCurationLog({ templateId: t.id }, as(operator))).entries;
    expect(log.map((e) => e.action)).toEqual([
      "RelistTemplate",
      "RequestTemplateReview",
      "DeclineTemplateReview",
      "RequestTemplateReview",
      "DelistTemplate",
      "SetFeatured",
    ]);
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    for (const e of log) {
      const fields = JSON.parse(e.fieldsJson) as Record<string, string | boolean>;
      const typed =
        e.action === "RequestTemplateReview" ? { ...fields, version: BigInt(fields.version as string) } : fields;
      await verifier.verify(
        e.action as SignedOperation,
        { inboxId: e.actorId, templateId: e.templateId, ...typed },
        e.signature,
        "signature",
        { anyAge: true },
      );
    }
    // An entry altered after the fact no longer checks out.
    const first = log.find((e) => e.action === "DelistTemplate")!;
    await expectCode(
      verifier.verify(
        "DelistTemplate",
        { inboxId: first.actorId, templateId: t.id, reason: "a milder reason" },
        first.signature,
        "signature",
        { anyAge: true },
      ),
      Code.PermissionDenied,
    );
    expect((await curation.listCurationLog({ templateId: t.id }, as(creator))).entries).toHaveLength(6);
    expect((await curation.listCurationLog({}, as(creator))).entries.every((e) => e.templateId === t.id)).toBe(true);
    await expectCode(curation.listCurationLog({ templateId: t.id }, as(reporter)), Code.NotFound);
  });

  it("a delisted base: no one else may build on it, and a template already built on it takes no new agents (the release carries why)", async () => {
    const { creator: acme, t: base } = await publicTemplate({ agent_name: "Acme base" });
    const saul = newIdentity();
    const onBase = { base: { template_id: base.id, creator_id: acme.inboxId } };
    const derived = await createTemplate(saul, onBase);
    await delist(base.id, "spam");
    await expectCode(createTemplate(newIdentity(), onBase), Code.NotFound);
    // Its own creator may still build on it, as they may still claim it.
    expect((await createTemplate(acme, onBase)).id).toMatch(/^tmpl_/);
    const release = await createServiceClient(
      TemplateReleaseService,
      service.url,
      CREDS.claims,
    ).client.getTemplateRelease({ templateId: derived.id });
    expect(release.template!.delisting?.reason).toBe(`its base ${base.id} was delisted: spam`);
    expect(release.bases.map((b) => b.templateId)).toEqual([base.id]);
  });

  it("a template that is not delisted has nothing to review, and a review needs the creator's words", async () => {
    const { creator, t } = await publicTemplate();
    const sig = await sign(creator, "RequestTemplateReview", {
      templateId: t.id,
      version: t.version,
      message: "please",
    });
    await expectCode(
      curation.requestReview({ templateId: t.id, expectedVersion: t.version, message: "please", signature: sig }),
      Code.FailedPrecondition,
    );
    const empty = await expectCode(
      curation.requestReview({ templateId: t.id, expectedVersion: t.version, message: "" }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(empty).map((v) => v.field)).toEqual(["message"]);
    const noVersion = await expectCode(
      curation.requestReview({ templateId: t.id, message: "please" }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(noVersion).map((v) => v.field)).toEqual(["expected_version"]);
  });
});

describe("operators' reads", () => {
  it("operators read a delisted template even once its creator made it private, and no one's private template otherwise", async () => {
    const { creator, t } = await publicTemplate();
    await delist(t.id, "spam");
    const signature = await sign(creator, "SetTemplateVisibility", {
      templateId: t.id,
      version: t.version,
      visibility: "private",
    });
    await templates.setTemplateVisibility({
      templateId: t.id,
      expectedVersion: t.version,
      visibility: Visibility.PRIVATE,
      signature,
    });
    expect((await templates.getTemplate({ templateId: t.id }, as(operator))).template?.delisting?.reason).toBe("spam");
    await expectCode(templates.getTemplate({ templateId: t.id }, as(newIdentity())), Code.NotFound);
    const secret = await createTemplate(newIdentity());
    await expectCode(templates.getTemplate({ templateId: secret.id }, as(operator)), Code.NotFound);
  });
});

describe("featured", () => {
  it("operators feature templates in the store, most recently featured first, and take them off", async () => {
    const a = (await publicTemplate()).t;
    const b = (await publicTemplate()).t;
    for (const t of [a, b]) {
      const signature = await sign(operator, "SetFeatured", { templateId: t.id, featured: true });
      await curation.setFeatured({ operatorId: operator.inboxId, templateId: t.id, featured: true, signature });
    }
    const ids = (await curation.listFeatured({})).templates.map((t) => t.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    expect(ids.indexOf(a.id)).toBeGreaterThanOrEqual(0);
    const off = await sign(operator, "SetFeatured", { templateId: a.id, featured: false });
    await curation.setFeatured({ operatorId: operator.inboxId, templateId: a.id, featured: false, signature: off });
    expect((await curation.listFeatured({})).templates.map((t) => t.id)).not.toContain(a.id);
    // A private template is not in the store: it cannot be featured.
    const hidden = await createTemplate(newIdentity());
    const sig = await sign(operator, "SetFeatured", { templateId: hidden.id, featured: true });
    await expectCode(
      curation.setFeatured({ operatorId: operator.inboxId, templateId: hidden.id, featured: true, signature: sig }),
      Code.FailedPrecondition,
    );
  });
});

describe("most used", () => {
  it("ranks by distinct owners over the last 30 days: one person claiming many times counts once", async () => {
    const category = `cat-${randomBytes(4).toString("hex")}`;
    const inflated = (await publicTemplate({ category })).t;
    const liked = (await publicTemplate({ category })).t;
    const quiet = (await publicTemplate({ category })).t;
    const mallory = newIdentity();
    for (let i = 0; i < 20; i++)
      await usage.recordTemplateUse({ templateId: inflated.id, count: 1n, ownerIds: [mallory.inboxId] });
    for (let i = 0; i < 3; i++)
      await usage.recordTemplateUse({ templateId: liked.id, count: 1n, ownerIds: [newIdentity().inboxId] });
    // Forty owners long ago are outside the window.
    await sql.query(
      `insert into template_uses (template_id, day, owner_id) select $1, current_date - 40, md5(g::text) from generate_series(1, 40) g`,
      [quiet.id],
    );
    await usage.recordTemplateUse({
      templateId: quiet.id,
      count: 1n,
      ownerIds: [newIdentity().inboxId, newIdentity().inboxId],
    });

    const ranked = await browse(category, StoreSort.MOST_USED);
    expect(ranked.map((t) => [t.id, t.recentOwners, t.usageCount])).toEqual([
      [liked.id, 3n, 3n],
      [quiet.id, 2n, 1n],
      [inflated.id, 1n, 20n],
    ]);
    // A second page continues after the first.
    const page1 = await templates.browseStore({ category, sort: StoreSort.MOST_USED, pageSize: 2 });
    const page2 = await templates.browseStore({
      category,
      sort: StoreSort.MOST_USED,
      pageSize: 2,
      pageToken: page1.nextPageToken,
    });
    expect([...page1.templates, ...page2.templates].map((t) => t.id)).toEqual([liked.id, quiet.id, inflated.id]);
    expect((await templates.getTemplate({ templateId: liked.id })).template?.recentOwners).toBe(3n);

    const bad = await expectCode(
      usage.recordTemplateUse({ templateId: liked.id, ownerIds: ["someone"] }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(bad).map((v) => v.field)).toEqual(["owner_ids[0]"]);

    // As days pass, owners leave the window: a month on, nobody counts and their rows are gone.
    const db = await openDatabase({
      name: "templates",
      url: databaseUrl,
      entities: [TemplateRow, TemplateVersionRow],
      migrations,
    });
    try {
      await refreshRecentOwners(db.em.fork(), new Date(Date.now() + 15 * 86_400_000));
      expect((await templates.getTemplate({ templateId: liked.id })).template?.recentOwners).toBe(3n);
      await refreshRecentOwners(db.em.fork(), new Date(Date.now() + 31 * 86_400_000));
      expect((await templates.getTemplate({ templateId: liked.id })).template?.recentOwners).toBe(0n);
      expect(
        (
          await sql.query(`select count(*)::int as n from template_uses where template_id = any($1)`, [
            [liked.id, quiet.id, inflated.id],
          ])
        ).rows[0].n,
      ).toBe(0);
    } finally {
      await db.close();
    }
  });
});

describe("publishing limit", () => {
  it("limits how many times one creator publishes, counted once the signature checked out; the refused request spends nothing", async () => {
    const creator = newIdentity();
    const made: Template[] = [];
    for (let i = 0; i <= PUBLISHES; i++) made.push(await createTemplate(creator));
    for (const t of made.slice(0, PUBLISHES)) await publish(creator, t);
    const last = made[PUBLISHES]!;
    const err = await expectCode(publish(creator, last), Code.ResourceExhausted);
    expect(limitExceededOf(err)?.limit).toBe("template publishes per creator");
    expect(limitExceededOf(err)?.retryAfterSeconds).toBeGreaterThan(0);
    expect((await templates.getTemplate({ templateId: last.id }, as(creator))).template?.visibility).toBe(
      Visibility.PRIVATE,
    );
    // Another creator is not held back.
    const other = newIdentity();
    await publish(other, await createTemplate(other));
  });
});

describe("release notes and diffs", () => {
  it("keeps the creator's notes per content version and diffs two versions field by field, instructions as a unified diff", async () => {
    const creator = newIdentity();
    const t = await createTemplate(creator, { instructions: "Line one.\nLine two.\nLine three." });
    const v2 = await publish(creator, t);
    const next = contentFromJson(
      sampleContent({ instructions: "Line one.\nLine 2.\nLine three.", tags: ["travel", "europe"] }),
    );
    const updateSig = await sign(creator, "UpdateTemplate", {
      templateId: t.id,
      version: v2.version,
      contentHash: jsonHash(contentToJson(next)),
    });
    const v3 = (
      await templates.updateTemplate({
        templateId: t.id,
        expectedVersion: v2.version,
        content: next,
        signature: updateSig,
        releaseNotes: "Clearer second line.",
      })
    ).template!;
    const patch = patchToJson(create(TemplatePatchSchema, { description: "Plans trips in Europe" }));
    const result = applyPatch(contentToJson(next), patch);
    const patchSig = await sign(creator, "PatchTemplate", {
      templateId: t.id,
      version: v3.version,
      patchHash: jsonHash(patch),
      contentHash: jsonHash(result),
    });
    await templates.patchTemplate({
      templateId: t.id,
      expectedVersion: v3.version,
      patch: { description: "Plans trips in Europe" },
      signature: patchSig,
      releaseNotes: "Says where.",
    });

    const diff = await templates.diffTemplateVersions(
      { templateId: t.id, fromVersion: 1n, toVersion: 4n },
      as(creator),
    );
    expect(diff.changes.map((c) => [c.field, c.from, c.to])).toEqual([
      ["instructions", "", ""],
      ["description", '"Plans group trips"', '"Plans trips in Europe"'],
      ["tags", '["travel","japan"]', '["travel","europe"]'],
    ]);
    expect(diff.instructionsDiff).toBe(
      "--- v1\n+++ v4\n@@ -1,3 +1,3 @@\n Line one.\n-Line two.\n+Line 2.\n Line three.\n",
    );
    expect(diff.notes.map((n) => [n.version, n.releaseNotes])).toEqual([
      [4n, "Says where."],
      [3n, "Clearer second line."],
    ]);
    const notes = await templates.listReleaseNotes({ templateId: t.id }, as(creator));
    expect(notes.notes.map((n) => [n.version, n.changeSummary, n.releaseNotes])).toEqual([
      [4n, "patch description", "Says where."],
      [3n, "update", "Clearer second line."],
      [1n, "create", ""],
    ]);
    // Anyone else: only versions made while it was public (version 1 was private).
    expect((await templates.listReleaseNotes({ templateId: t.id })).notes.map((n) => n.version)).toEqual([4n, 3n]);
    expect(
      (await templates.diffTemplateVersions({ templateId: t.id, fromVersion: 2n, toVersion: 4n })).changes.length,
    ).toBe(3);
    await expectCode(
      templates.diffTemplateVersions({ templateId: t.id, fromVersion: 1n, toVersion: 4n }),
      Code.NotFound,
    );
    // Equal instructions: no diff.
    expect(
      (await templates.diffTemplateVersions({ templateId: t.id, fromVersion: 3n, toVersion: 4n }, as(creator)))
        .instructionsDiff,
    ).toBe("");

    const noFrom = await expectCode(
      templates.diffTemplateVersions({ templateId: t.id, toVersion: 2n }, as(creator)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(noFrom).map((v) => v.field)).toEqual(["from_version"]);
    await expectCode(
      templates.diffTemplateVersions({ templateId: t.id, fromVersion: 1n, toVersion: 9n }, as(creator)),
      Code.NotFound,
    );
    const longNotes = await expectCode(
      templates.updateTemplate({
        templateId: t.id,
        expectedVersion: 4n,
        content: next,
        releaseNotes: "x".repeat(2_001),
      }),
      Code.InvalidArgument,
    );
    expect(fieldViolations(longNotes).map((v) => v.field)).toEqual(["release_notes"]);
  });
});

describe("POOL_OPERATORS", () => {
  it("takes comma-separated inbox ids and names a malformed one", () => {
    const [a, b] = [newIdentity().inboxId, newIdentity().inboxId];
    expect(parseOperators(` ${a}, ${b},`)).toEqual([a, b]);
    expect(parseOperators("")).toEqual([]);
    expect(() => parseOperators(`${a},alice`)).toThrow('POOL_OPERATORS: "alice" is not an XMTP inbox ID');
  });
});
