/**
 * Schedules' timers on pg-boss (docs/schedules.md, "Timers"; docs/decisions.md,
 * "Schedules' timers on pg-boss"): one job per item's next occurrence, in the
 * claims service's own PostgreSQL, under the `schedule_timers` schema that
 * pg-boss makes and migrates itself.
 *
 * - A job's id is derived from its firing id, so setting a timer twice (a
 *   retry, the check below, two replicas) makes one job.
 * - A job in flight whose worker died is taken again once it expires, and a
 *   failed delivery is tried again with a backoff: at least once; the firing
 *   id makes it once at the agent.
 * - The item's row is the truth: every minute the timers of items due within
 *   two minutes, or overdue, are set again (no-ops for those that exist), so
 *   a timer lost between an item's write and its job's (a crash in between)
 *   is found before its time: two minutes ahead, not an hour, so the check
 *   sets again about two minutes' firings, not an hour's.
 *
 * On a real PostgreSQL pg-boss has a small pool of its own; on the embedded
 * PGlite (one session), it shares the ORM's one connection, so a timer is
 * never set inside a transaction (it would wait on itself).
 */
import { createHash } from "node:crypto";
import type { Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Pool } from "pg";
import { PgBoss } from "pg-boss";
import { firingId } from "./policy.js";
import { dueItems } from "./sql.js";

export const FIRINGS_QUEUE = "schedule-firings";
export const TIMERS_SCHEMA = "schedule_timers";
/** A delivery in flight longer than this is taken again (the host call's own deadline is shorter). */
const FIRING_EXPIRES_SECONDS = 60;
/** Failed deliveries are tried again from 2 s, doubling to 5 minutes apart, for about a day. */
const RETRY = { retryLimit: 300, retryDelay: 2, retryBackoff: true, retryDelayMax: 300 } as const;
/** How far ahead the check sets timers again (more than how often it runs, so none slips between two), and how often. */
const CHECK_AHEAD_MS = 120_000;
const CHECK_EVERY_MS = 60_000;
const CHECK_BATCH = 10_000;

export interface FiringJob {
  itemId: string;
  /** The occurrence, epoch ms. */
  at: number;
}

export interface Timers {
  /** Sets the timer of the item's occurrence `at`; setting it again is a no-op. Never inside a transaction. */
  set(itemId: string, at: number): Promise<void>;
  /** Sets again the timers of items due within two minutes or overdue (run every minute, and once at the start). */
  check(): Promise<number>;
  stop(): Promise<void>;
}

export interface TimersOptions {
  em: EntityManager;
  /** postgres:// URL: pg-boss's own pool. Absent: the embedded database, through the ORM's connection. */
  databaseUrl?: string | undefined;
  log: Logger;
  /** Delivers one firing; throws to have it tried again. */
  fire(job: FiringJob): Promise<void>;
  /** How often an idle worker looks for due jobs; default 0.5 s, pg-boss's least: a firing is at most that late for the poll. */
  pollingSeconds?: number | undefined;
  /** Firings delivered at once by this replica; default 16. */
  concurrency?: number | undefined;
  /** Whether the check runs on its own every minute; default true (tests call `check()`). */
  checkEveryMinute?: boolean | undefined;
}

/** A UUID made from the firing id: the same occurrence of the same item is always the same job. */
export function jobIdOf(itemId: string, at: number): string {
  const h = createHash("sha256").update(firingId(itemId, at)).digest("hex");
  const variant = ((Number.parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function startTimers(opts: TimersOptions): Promise<Timers> {
  const boss = opts.databaseUrl
    ? new PgBoss({
        connectionString: opts.databaseUrl,
        max: 4,
        schema: TIMERS_SCHEMA,
        application_name: "claims-timers",
      })
    : new PgBoss({ db: await sharedConnection(opts.em), backend: "pglite", schema: TIMERS_SCHEMA });
  boss.on("error", (err: unknown) => opts.log.warn("schedules' timers", { err }));
  await boss.start();
  await boss.createQueue(FIRINGS_QUEUE, { expireInSeconds: FIRING_EXPIRES_SECONDS, ...RETRY });
  await boss.work<FiringJob>(
    FIRINGS_QUEUE,
    { batchSize: 1, localConcurrency: opts.concurrency ?? 16, pollingIntervalSeconds: opts.pollingSeconds ?? 0.5 },
    async ([job]) => {
      if (job) await opts.fire(job.data);
    },
  );
  const set = async (itemId: string, at: number) => {
    await boss.send(FIRINGS_QUEUE, { itemId, at } satisfies FiringJob, {
      id: jobIdOf(itemId, at),
      startAfter: new Date(at),
    });
  };
  const check = async () => {
    const due = await dueItems(opts.em.fork(), new Date(Date.now() + CHECK_AHEAD_MS), CHECK_BATCH);
    for (const d of due) await set(d.id, d.nextAt);
    return due.length;
  };
  await check();
  let timer: NodeJS.Timeout | undefined;
  if (opts.checkEveryMinute ?? true) {
    timer = setInterval(() => {
      check().catch((err: unknown) => opts.log.warn("schedules' timers: the check failed", { err }));
    }, CHECK_EVERY_MS);
    timer.unref();
  }
  return {
    set,
    check,
    async stop() {
      if (timer) clearInterval(timer);
      await boss.stop({ graceful: true, timeout: 10_000 });
    },
  };
}

/**
 * pg-boss on the ORM's own pool: the embedded database has one session, and
 * pg-boss's multi-statement queries want every statement's rows back.
 */
async function sharedConnection(em: EntityManager) {
  const connection = em.getConnection() as unknown as { getNativeClient(): Promise<Pool> };
  const pool = await connection.getNativeClient();
  return {
    async executeSql(text: string, values?: unknown[]) {
      const result = (await pool.query(text, values)) as unknown as { rows: unknown[] } | { rows?: unknown[] }[];
      return Array.isArray(result) ? { rows: result.flatMap((r) => r.rows ?? []) } : result;
    },
  };
}
