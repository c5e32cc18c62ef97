// The pattern pool's SQL on embedded PGlite, as `npm start` runs it with no
// DATABASE_URL: the migration (text[] with a GIN index), an offer and its
// repeat, the quorum, the overlap query, a creator's hold and decisions,
// adoptions and withdrawals, a template's pages, health and the sweep.
// service.int.test.ts covers the same on real PostgreSQL over gRPC.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { LineageEventSchema } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { entities } from "../db/entities.js";
import { applyEvents } from "../lineage/events.js";
import { migrations } from "../db/migrations.js";
import { lessonHash } from "./policy.js";
import {
  countRefusal,
  offerPattern,
  poolHealth,
  queryCandidates,
  recordAdoptions,
  refusalCounts,
  reviewPattern,
  sweepExpiredPatterns,
  templatePatterns,
  withdrawnAdoptions,
} from "./sql.js";

/** Two owners under two templates of two creators, for this test, of agents claimed just now (age and use: quorum.int.test.ts). */
const Q = { owners: 2, templates: 2, creators: 2, agentAgeDays: 0, activeDays: 0 };

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "patterns-embedded-"));
  db = await openDatabase({ name: "lineage", embeddedDir: dir, entities, migrations });
  // The offering agents, as the claims service's feed tells of them.
  const events = ["inst_a", "inst_b"].map((instanceId, i) =>
    create(LineageEventSchema, {
      sequence: BigInt(i + 1),
      event: { case: "claimed", value: { instanceId, templateId: "tmpl_t", ownerId: `owner_${i}` } },
    }),
  );
  await applyEvents(db.em.fork(), events);
}, 60_000);

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const offer = (
  instanceId: string,
  text: string,
  interests = ["category:travel", "tag:japan"],
  by = { ownerId: "owner_a", templateId: "tmpl_t", creatorId: "creator_t" },
  ttlSeconds = 3_600,
) =>
  offerPattern(
    db.em.fork(),
    {
      instanceId,
      ...by,
      interests,
      text,
      textHash: lessonHash(text),
      ttlSeconds,
    },
    Q,
  );

it("offers, finds, adopts, lists, counts and sweeps patterns on embedded PGlite, as npm start runs it", async () => {
  expect(db.embedded).toBe(true);
  const first = await offer("inst_a", "Confirm the dates first.");
  expect(first.created).toBe(true);
  const again = await offer("inst_b", "confirm the dates first", undefined, {
    ownerId: "owner_b",
    templateId: "tmpl_u",
    creatorId: "creator_u",
  });
  expect([
    again.created,
    again.pattern.pattern_id,
    Number(again.pattern.offered_count),
    again.pattern.owner_count,
    again.pattern.template_count,
    again.pattern.creator_count,
  ]).toEqual([false, first.pattern.pattern_id, 2, 2, 2, 2]);
  // One owner's agent alone: no quorum, found by no one.
  const rail = await offer("inst_a", "Offer rail passes.", ["category:trains", "tag:japan"]);

  const em = db.em.fork();
  const c = { instanceId: "inst_c", templateId: "tmpl_v", hold: false };
  expect((await queryCandidates(em, c, ["tag:japan"], Q)).map((r) => r.pattern_id)).toEqual([first.pattern.pattern_id]);
  expect(await queryCandidates(em, { ...c, instanceId: "inst_a" }, ["tag:japan"], Q)).toEqual([]);
  expect(await queryCandidates(em, c, [], Q)).toEqual([]);
  // The creator of inst_c's template holds lessons: none until approved; a rejected one is withdrawn from who adopted it.
  expect(await queryCandidates(em, { ...c, hold: true }, ["tag:japan"], Q)).toEqual([]);
  const signature = create(SignatureSchema, { signature: "0x00", issuedAt: 1n, nonce: "0x01" });
  const decided = { templateId: "tmpl_v", patternId: first.pattern.pattern_id, creatorId: "creator", signature };
  expect(await reviewPattern(em, { ...decided, approve: true })).toBe(true);
  expect(await queryCandidates(em, { ...c, hold: true }, ["tag:japan"], Q)).toHaveLength(1);

  expect(await recordAdoptions(em, "inst_c", [first.pattern.pattern_id, first.pattern.pattern_id])).toBe(1);
  expect(await recordAdoptions(em, "inst_a", [first.pattern.pattern_id])).toBe(0);
  expect(await withdrawnAdoptions(em, c, Q)).toEqual([]);
  // Adopted without the quorum (before the pool had one): withdrawn.
  await recordAdoptions(em, "inst_d", [rail.pattern.pattern_id]);
  expect(await withdrawnAdoptions(em, { ...c, instanceId: "inst_d" }, Q)).toEqual([rail.pattern.pattern_id]);
  await reviewPattern(em, { ...decided, approve: false });
  expect(await queryCandidates(em, c, ["tag:japan"], Q)).toEqual([]);
  expect(await withdrawnAdoptions(em, c, Q)).toEqual([first.pattern.pattern_id]);
  await countRefusal(em, "tmpl_t", "injection");

  const page = await templatePatterns(em, "tmpl_t", { includeExpired: false, limit: 1, pageToken: "", quorum: Q });
  const next = await templatePatterns(em, "tmpl_t", {
    includeExpired: false,
    limit: 1,
    pageToken: page.nextPageToken,
    quorum: Q,
  });
  expect([...page.patterns, ...next.patterns]).toHaveLength(2);
  expect(next.nextPageToken).toBe("");
  expect((await refusalCounts(em, "tmpl_t")).map((r) => [r.reason, r.count])).toEqual([
    ["personal_data", 0n],
    ["secret", 0n],
    ["injection", 1n],
    ["link", 0n],
    ["steering", 0n],
  ]);

  await em.execute(`update patterns set expires_at = now() - interval '31 days' where pattern_id = ?`, [
    first.pattern.pattern_id,
  ]);
  expect(await poolHealth(em, Q)).toEqual({ live: 1n, withQuorum: 0n, expired: 1n, adoptions: 2n });
  expect(await sweepExpiredPatterns(em)).toBe(1);
  expect(await poolHealth(em, Q)).toEqual({ live: 1n, withQuorum: 0n, expired: 0n, adoptions: 1n });
});
