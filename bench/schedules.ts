// Schedules' timers (docs/performance/schedules.md): how late firings come
// out of the claims service's timers (services/claims/src/schedules/timers.ts,
// pg-boss, as the service starts it) with many timers pending, beside an
// anchor: the same firings as plain rows, polled by as many workers with
// `FOR UPDATE SKIP LOCKED`, in the same run on the same PostgreSQL. Real:
// PostgreSQL (scripts/with-postgres.sh), pg-boss, the timers' code. Stand-in:
// the firing, which only notes when it ran (no host, no agent), so the
// figures are the engine's alone.
//
//   npm run bench:schedules
//   BENCH_SCHEDULES_PENDING   timers pending far ahead in each engine (default 1,000,000; quick 2,000)
//   BENCH_SCHEDULES_PER_MIN   firings due a minute (default 1,000; quick 600)
//   BENCH_SCHEDULES_SECONDS   how long firings come due (default 60; quick 5)
//   BENCH_SCHEDULES_HOST_AGENTS  agents whose host is killed in their reminders' minute (default 10; quick: not run)
//
// Then two more figures: a host SIGKILLed in the minute its agents'
// reminders are due, on the pool's real processes (schedules-failover.ts),
// and a weekly 9:00 across a daylight-saving change, on a test clock
// (schedules-dst.ts).
import { createLogger } from "@convos-pool/kit/server";
import { openDatabase } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import pg from "pg";
import { PgBoss } from "pg-boss";
import {
  claimsEntities as entities,
  claimsMigrations as migrations,
  FIRINGS_QUEUE,
  startTimers,
  TIMERS_SCHEMA,
} from "@convos-pool/claims";
import { closeAll, figures, QUICK, size } from "./lib.js";
import { atNineEveryWeek, DST_WORDS, dstFirings, dstLines } from "./schedules-dst.js";
import { failoverLines, hostKilledAtDue } from "./schedules-failover.js";

const PENDING = size("BENCH_SCHEDULES_PENDING", 1_000_000, 2_000);
const PER_MIN = size("BENCH_SCHEDULES_PER_MIN", 1_000, 600);
const SECONDS = size("BENCH_SCHEDULES_SECONDS", 60, 5);
const HOST_AGENTS = QUICK && !process.env.BENCH_SCHEDULES_HOST_AGENTS ? 0 : size("BENCH_SCHEDULES_HOST_AGENTS", 10, 1);
/** The service's own settings (timers.ts): 16 at once, an idle worker polls every half second. */
const WORKERS = 16;
const POLL_MS = 500;
/** Goals (issue 80): p99 lateness at most 1 s at 1,000 firings a minute with 1,000,000 pending. */
const GOAL_P99_MS = 1_000;
const FAR_AHEAD_MS = 30 * 24 * 3_600_000;
const BATCH = 10_000;

const firings = Math.round((PER_MIN * SECONDS) / 60);
/** The due times: evenly over the window, starting a few seconds from `t0`. */
const dueTimes = (t0: number) =>
  Array.from({ length: firings }, (_, i) => t0 + 3_000 + Math.floor((i * SECONDS * 1000) / firings));

async function untilAll(got: () => number, want: number, lastDue: number) {
  const end = lastDue + 60_000;
  while (got() < want && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
}

/** pg-boss through the service's timers: the firings' lateness, ms. */
async function poweredByTimers(url: string): Promise<{ lateness: number[]; ids: string[]; setupS: number }> {
  const db = await openDatabase({ name: "claims", url, entities, migrations, poolSize: 4 });
  const lateness: number[] = [];
  const ids: string[] = [];
  const timers = await startTimers({
    em: db.em,
    databaseUrl: url,
    log: createLogger("bench", { level: "warn" }),
    fire: async (job) => {
      lateness.push(Date.now() - job.at);
      ids.push(job.itemId);
    },
    concurrency: WORKERS,
    pollingSeconds: POLL_MS / 1000,
    checkEveryMinute: false,
  });
  const setup = Date.now();
  // The pending ones, far ahead, written as pg-boss writes a batch.
  const writer = new PgBoss({ connectionString: url, schema: TIMERS_SCHEMA, supervise: false, schedule: false });
  await writer.start();
  for (let i = 0; i < PENDING; i += BATCH) {
    const n = Math.min(BATCH, PENDING - i);
    await writer.insert(
      FIRINGS_QUEUE,
      Array.from({ length: n }, (_, k) => ({
        data: { itemId: `sch_pending_${i + k}`, at: Date.now() + FAR_AHEAD_MS },
        startAfter: new Date(Date.now() + FAR_AHEAD_MS),
      })),
    );
  }
  const setupS = (Date.now() - setup) / 1000;
  const due = dueTimes(Date.now());
  for (const [i, at] of due.entries()) await timers.set(`sch_due_${i}`, at);
  await untilAll(() => lateness.length, firings, due.at(-1) ?? Date.now());
  await closeAll([
    ["the writer", () => writer.stop({ graceful: false })],
    ["the timers", () => timers.stop()],
    ["the database", () => db.close()],
  ]);
  return { lateness, ids, setupS };
}

/** The anchor: plain rows, WORKERS loops taking due ones with FOR UPDATE SKIP LOCKED, idle ones polling. */
async function plainRows(url: string): Promise<number[]> {
  const pool = new pg.Pool({ connectionString: url, max: WORKERS + 2 });
  await pool.query(
    `create table bench_timers (id bigserial primary key, due_at timestamptz(3) not null, fired_at timestamptz(3))`,
  );
  await pool.query(`create index bench_timers_due on bench_timers (due_at) where fired_at is null`);
  await pool.query(`insert into bench_timers (due_at) select now() + interval '30 days' from generate_series(1, $1)`, [
    PENDING,
  ]);
  await pool.query(`analyze bench_timers`);
  const due = dueTimes(Date.now());
  await pool.query(`insert into bench_timers (due_at) select unnest($1::timestamptz[])`, [due.map((d) => new Date(d))]);
  const lateness: number[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const { rows } = await pool.query<{ due_at: Date }>(
        `with t as (select id from bench_timers where fired_at is null and due_at <= now()
                     order by due_at limit 1 for update skip locked)
         update bench_timers b set fired_at = now() from t where b.id = t.id returning b.due_at`,
      );
      const row = rows[0];
      if (row) lateness.push(Date.now() - row.due_at.getTime());
      else await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  await untilAll(() => lateness.length, firings, due.at(-1) ?? Date.now());
  stop = true;
  await Promise.all(workers);
  await pool.end();
  return lateness;
}

const line = (name: string, ms: number[]) => {
  const f = figures(ms);
  const max = Math.max(...ms);
  return `${name.padEnd(34)} ${String(ms.length).padStart(6)} of ${firings}   p50 ${f.p50.toFixed(0).padStart(5)} ms   p99 ${f.p99.toFixed(0).padStart(5)} ms   max ${max.toFixed(0).padStart(5)} ms`;
};

const started = Date.now();
const boss = await poweredByTimers(await createTestDatabase("bench_schedules_boss"));
const anchor = await plainRows(await createTestDatabase("bench_schedules_rows"));
const p99 = figures(boss.lateness).p99;
const out = [
  `bench:schedules${QUICK ? " (quick: the figures mean nothing)" : ""}: ${PENDING.toLocaleString("en")} pending, ${PER_MIN.toLocaleString("en")} firings a minute for ${SECONDS} s, ${WORKERS} workers, idle poll ${POLL_MS} ms`,
  `pending timers written in ${boss.setupS.toFixed(1)} s (pg-boss insert, ${BATCH.toLocaleString("en")} a batch)`,
  "",
  "lateness (ran − due)",
  line("timers (pg-boss, timers.ts)", boss.lateness),
  line("anchor: rows, FOR UPDATE SKIP LOCKED", anchor),
  "",
  `goal: p99 ≤ ${GOAL_P99_MS} ms: ${p99 <= GOAL_P99_MS && boss.lateness.length === firings ? "met" : "missed"} (${p99.toFixed(0)} ms); every firing once: ${boss.ids.length === firings && new Set(boss.ids).size === firings ? "yes" : "no"}`,
];
process.stdout.write(`${out.join("\n")}\n\n`);
const dst = dstFirings();
process.stdout.write(
  `${[
    `"${DST_WORDS}" across daylight-saving changes (claims policy.ts on a test clock)`,
    ...dstLines(dst),
    `goal: a weekly 9:00 fires at 9:00 local both weeks: ${atNineEveryWeek(dst) ? "met" : "missed"}`,
  ].join("\n")}\n\n`,
);
if (HOST_AGENTS > 0) {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(failoverLines(await hostKilledAtDue(HOST_AGENTS, say)).lines.join("\n"));
} else process.stdout.write("a host killed in its reminders' minute: not run in quick mode\n");
process.stdout.write(`${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(0);
