// The pattern pool's SQL on embedded PGlite, as `npm start` runs it with no
// DATABASE_URL: the migration (text[] with a GIN index), an offer and its
// repeat, the overlap query, adoptions, a template's pages, health and the
// sweep. patterns.int.test.ts covers the same on real PostgreSQL over gRPC.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase, type Database } from "@convos-pool/kit/db";
import { entities } from "./entities.js";
import { migrations } from "./migrations.js";
import { lessonHash } from "./patterns-policy.js";
import {
  countRefusal,
  offerPattern,
  poolHealth,
  queryCandidates,
  recordAdoptions,
  refusalCounts,
  sweepExpiredPatterns,
  templatePatterns,
} from "./patterns-queries.js";

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "patterns-embedded-"));
  db = await openDatabase({ name: "lineage", embeddedDir: dir, entities, migrations });
}, 60_000);

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const offer = (instanceId: string, text: string, interests = ["category:travel", "tag:japan"], ttlSeconds = 3_600) =>
  offerPattern(db.em.fork(), {
    instanceId,
    templateId: "tmpl_t",
    interests,
    text,
    textHash: lessonHash(text),
    ttlSeconds,
  });

it("offers, finds, adopts, lists, counts and sweeps patterns on embedded PGlite, as npm start runs it", async () => {
  expect(db.embedded).toBe(true);
  const first = await offer("inst_a", "Confirm the dates first.");
  expect(first.created).toBe(true);
  const again = await offer("inst_b", "confirm the dates first");
  expect([again.created, again.pattern.pattern_id, Number(again.pattern.offered_count)]).toEqual([
    false,
    first.pattern.pattern_id,
    2,
  ]);
  await offer("inst_a", "Offer rail passes.", ["category:trains"]);

  const em = db.em.fork();
  expect((await queryCandidates(em, "inst_c", ["tag:japan"])).map((r) => r.pattern_id)).toEqual([
    first.pattern.pattern_id,
  ]);
  expect(await queryCandidates(em, "inst_a", ["tag:japan"])).toEqual([]);
  expect(await queryCandidates(em, "inst_c", [])).toEqual([]);

  expect(await recordAdoptions(em, "inst_c", [first.pattern.pattern_id, first.pattern.pattern_id])).toBe(1);
  expect(await recordAdoptions(em, "inst_a", [first.pattern.pattern_id])).toBe(0);
  await countRefusal(em, "tmpl_t", "injection");

  const page = await templatePatterns(em, "tmpl_t", { includeExpired: false, limit: 1, pageToken: "" });
  const next = await templatePatterns(em, "tmpl_t", { includeExpired: false, limit: 1, pageToken: page.nextPageToken });
  expect([...page.patterns, ...next.patterns]).toHaveLength(2);
  expect(next.nextPageToken).toBe("");
  expect((await refusalCounts(em, "tmpl_t")).map((r) => [r.reason, r.count])).toEqual([
    ["personal_data", 0n],
    ["secret", 0n],
    ["injection", 1n],
  ]);

  await em.execute(`update patterns set expires_at = now() - interval '31 days' where pattern_id = ?`, [
    first.pattern.pattern_id,
  ]);
  expect(await poolHealth(em)).toEqual({ live: 1n, expired: 1n, adoptions: 1n });
  expect(await sweepExpiredPatterns(em)).toBe(1);
  expect(await poolHealth(em)).toEqual({ live: 1n, expired: 0n, adoptions: 0n });
});
