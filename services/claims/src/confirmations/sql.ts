// What the pool records of a step its owner confirmed in Convos, as the agent
// says it applied it: the trust level and permissions its pages show. The
// daily spending limit is recorded when it is no higher than the one
// recorded (the agent's word may lower it), or, raised, only as a limit
// confirmed in Convos: asked by the owner's session through the pool
// (`confirmation_asks`, written here), heard by the agent, once, up to the
// cap (signer/confirmed.ts decides; docs/security.md, "Agents' money").

import type { EntityManager } from "@mikro-orm/postgresql";
import type { ResolvedPermissions } from "@convos-pool/kit/content";
import { setAgentSetting } from "../claim/sql.js";
import type { AskedLimit } from "../signer/confirmed.js";

interface RunResult {
  affectedRows: number;
}

/** Asks kept this long: a confirmation waits for its owner's answer a few minutes at most. */
const ASKS_KEPT = "1 day";

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

/** The level and a limit confirmed in Convos, under the confirmation that set it, and its ask's nonce spent. */
export async function recordConfirmedLimit(
  tx: EntityManager,
  instanceId: string,
  ownerId: string,
  level: number,
  dailySpendLimitWei: bigint,
  confirmationId: string,
): Promise<boolean> {
  const res = await tx.execute<RunResult>(
    `update instances set trust_level = ?, daily_spend_limit_wei = ?, daily_spend_limit_confirmation = ?,
       attest_next_at = null, updated_at = now()
     where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [level, dailySpendLimitWei.toString(), confirmationId, instanceId, ownerId],
    "run",
  );
  await tx.execute(`update confirmation_asks set recorded_at = now() where id = ?`, [confirmationId], "run");
  return res.affectedRows === 1;
}

/** The limit recorded now for the agent (wei; 0 none). */
export async function recordedLimit(em: EntityManager, instanceId: string): Promise<bigint> {
  const [r] = await em.execute<{ limit: string }[]>(
    `select daily_spend_limit_wei as limit from instances where id = ?`,
    [instanceId],
  );
  const limit = r?.limit.trim() ?? "";
  return /^\d+$/.test(limit) ? BigInt(limit) : 0n;
}

/** A set_trust_level step the owner's session asked, under the agent's nonce; asks past a day are let go. */
export async function writeAsk(em: EntityManager, ask: Omit<AskedLimit, "recorded">): Promise<void> {
  await em.execute(`delete from confirmation_asks where asked_at < now() - interval '${ASKS_KEPT}'`, [], "run");
  await em.execute(
    `insert into confirmation_asks (id, instance_id, asked_by, trust_level, daily_spend_limit_wei, digest)
     values (?, ?, ?, ?, ?, ?) on conflict (id) do nothing`,
    [ask.id, ask.instanceId, ask.askedBy, ask.trustLevel, ask.dailySpendLimitWei.toString(), ask.digest],
    "run",
  );
}

/** The ask under `id`, locked until `tx` ends; undefined when no session asked it through the pool. */
export async function lockAsk(tx: EntityManager, id: string): Promise<AskedLimit | undefined> {
  const [r] = await tx.execute<
    {
      id: string;
      instance_id: string;
      asked_by: string;
      trust_level: number;
      daily_spend_limit_wei: string;
      digest: string;
      recorded: boolean;
    }[]
  >(
    `select id, instance_id, asked_by, trust_level, daily_spend_limit_wei, digest, recorded_at is not null as recorded
       from confirmation_asks where id = ? for update`,
    [id],
  );
  if (!r) return undefined;
  return {
    id: r.id,
    instanceId: r.instance_id,
    askedBy: r.asked_by,
    trustLevel: r.trust_level,
    dailySpendLimitWei: BigInt(r.daily_spend_limit_wei),
    digest: r.digest,
    recorded: r.recorded,
  };
}

/** The agent's owner now; undefined when it has none. */
export async function ownerOf(em: EntityManager, instanceId: string): Promise<string | undefined> {
  const [r] = await em.execute<{ owner_id: string | null }[]>(`select owner_id from instances where id = ?`, [
    instanceId,
  ]);
  return r?.owner_id ?? undefined;
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
