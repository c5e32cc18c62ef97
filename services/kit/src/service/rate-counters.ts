/**
 * Rate counters in the service's own PostgreSQL (table `rate_counters`), so
 * that every replica of a service counts against one allowance
 * (docs/limits.md). The counting is rate-limiter-flexible's
 * RateLimiterPostgres: one atomic upsert per request (INSERT … ON CONFLICT
 * DO UPDATE … RETURNING), over the ORM's own `pg` pool. The table comes from
 * the migration below, never from the library (`tableCreated`), and expired
 * rows are pruned by the service's lifetime, not by the library's timers.
 */
import { Migration } from "@mikro-orm/migrations";
import type { EntityManager } from "@mikro-orm/postgresql";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import type { MigrationEntry } from "./db.js";
import type { RateStore } from "../server/limits.js";

export const RATE_COUNTERS_TABLE = "rate_counters";

/** The library's layout (key, points, expire in epoch ms), a text key, and an index for pruning. */
export class CreateRateCounters extends Migration {
  override up(): void {
    this.addSql(`create table if not exists ${RATE_COUNTERS_TABLE} (
      key text primary key,
      points integer not null default 0,
      expire bigint
    )`);
    this.addSql(`create index if not exists rate_counters_expire_idx on ${RATE_COUNTERS_TABLE} (expire)`);
  }

  override down(): void {
    this.addSql(`drop table if exists ${RATE_COUNTERS_TABLE}`);
  }
}

/** Ready-made entry for `DatabaseOptions.migrations` of every service that limits a rate. */
export const rateCountersMigration: MigrationEntry = {
  name: "kit_0002_rate_counters",
  class: CreateRateCounters,
};

interface Query {
  text: string;
  values?: unknown[];
  name?: string;
}

/**
 * Counters in the database of `em`, shared by every process that opens it.
 * Queries go through the ORM's `pg` pool (the embedded database's single
 * session too), outside any transaction of the request. Once a key is over
 * its limit, this process answers its further requests until the window
 * ends from memory (the library's in-memory block), so a flood of refused
 * requests costs the database one query per replica, not one each.
 */
export function postgresRates(em: EntityManager): RateStore {
  const connection = em.getConnection();
  // A client in the library's terms: anything with query(); the pool is the ORM's, made on its first use.
  // Unnamed queries: the embedded database keeps one session under every connection the pool opens in
  // turn, so a query the library prepared under a name on one would already exist for the next (42P05).
  const client = {
    query: async ({ text, values }: Query) =>
      (await connection.getNativeClient()).query(values ? { text, values } : { text }),
  };
  return {
    limiter: (prefix, rate) =>
      new RateLimiterPostgres({
        storeClient: client,
        storeType: "client",
        tableName: RATE_COUNTERS_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: prefix,
        points: rate.points,
        duration: rate.seconds,
        inMemoryBlockOnConsumed: rate.points + 1,
      }),
  };
}

/** Deletes counters whose window ended (a later request starts a new row anyway); returns how many. */
export async function pruneRateCounters(em: EntityManager, now = Date.now()): Promise<number> {
  const res = await em.execute<{ affectedRows?: number }>(
    `delete from ${RATE_COUNTERS_TABLE} where expire < ?`,
    [now],
    "run",
  );
  return res.affectedRows ?? 0;
}
