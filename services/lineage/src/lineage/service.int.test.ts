// The lineage service over gRPC on real PostgreSQL, with the real templates
// service (who created a template, whether it is public). Events are fed as
// the claims service's relay feeds them (its credential, LineageEventService);
// services/claims/src/sync/lineage-relay.int.test.ts feeds them from real claims.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LineageEventSchema,
  LineageEventService,
  type LineageEvent,
} from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import pg from "pg";
import { CALLER_HEADER, fieldViolations } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, type ServiceClient } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { startTemplateService, type RunningTemplateService } from "@convos-pool/templates";
import { startLineageService, type RunningLineageService } from "../server.js";

const creds = generateServiceCredentials();
let templates: RunningTemplateService;
let service: RunningLineageService;
let feedSc: ServiceClient<typeof LineageEventService>;
let lineageSc: ServiceClient<typeof LineageService>;
let templatesSc: ServiceClient<typeof TemplateService>;
let feed: Client<typeof LineageEventService>;
let lineage: Client<typeof LineageService>;
let sequence = 0n;
let lineageDb: string;

const as = (who: TestIdentity) => ({ headers: { [CALLER_HEADER]: who.inboxId } });
const inst = () => `inst_${randomBytes(8).toString("hex")}`;
const at = (minutesAgo: number) => timestampFromDate(new Date(Date.now() - minutesAgo * 60_000));

function claimed(
  instanceId: string,
  templateId: string,
  owner: TestIdentity,
  parent = "",
  carry: string[] = [],
  minutesAgo = 0,
): LineageEvent {
  return create(LineageEventSchema, {
    sequence: ++sequence,
    at: at(minutesAgo),
    event: {
      case: "claimed",
      value: {
        instanceId,
        templateId,
        ownerId: owner.inboxId,
        parentInstanceId: parent,
        conversationId: `conv-${instanceId}`,
        carry,
      },
    },
  });
}
const ended = (instanceId: string, reason = "removed by its owner") =>
  create(LineageEventSchema, {
    sequence: ++sequence,
    at: at(0),
    event: { case: "ended", value: { instanceId, reason } },
  });
const ownerChanged = (instanceId: string, to: TestIdentity) =>
  create(LineageEventSchema, {
    sequence: ++sequence,
    at: at(0),
    event: { case: "ownerChanged", value: { instanceId, ownerId: to.inboxId } },
  });

async function refused(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code, err?.rawMessage ?? "it answered").toBe(code);
  return err!;
}

/** A query on the lineage service's own database (what the service keeps, beneath its API). */
async function onLineageDb<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: lineageDb });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  templates = await startTemplateService({
    databaseUrl: await createTestDatabase("lineage_templates"),
    credentials: creds.templates,
  });
  lineageDb = await createTestDatabase("lineage");
  service = await startLineageService({
    databaseUrl: lineageDb,
    credentials: creds.lineage,
    templatesUrl: templates.url,
  });
  feedSc = createServiceClient(LineageEventService, service.url, creds.claims);
  lineageSc = createServiceClient(LineageService, service.url, creds.gateway);
  templatesSc = createServiceClient(TemplateService, templates.url, creds.gateway);
  feed = feedSc.client;
  lineage = lineageSc.client;
}, 60_000);

afterAll(async () => {
  for (const sc of [feedSc, lineageSc, templatesSc]) sc?.close();
  await service?.close();
  await templates?.close();
});

describe("the event feed", () => {
  it("applies each event once and in order, whatever is sent again", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const a = inst();
    const b = inst();
    const events = [claimed(a, t.id, owner), claimed(b, t.id, owner, a, ["training"])];
    expect((await feed.recordLineageEvents({ events })).applied).toBe(2);
    // The same batch again (an answer lost), and a batch overlapping it: only what is new counts.
    expect((await feed.recordLineageEvents({ events })).applied).toBe(0);
    const end = ended(a);
    expect((await feed.recordLineageEvents({ events: [...events, end] })).applied).toBe(1);
    const got = await lineage.getLineage({ instanceId: b }, as(owner));
    expect(got.instance).toMatchObject({ instanceId: b, parentInstanceId: a, depth: 1, carry: ["training"] });
    expect(got.ancestors.map((n) => [n.instanceId, n.endedAt !== undefined])).toEqual([[a, true]]);
  });

  it("applies a lower sequence that arrives after a higher one, since the outbox takes a sequence before its transaction commits", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const [late, early] = [inst(), inst()];
    const lateEvent = claimed(late, t.id, owner); // sequence n: its transaction commits last
    const earlyEvent = claimed(early, t.id, owner); // sequence n + 1
    expect((await feed.recordLineageEvents({ events: [earlyEvent] })).applied).toBe(1);
    expect((await feed.recordLineageEvents({ events: [lateEvent] })).applied).toBe(1);
    expect((await feed.recordLineageEvents({ events: [lateEvent, earlyEvent] })).applied).toBe(0);
    expect((await lineage.getLineage({ instanceId: late }, as(owner))).instance?.instanceId).toBe(late);
  });

  it("gives a fresh agent and a clone of an agent it never heard of depth 0, and each clone its parent's depth plus one", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const [fresh, orphan, child, grandchild] = [inst(), inst(), inst(), inst()];
    const unknown = inst();
    await feed.recordLineageEvents({
      events: [
        claimed(fresh, t.id, owner),
        claimed(orphan, t.id, owner, unknown),
        claimed(child, t.id, owner, orphan),
        claimed(grandchild, t.id, owner, child),
      ],
    });
    const depth = async (id: string) => (await lineage.getLineage({ instanceId: id }, as(owner))).instance!;
    expect(await depth(fresh)).toMatchObject({ depth: 0, parentInstanceId: "" });
    // The edge is kept as sent, though lineage has no row above it.
    expect(await depth(orphan)).toMatchObject({ depth: 0, parentInstanceId: unknown });
    expect(await depth(child)).toMatchObject({ depth: 1, parentInstanceId: orphan });
    expect(await depth(grandchild)).toMatchObject({ depth: 2, parentInstanceId: child });
    expect((await lineage.getLineage({ instanceId: orphan }, as(owner))).ancestors).toEqual([]);
  });

  it("keeps only the newest owner when an owner change is sent again after a later one", async () => {
    const creator = newIdentity();
    const [first, second, third] = [newIdentity(), newIdentity(), newIdentity()];
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const a = inst();
    const claim = claimed(a, t.id, first);
    const toSecond = ownerChanged(a, second);
    await feed.recordLineageEvents({ events: [claim, toSecond, ownerChanged(a, third)] });
    expect((await feed.recordLineageEvents({ events: [toSecond] })).applied).toBe(0);
    expect((await lineage.getLineage({ instanceId: a }, as(third))).instance?.ownerId).toBe(third.inboxId);
    await refused(lineage.getLineage({ instanceId: a }, as(second)), Code.NotFound);
  });

  it("forgets sequences applied over a day ago under a floor that still skips them", async () => {
    const creator = newIdentity();
    const owner = newIdentity();
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const a = inst();
    const old = claimed(a, t.id, owner);
    await feed.recordLineageEvents({ events: [old] });
    await onLineageDb(`update lineage_applied set applied_at = now() - interval '2 days' where sequence = $1`, [
      old.sequence.toString(),
    ]);
    // The next call prunes it, raising the floor over it.
    expect((await feed.recordLineageEvents({ events: [ended(a)] })).applied).toBe(1);
    expect(
      await onLineageDb(`select sequence from lineage_applied where sequence = $1`, [old.sequence.toString()]),
    ).toEqual([]);
    const [floor] = await onLineageDb<{ applied_sequence: string }>(`select applied_sequence from lineage_feed`);
    expect(BigInt(floor!.applied_sequence)).toBeGreaterThanOrEqual(old.sequence);
    expect((await feed.recordLineageEvents({ events: [old] })).applied).toBe(0);
  });

  it("refuses an incomplete event, naming its field, and applies nothing of that call", async () => {
    const owner = newIdentity();
    const a = inst();
    const good = claimed(a, "tmpl_0000000000000000", owner);
    const noTemplate = create(LineageEventSchema, {
      sequence: ++sequence,
      event: { case: "claimed", value: { instanceId: inst(), ownerId: owner.inboxId } },
    });
    const err = await refused(feed.recordLineageEvents({ events: [good, noTemplate] }), Code.InvalidArgument);
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["events[1].claimed.template_id"]);
    const noOwner = create(LineageEventSchema, {
      sequence: ++sequence,
      event: { case: "ownerChanged", value: { instanceId: a } },
    });
    expect(
      fieldViolations(await refused(feed.recordLineageEvents({ events: [noOwner] }), Code.InvalidArgument)).map(
        (v) => v.field,
      ),
    ).toEqual(["events[0].owner_changed.owner_id"]);
    // Nothing of the refused call was applied: the good event counts when sent again.
    expect((await feed.recordLineageEvents({ events: [good] })).applied).toBe(1);
  });

  it("refuses events out of order or without a kind, naming the field, and callers other than the claims service", async () => {
    const bad = create(LineageEventSchema, { sequence: 5n });
    expect((await refused(feed.recordLineageEvents({ events: [bad] }), Code.InvalidArgument)).rawMessage).toContain(
      "events[0].event",
    );
    const e1 = create(LineageEventSchema, { sequence: 10n, event: { case: "ended", value: { instanceId: "x" } } });
    const e2 = create(LineageEventSchema, { sequence: 9n, event: { case: "ended", value: { instanceId: "x" } } });
    expect((await refused(feed.recordLineageEvents({ events: [e1, e2] }), Code.InvalidArgument)).rawMessage).toContain(
      "events[1].sequence",
    );
    const asGateway = createServiceClient(LineageEventService, service.url, creds.gateway);
    await refused(asGateway.client.recordLineageEvents({ events: [] }), Code.PermissionDenied);
    asGateway.close();
    const asClaims = createServiceClient(LineageService, service.url, creds.claims);
    await refused(asClaims.client.getLineage({ instanceId: inst() }), Code.PermissionDenied);
    asClaims.close();
  });
});

describe("LineageService", () => {
  const creator = newIdentity();
  const owner = newIdentity();
  const other = newIdentity();
  let templateId: string;
  // root -> child1 -> grandchild; root -> child2 (another owner's, by transfer); root ends.
  const root = inst();
  const child1 = inst();
  const child2 = inst();
  const grandchild = inst();

  beforeAll(async () => {
    templateId = (await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }))).id;
    await feed.recordLineageEvents({
      events: [
        claimed(root, templateId, owner, "", [], 10),
        claimed(child1, templateId, owner, root, ["training", "personalization"], 8),
        claimed(child2, templateId, owner, root, ["training"], 6),
        claimed(grandchild, templateId, owner, child1, ["training"], 4),
        ownerChanged(child2, other),
        ended(root),
      ],
    });
  });

  it("gives an agent's ancestors nearest first, its children and the whole tree below, the ended parent shown ended and its clones live", async () => {
    const g = await lineage.getLineage({ instanceId: grandchild }, as(owner));
    expect(g.instance).toMatchObject({
      instanceId: grandchild,
      depth: 2,
      parentInstanceId: child1,
      conversationId: `conv-${grandchild}`,
    });
    expect(g.ancestors.map((n) => n.instanceId)).toEqual([child1, root]);
    expect(g.ancestors[1]!.endedAt).toBeDefined();
    expect(g.ancestors[0]!.endedAt).toBeUndefined();
    const r = await lineage.getLineage({ instanceId: root }, as(owner));
    expect(r.instance?.endedAt).toBeDefined();
    expect(r.instance?.childrenCount).toBe(2);
    expect(r.children.map((n) => n.instanceId).sort()).toEqual([child1, child2].sort());
    expect(r.descendants.map((n) => n.instanceId)).toEqual([child1, child2, grandchild]);
    expect(r.descendants.every((n) => n.endedAt === undefined)).toBe(true);
    // child2 is someone else's now: its conversation is theirs.
    expect(r.children.find((n) => n.instanceId === child2)).toMatchObject({
      ownerId: other.inboxId,
      conversationId: "",
    });
  });

  it("shows an agent's lineage to its owner and its template's creator only", async () => {
    expect((await lineage.getLineage({ instanceId: child2 }, as(other))).instance?.ownerId).toBe(other.inboxId);
    const byCreator = await lineage.getLineage({ instanceId: root }, as(creator));
    expect(byCreator.children.find((n) => n.instanceId === child2)?.conversationId).toBe(`conv-${child2}`);
    await refused(lineage.getLineage({ instanceId: child1 }, as(other)), Code.NotFound);
    await refused(lineage.getLineage({ instanceId: inst() }, as(owner)), Code.NotFound);
    await refused(lineage.getLineage({ instanceId: child1 }), Code.Unauthenticated);
    expect(
      fieldViolations(await refused(lineage.getLineage({ instanceId: "nope" }, as(owner)), Code.InvalidArgument)).map(
        (v) => v.field,
      ),
    ).toEqual(["instance_id"]);
  });

  it("blanks the conversations of agents someone else owns, unless the caller created their template", async () => {
    // child2's new owner sees the tree above it, but not the conversations of the agents that are not theirs.
    const up = await lineage.getLineage({ instanceId: child2 }, as(other));
    expect(up.instance?.conversationId).toBe(`conv-${child2}`);
    expect(up.ancestors.map((n) => [n.instanceId, n.conversationId])).toEqual([[root, ""]]);
    // The creator who also owns an agent of the template sees them all from there, as on the dashboard.
    const own = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const mine = inst();
    const theirs = inst();
    await feed.recordLineageEvents({ events: [claimed(mine, own.id, creator), claimed(theirs, own.id, other, mine)] });
    const fromMine = await lineage.getLineage({ instanceId: mine }, as(creator));
    expect(fromMine.children.map((n) => [n.instanceId, n.ownerId, n.conversationId])).toEqual([
      [theirs, other.inboxId, `conv-${theirs}`],
    ]);
    // Their owner does not see the creator's conversation.
    expect(
      (await lineage.getLineage({ instanceId: theirs }, as(other))).ancestors.map((n) => n.conversationId),
    ).toEqual([""]);
  });

  it("gives the creator the template's dashboard: live, ended, clones, depth, agents per owner", async () => {
    const d = await lineage.getTemplateDashboard({ templateId }, as(creator));
    expect(d).toMatchObject({
      templateId,
      liveCount: 3n,
      totalCount: 4n,
      endedCount: 1n,
      cloneCount: 3n,
      liveCloneCount: 3n,
      maxDepth: 2,
    });
    expect(d.owners.map((o) => [o.ownerId, o.live, o.total])).toEqual([
      [owner.inboxId, 2n, 3n],
      [other.inboxId, 1n, 1n],
    ]);
    await refused(lineage.getTemplateDashboard({ templateId }, as(owner)), Code.PermissionDenied);
    const secret = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }), "private");
    expect((await lineage.getTemplateDashboard({ templateId: secret.id }, as(creator))).totalCount).toBe(0n);
    await refused(lineage.getTemplateDashboard({ templateId: secret.id }, as(owner)), Code.NotFound);
    await refused(lineage.getTemplateDashboard({ templateId: "tmpl_0000000000000000" }, as(creator)), Code.NotFound);
    await refused(lineage.getTemplateDashboard({ templateId }), Code.Unauthenticated);
    expect(
      (await refused(lineage.getTemplateDashboard({ templateId: "x" }, as(creator)), Code.InvalidArgument)).rawMessage,
    ).toContain("template_id");
  });

  it("gives the creator the template's usage per day: claims, and agents live at some moment of each day", async () => {
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const elsewhere = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    const [a, b, c] = [inst(), inst(), inst()];
    const [first, second] = [newIdentity(), newIdentity()];
    const day = 24 * 60;
    await feed.recordLineageEvents({
      events: [
        claimed(a, t.id, first, "", [], 3 * day),
        claimed(b, t.id, second, "", [], day),
        claimed(c, t.id, first, b, ["training"], 0),
        // Another template's agent counts nowhere here.
        claimed(inst(), elsewhere.id, first, "", [], 0),
      ],
    });
    // a ended two days ago: live that day, not the day after.
    await feed.recordLineageEvents({
      events: [
        create(LineageEventSchema, {
          sequence: ++sequence,
          at: at(2 * day),
          event: { case: "ended", value: { instanceId: a, reason: "removed by its owner" } },
        }),
      ],
    });
    const d = await lineage.getTemplateDashboard({ templateId: t.id, days: 5 }, as(creator));
    const today = new Date().toISOString().slice(0, 10);
    expect(d.usage.at(-1)?.day).toBe(today);
    expect(d.usage.map((u) => [u.claims, u.activeAgents])).toEqual([
      [0n, 0n],
      [1n, 1n],
      [0n, 1n],
      [1n, 1n],
      [1n, 2n],
    ]);
    expect((await lineage.getTemplateDashboard({ templateId: t.id }, as(creator))).usage).toHaveLength(30);
    expect(
      (await refused(lineage.getTemplateDashboard({ templateId: t.id, days: 91 }, as(creator)), Code.InvalidArgument))
        .rawMessage,
    ).toContain("days");
    // Nobody but the creator reads it: an owner of its agents neither.
    await refused(lineage.getTemplateDashboard({ templateId: t.id, days: 5 }, as(first)), Code.PermissionDenied);
    await refused(lineage.getTemplateDashboard({ templateId: t.id, days: 5 }), Code.Unauthenticated);
  });

  it("answers an archived template's dashboard to its creator and NOT_FOUND to anyone else, as a missing template", async () => {
    const t = await signedTemplate(templatesSc.client, creator, sampleContent({ tools: [] }));
    await feed.recordLineageEvents({ events: [claimed(inst(), t.id, newIdentity())] });
    await templatesSc.client.archiveTemplate({
      templateId: t.id,
      expectedVersion: t.version,
      signature: await signOperation(creator.account, "ArchiveTemplate", {
        inboxId: creator.inboxId,
        templateId: t.id,
        version: t.version,
      }),
    });
    expect(await lineage.getTemplateDashboard({ templateId: t.id }, as(creator))).toMatchObject({
      liveCount: 1n,
      totalCount: 1n,
    });
    const archived = await refused(lineage.getTemplateDashboard({ templateId: t.id }, as(owner)), Code.NotFound);
    const missing = await refused(
      lineage.getTemplateDashboard({ templateId: "tmpl_0000000000000000" }, as(owner)),
      Code.NotFound,
    );
    expect(archived.rawMessage.replace(t.id, "ID")).toBe(missing.rawMessage.replace("tmpl_0000000000000000", "ID"));
  });

  it("lists an owner's agents newest first in pages, ended ones when asked, to that owner only", async () => {
    const live = await lineage.listOwnerLineage({ ownerId: owner.inboxId }, as(owner));
    expect(live.agents.map((n) => n.instanceId)).toEqual([grandchild, child1]);
    const all = await lineage.listOwnerLineage({ ownerId: owner.inboxId, includeEnded: true, pageSize: 2 }, as(owner));
    expect(all.agents.map((n) => n.instanceId)).toEqual([grandchild, child1]);
    const next = await lineage.listOwnerLineage(
      { ownerId: owner.inboxId, includeEnded: true, pageSize: 2, pageToken: all.nextPageToken },
      as(owner),
    );
    expect(next.agents.map((n) => [n.instanceId, n.childrenCount])).toEqual([[root, 2]]);
    expect(next.nextPageToken).toBe("");
    await refused(lineage.listOwnerLineage({ ownerId: owner.inboxId }, as(other)), Code.PermissionDenied);
    expect(
      (await refused(lineage.listOwnerLineage({ ownerId: "x" }, as(owner)), Code.InvalidArgument)).rawMessage,
    ).toContain("owner_id");
    expect(
      (
        await refused(
          lineage.listOwnerLineage({ ownerId: owner.inboxId, pageSize: 500 }, as(owner)),
          Code.InvalidArgument,
        )
      ).rawMessage,
    ).toContain("page_size");
    const forged = await refused(
      lineage.listOwnerLineage({ ownerId: owner.inboxId, pageToken: "bm90LWEtdG9rZW4" }, as(owner)),
      Code.InvalidArgument,
    );
    expect(fieldViolations(forged).map((v) => v.field)).toEqual(["page_token"]);
    await refused(lineage.listOwnerLineage({ ownerId: owner.inboxId }), Code.Unauthenticated);
  });
});
