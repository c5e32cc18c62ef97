// What the pool records of a step its owner confirmed in Convos, as the agent
// says it applied it: the trust level and permissions its pages show. The
// daily spending limit is recorded only when it is no higher than the one
// recorded (the owner's signed one, or one lowered since): the pool's payment
// signer holds payments to it, and an agent's word alone never raises it
// (docs/trust.md, "Confirmations in Convos").

import type { EntityManager } from "@mikro-orm/postgresql";
import type { ResolvedPermissions } from "@convos-pool/kit/content";
import { setAgentSetting } from "../claim/sql.js";

interface RunResult {
  affectedRows: number;
}

/** The level as applied, the limit only if it does not raise the recorded one; false when not the owner's live agent. */
export async function recordConfirmedTrust(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  level: number,
  dailySpendLimitWei: string,
): Promise<boolean> {
  const limit = dailySpendLimitWei === "0" ? "" : dailySpendLimitWei;
  const res = await em.execute<RunResult>(
    `update instances set trust_level = ?,
       daily_spend_limit_wei = case when coalesce(nullif(?, ''), '0')::numeric <= coalesce(nullif(daily_spend_limit_wei, ''), '0')::numeric
         then ? else daily_spend_limit_wei end,
       attest_next_at = null, updated_at = now()
     where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [level, limit, limit, instanceId, ownerId],
    "run",
  );
  return res.affectedRows === 1;
}

/** The permissions as applied. */
export function recordConfirmedPermissions(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  permissions: ResolvedPermissions,
): Promise<boolean> {
  return setAgentSetting(em, instanceId, ownerId, "permissions", permissions);
}
