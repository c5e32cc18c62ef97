// Schedules' timers (timers.ts) on npm start's embedded database: the real
// pg-boss on a real PGlite, opened as every service opens it (one session,
// behind the kit's socket server, shared with the ORM). The firing is a
// stand-in that records what it is handed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { type Database, openDatabase } from "@convos-pool/kit/service";
import { entities } from "../db/entities.js";
import { migrations } from "../schema/migrations.js";
import { type FiringJob, jobIdOf, startTimers, type Timers } from "./timers.js";

let dir: string;
let db: Database;
let timers: Timers;
const fired: FiringJob[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "claims-timers-"));
  db = await openDatabase({ name: "claims", embeddedDir: dir, entities, migrations });
  timers = await startTimers({
    em: db.em,
    log: createLogger("timers", { level: "silent" }),
    fire: async (job) => {
      fired.push(job);
    },
    pollingSeconds: 0.5,
    checkEveryMinute: false,
  });
}, 120_000);

afterAll(async () => {
  await timers?.stop();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("fires a timer set twice once, on the embedded database, while the ORM shares its one session", async () => {
  const at = Date.now() + 1_000;
  await timers.set("sch_000000000000000000000001", at);
  await timers.set("sch_000000000000000000000001", at);
  // The ORM's own queries go on meanwhile on the same session.
  await db.em.fork().execute(`select count(*) from instances`);
  const end = Date.now() + 20_000;
  while (fired.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1_500));
  expect(fired).toEqual([{ itemId: "sch_000000000000000000000001", at }]);
}, 60_000);

it("names a job by its firing: the same item and occurrence, the same id; another occurrence, another", () => {
  expect(jobIdOf("sch_a", 1_000)).toBe(jobIdOf("sch_a", 1_400));
  expect(jobIdOf("sch_a", 1_000)).not.toBe(jobIdOf("sch_a", 2_000));
  expect(jobIdOf("sch_a", 1_000)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
