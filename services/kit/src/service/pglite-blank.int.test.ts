// New embedded databases are copies of one blank cluster (pglite-blank.ts):
// each copy a database of its own. The test uses the real blank (made here if
// this user has none yet, and then used by every later embedded database).
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { requireIntegrationTier } from "@convos-pool/testing";
import { afterAll, expect, it } from "vitest";
import { blankClusterDir, hasCluster, seedFromBlank } from "./pglite-blank.js";

requireIntegrationTier("PGlite's initdb");
let root: string;
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

it("copies one blank, kept private to the user, and each copy is a database of its own", {
  timeout: 180_000,
}, async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kit-blank-"));
  const [a, b] = [path.join(root, "a"), path.join(root, "b")];
  await Promise.all([seedFromBlank(a), seedFromBlank(b)]);
  const blank = blankClusterDir();
  expect(hasCluster(a) && hasCluster(b) && hasCluster(blank)).toBe(true);
  expect((await stat(path.dirname(blank))).mode & 0o077).toBe(0);
  // No half-made blank left beside it.
  expect((await readdir(path.dirname(blank))).filter((f) => f.endsWith(".tmp"))).toEqual([]);

  const dbA = await PGlite.create(a);
  await dbA.exec("create table only_in_a (x int); insert into only_in_a values (1)");
  await dbA.close();
  const dbB = await PGlite.create(b);
  const { rows } = await dbB.query<{ n: number }>(
    "select count(*)::int as n from pg_tables where tablename = 'only_in_a'",
  );
  expect(rows[0]!.n).toBe(0);
  await dbB.close();
  const again = await PGlite.create(a);
  expect((await again.query<{ x: number }>("select x from only_in_a")).rows).toEqual([{ x: 1 }]);
  await again.close();
});

it("puts the blank under XDG_CACHE_HOME when set, else ~/.cache, named by PGlite's version", () => {
  expect(blankClusterDir({ XDG_CACHE_HOME: "/c" })).toMatch(/^\/c\/convos-pool\/pglite-\d+\.\d+\.\d+-blank$/);
  expect(blankClusterDir({})).toMatch(new RegExp(`^${os.homedir()}/\\.cache/convos-pool/pglite-`));
});
