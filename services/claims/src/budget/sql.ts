/**
 * A claim's spend counted in the claims database, in the claim's
 * transaction (docs/limits.md, "What the pool pays for"): the grant's quota
 * under a lock per grant, then the day's budget in one conditional upsert of
 * the day's row, which concurrent claims on any replica wait for in turn and
 * then see each other's spend (PostgreSQL re-checks ON CONFLICT ... WHERE
 * against the newest row). Refused, the transaction rolls back: nothing taken,
 * nothing counted.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { budgetDay, dayBudgetExceeded, quotaExceeded, type PoolBudget, type Spend } from "./policy.js";

/** What a claim counted, to give back when it rolls back. */
export interface Reserved {
  day: string;
  fundsWei: bigint;
  tools: number;
}

/** A grant's tools held now by live agents (being claimed, claimed, crashed). */
export const GRANT_HOLDINGS_SQL = `select coalesce(sum(granted_tools), 0)::int as held from instances
  where grant_subject = ? and state in ('claiming', 'claimed', 'crashed')`;

/**
 * Counts `spend` for the instance `instanceId` just took, inside the claim's
 * transaction `tx`; throws RESOURCE_EXHAUSTED with LimitExceeded when it
 * would pass the grant's quota or the day's budget. Returns what it counted.
 */
export async function reserveSpend(
  tx: EntityManager,
  instanceId: string,
  spend: Spend,
  budget: PoolBudget,
  now = new Date(),
): Promise<Reserved> {
  const { day, secondsLeft } = budgetDay(now);
  if (spend.quota) {
    await tx.execute(`select pg_advisory_xact_lock(hashtextextended('convos-pool/grant/' || ?, 0))`, [
      spend.quota.subject,
    ]);
    const [row] = await tx.execute<{ held: number }[]>(GRANT_HOLDINGS_SQL, [spend.quota.subject]);
    const held = row?.held ?? 0;
    if (held + spend.count > spend.quota.maxLiveTools) throw quotaExceeded(spend.quota, spend.count, held);
  }
  const fundsCap = budget.fundsPerDayWei;
  const toolsCap = budget.toolsPerDay;
  const counted = (spend.fundWei > 0n && fundsCap !== undefined) || (spend.count > 0 && toolsCap !== undefined);
  if (counted) {
    const rows = await tx.execute<{ funds_wei: string; tools: number }[]>(
      `insert into pool_budget_days as d (day, funds_wei, tools)
         select ?::date, ?::numeric, ?::int where ?::numeric <= coalesce(?::numeric, ?::numeric) and ?::int <= coalesce(?::int, ?::int)
       on conflict (day) do update set funds_wei = d.funds_wei + excluded.funds_wei, tools = d.tools + excluded.tools
         where d.funds_wei + excluded.funds_wei <= coalesce(?::numeric, d.funds_wei + excluded.funds_wei)
           and d.tools + excluded.tools <= coalesce(?::int, d.tools + excluded.tools)
       returning funds_wei, tools`,
      [
        day,
        spend.fundWei.toString(),
        spend.count,
        spend.fundWei.toString(),
        fundsCap?.toString() ?? null,
        spend.fundWei.toString(),
        spend.count,
        toolsCap ?? null,
        spend.count,
        fundsCap?.toString() ?? null,
        toolsCap ?? null,
      ],
    );
    if (rows.length === 0) {
      const [spentRow] = await tx.execute<{ funds_wei: string; tools: number }[]>(
        `select funds_wei, tools from pool_budget_days where day = ?::date`,
        [day],
      );
      const spent = { fundsWei: BigInt(spentRow?.funds_wei ?? 0), tools: spentRow?.tools ?? 0 };
      const overFunds = fundsCap !== undefined && spent.fundsWei + spend.fundWei > fundsCap;
      throw dayBudgetExceeded(overFunds ? "funds" : "tools", spend, spent, budget, secondsLeft);
    }
  }
  await tx.execute(
    `update instances set grant_subject = ?, granted_tools = ? where id = ?`,
    [spend.quota?.subject ?? null, spend.count, instanceId],
    "run",
  );
  return counted ? { day, fundsWei: spend.fundWei, tools: spend.count } : { day, fundsWei: 0n, tools: 0 };
}

/** Gives back what a claim that rolled back counted for its day (its tools were released, its funds returned). */
export async function refundSpend(em: EntityManager, r: Reserved): Promise<void> {
  if (r.fundsWei === 0n && r.tools === 0) return;
  await em.execute(
    `update pool_budget_days set funds_wei = greatest(funds_wei - ?::numeric, 0), tools = greatest(tools - ?, 0) where day = ?::date`,
    [r.fundsWei.toString(), r.tools, r.day],
    "run",
  );
}

/** The day's spend, as counted (the bench and operators read it). */
export async function spentOn(em: EntityManager, day: string): Promise<{ fundsWei: bigint; tools: number }> {
  const [row] = await em.execute<{ funds_wei: string; tools: number }[]>(
    `select funds_wei, tools from pool_budget_days where day = ?::date`,
    [day],
  );
  return { fundsWei: BigInt(row?.funds_wei ?? 0), tools: row?.tools ?? 0 };
}
