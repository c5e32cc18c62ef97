// Days with others in SQL (docs/signals.md, "Days with others"): the rule
// of policy.ts `answeredOthers` over version_signals, for an owner's rating
// (OwnerActivityService) and, as a fragment, for the pattern quorum
// (patterns/sql.ts).
import type { EntityManager } from "@mikro-orm/postgresql";
import { MIN_ANSWERS, MIN_PEOPLE } from "./policy.js";

/**
 * The days with others of the agent whose instance id is the SQL expression
 * `instance`, one row (`day`) each; only days on or after the SQL date
 * expression `fromDay` when given. Both are the caller's SQL, never a
 * request's values.
 */
export function daysWithOthersSql(instance: string, fromDay?: string): string {
  return `select s.day from version_signals s
    where s.instance_id = ${instance}${fromDay ? ` and s.day >= ${fromDay}` : ""}
    group by s.day having max(s.people) >= ${MIN_PEOPLE} and sum(s.answers) >= ${MIN_ANSWERS}`;
}

/**
 * The most days with others of any one agent of `templateId` while
 * `ownerId` owned it (`owner_days_from`, kept from the claims feed: the
 * claim's day, or the day after a transfer), ended agents included: policy.ts
 * `ownerDaysAnsweringOthers`. 0 for an inbox that owns none.
 */
export async function ownerDaysWithOthers(em: EntityManager, templateId: string, ownerId: string): Promise<number> {
  const [row] = await em.execute<{ days: number }[]>(
    `select coalesce(max((select count(*) from (${daysWithOthersSql("a.instance_id", "a.owner_days_from")}) d)), 0)::int as days
     from lineage_agents a where a.template_id = ? and a.owner_id = ?`,
    [templateId, ownerId],
  );
  return row?.days ?? 0;
}
