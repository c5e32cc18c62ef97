/**
 * The queries that move an instance through a claim. Each runs on its
 * own (autocommit): no transaction is held open while the claim flow
 * talks to providers and instances, which can take seconds.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { InstanceRef } from "../hosts/runtime.js";
import { targetKeySql } from "../db/targets.js";
import { sqlKey } from "../sync/sql.js";

export interface ClaimParams {
  /** Random id of this claim attempt; every later query of the claim checks it. */
  claimId: string;
  /** The proven requester: its owner from the claim on, so the owner's caps count it while it is claiming. */
  ownerId: string;
  /** Pool tools the claim will provision: the owner's tool cap counts them until they exist. */
  toolsReserved?: number;
  templateId: string;
  templateVersion: number;
  agentName: string;
  model: string;
  modelOverridden: boolean;
  userConfig: Record<string, string>;
  /** What the template's agents run on (docs/openclaw.md): only an idle instance on a host of it is taken; default "pool". */
  runtime?: "pool" | "openclaw";
}

export interface ClaimedInstance extends InstanceRef {
  walletIndex: number;
}

/**
 * The atomic claim: moves exactly one idle instance to `claiming`, or none.
 *
 * The subquery locks the first idle row on a host of the template's runtime
 * (oldest wallet first, from the partial index `instances_idle`) that no one else has locked, skipping
 * locked rows instead of waiting for them; the update runs on that row
 * only. Two claims can never lock the same row, and a row whose state
 * another claim changed after this query's snapshot is re-checked
 * against `state = 'idle'` before it is locked (PostgreSQL re-evaluates the
 * qualification on the newest row version), so it is skipped. When no row is
 * returned, every idle row was taken by a concurrent claim: there is no idle
 * instance.
 */
export const CLAIM_SQL = `update instances set
    state = 'claiming', claim_id = ?, claim_started_at = now(), updated_at = now(), owner_id = ?, tools_reserved = ?,
    template_id = ?, template_version = ?, agent_name = ?, model = ?, model_overridden = ?, user_config = ?::jsonb
  where id = (
      select id from instances
      where state = 'idle' and runtime = ?
      order by wallet_index
      for update skip locked
      limit 1)
    and state = 'idle'
  returning id, host_url, inbox_id, wallet_index`;

interface ClaimedRow {
  id: string;
  host_url: string;
  inbox_id: string;
  wallet_index: number;
}

/** CLAIM_SQL's parameters, in order. */
export function claimArgs(p: ClaimParams): unknown[] {
  return [
    p.claimId,
    p.ownerId,
    p.toolsReserved ?? 0,
    p.templateId,
    p.templateVersion,
    p.agentName,
    p.model,
    p.modelOverridden,
    JSON.stringify(p.userConfig),
    p.runtime ?? "pool",
  ];
}

/** Runs CLAIM_SQL; undefined when no instance is idle. */
export async function claimIdleInstance(em: EntityManager, p: ClaimParams): Promise<ClaimedInstance | undefined> {
  const rows = await em.execute<ClaimedRow[]>(CLAIM_SQL, claimArgs(p));
  const r = rows[0];
  return r && { id: r.id, hostUrl: r.host_url, inboxId: r.inbox_id, walletIndex: Number(r.wallet_index) };
}

interface RunResult {
  affectedRows?: number;
}

/** A claim's last step: what its instance becomes once it has joined. */
export interface Completion {
  instanceId: string;
  claimId: string;
  ownerId: string;
  conversationId: string;
  /** The key of the release it was configured with (its template's version, then its bases'). */
  appliedKey: number[];
  clone?: { parentInstanceId: string; carry: string };
  /** The level the agent started at (convos.pool.v1.TrustLevel), as it computes it; 0 when unknown. */
  trustLevel?: number;
  /** The wallet that signed the claim: where the owner's share of the agent's wallet goes at release; none for a session. */
  payoutAddress?: string | undefined;
  /** Its conversation as its invite names it (full-conversation.ts); none when the invite did not parse here. */
  conversationKey?: string | undefined;
}

/**
 * completeClaims' query. Due for instruction sync at once when it is
 * behind its own target (db/targets.ts): a newer release arrived while it
 * was being claimed, or its conversation is in a rollout's share. The lineage outbox's trigger
 * records the claim (migration 0005): the clone's parent is set here, with
 * the state. Each agent claimed gets its home row in `agent_conversations`
 * (migration 0030) in the same query, keyed by its claim's id: no agent
 * is claimed without one. Keys travel as array literals: unnest would
 * flatten an array of arrays.
 */
export const COMPLETE_CLAIMS_SQL = `with claimed as (
   update instances i set state = 'claimed', owner_id = v.owner_id, conversation_id = v.conversation_id, conversation_key = nullif(v.conversation_key, ''), claimed_at = now(), updated_at = now(),
       claim_id = null, claim_started_at = null, claim_renewed_at = null,
       parent_instance_id = nullif(v.parent_instance_id, ''), inheritance_state = nullif(v.inheritance_state, ''), inheritance_carry = v.inheritance_carry,
       inheritance_error = null, trust_level = v.trust_level, applied_key = v.applied_key::int[], payout_address = nullif(v.payout_address, ''),
       sync_next_at = case when ${targetKeySql({
         templateId: "i.template_id",
         conversationId: "v.conversation_id",
         appliedKey: "v.applied_key::int[]",
       })} > v.applied_key::int[] then now() end
     from unnest(array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[],
         array[?]::text[], array[?]::int[], array[?]::text[], array[?]::text[], array[?]::text[])
       as v(instance_id, claim_id, owner_id, conversation_id, parent_instance_id, inheritance_state, inheritance_carry, trust_level, applied_key, payout_address, conversation_key)
     where i.id in (?) and i.owner_id in (?) and i.id = v.instance_id and i.claim_id = v.claim_id and i.owner_id = v.owner_id and i.state = 'claiming'
     returning i.id, v.claim_id as add_id, i.conversation_id, i.conversation_key, i.conversation_name, i.participation, i.claimed_at
   ), home as (
     insert into agent_conversations (instance_id, conversation_id, add_id, conversation_key, conversation_name, home, state, participation, joined_at)
     select id, conversation_id, add_id, conversation_key, conversation_name, true, 'joined', participation, claimed_at from claimed
   )
   select id from claimed`;

/**
 * The held releases of the templates of the instances listed, locked
 * against a push until the transaction ends; and their rollouts, which a
 * push of a rollout writes only after locking the held release too
 * (sync/sql.ts lockHeld).
 */
const LOCK_RELEASES_SQL = `select 1 from template_releases r
     where r.template_id in (select template_id from instances where id in (?))
     order by r.template_id for share of r`;
const LOCK_ROLLOUTS_SQL = `select 1 from template_rollouts ro
     where ro.template_id in (select template_id from instances where id in (?))
     order by ro.template_id for share of ro`;

/**
 * The last step of a batch of claims, in one query: each claiming
 * instance becomes its requester's, claimed. For each, in order, false when
 * its claim no longer holds the instance (the stale-claim sweep took it
 * over): that claim must roll back. The ids and owners listed (`in`) let
 * the query planner find the rows by primary key or by their owners' claims in
 * flight, never by walking every claiming row (docs/performance/claims.md).
 */
export async function completeClaims(em: EntityManager, batch: Completion[]): Promise<boolean[]> {
  if (!em.isInTransaction()) return em.transactional((tx) => completeClaims(tx, batch));
  // The templates' held releases first, shared: a push (sync/sql.ts storeRelease, then markTemplateDue) holds its
  // row from its upsert to its commit. Either it commits first and the query below sees its release, or it
  // waits for this one and marks these instances due as claimed. Without the lock, a push whose marking skipped
  // them (still claiming) and that committed after this query began left them claimed behind, never due.
  // The same for a rollout's push, which locks the held release before it writes its rollout (sync/service.ts).
  await em.execute(LOCK_RELEASES_SQL, [batch.map((p) => p.instanceId)]);
  await em.execute(LOCK_ROLLOUTS_SQL, [batch.map((p) => p.instanceId)]);
  const rows = await em.execute<{ id: string }[]>(COMPLETE_CLAIMS_SQL, [
    batch.map((p) => p.instanceId),
    batch.map((p) => p.claimId),
    batch.map((p) => p.ownerId),
    batch.map((p) => p.conversationId),
    // The platform writes a null in an array as nothing: '' stands for none.
    batch.map((p) => p.clone?.parentInstanceId ?? ""),
    batch.map((p) => (p.clone ? "pending" : "")),
    batch.map((p) => p.clone?.carry ?? ""),
    batch.map((p) => p.trustLevel ?? 0),
    batch.map((p) => sqlKey(p.appliedKey)),
    batch.map((p) => p.payoutAddress ?? ""),
    batch.map((p) => p.conversationKey ?? ""),
    batch.map((p) => p.instanceId),
    batch.map((p) => p.ownerId),
  ]);
  const done = new Set(rows.map((r) => r.id));
  return batch.map((p) => done.has(p.instanceId));
}

/** One claim's last step (completeClaims of one). */
export async function completeClaim(em: EntityManager, p: Completion): Promise<boolean> {
  const [done] = await completeClaims(em, [p]);
  return done === true;
}

/** An agent as the clone and transfer flows need it: where it runs, whose it is, what it runs. */
export interface FlowAgent extends ClaimedInstance {
  state: string;
  ownerId: string | null;
  templateId: string | null;
  model: string | null;
  modelOverridden: boolean;
  userConfig: Record<string, string>;
}

export async function agentForFlow(em: EntityManager, instanceId: string): Promise<FlowAgent | undefined> {
  const [r] = await em.execute<
    (ClaimedRow & {
      state: string;
      owner_id: string | null;
      template_id: string | null;
      model: string | null;
      model_overridden: boolean;
      user_config: Record<string, string> | string;
    })[]
  >(
    `select id, host_url, inbox_id, wallet_index, state, owner_id, template_id, model, model_overridden, user_config from instances where id = ?`,
    [instanceId],
  );
  if (!r) return undefined;
  return {
    id: r.id,
    hostUrl: r.host_url,
    inboxId: r.inbox_id,
    walletIndex: Number(r.wallet_index),
    state: r.state,
    ownerId: r.owner_id,
    templateId: r.template_id,
    model: r.model,
    modelOverridden: r.model_overridden,
    userConfig:
      typeof r.user_config === "string" ? (JSON.parse(r.user_config) as Record<string, string>) : r.user_config,
  };
}

/** Where a clone's summary stands: sent, or failed with the reason (never the summary). Only while pending. */
export async function settleInheritance(
  em: EntityManager,
  instanceId: string,
  outcome: { state: "sent" | "failed"; error?: string },
): Promise<void> {
  await em.execute(
    `update instances set inheritance_state = ?, inheritance_error = ?, updated_at = now() where id = ? and inheritance_state = 'pending'`,
    [outcome.state, outcome.error ?? null, instanceId],
    "run",
  );
}

/** Clones whose claims process died while it waited for the parent: failed, with the reason. */
export async function failStalePending(em: EntityManager, olderThanSeconds: number): Promise<number> {
  const res = await em.execute<RunResult>(
    `update instances set inheritance_state = 'failed',
       inheritance_error = 'the pool stopped before the parent answered; the agent works without its summary'
     where inheritance_state = 'pending' and claimed_at < now() - make_interval(secs => ?)`,
    [olderThanSeconds],
    "run",
  );
  return res.affectedRows ?? 0;
}

/** Records an owner's transfer offer; false when it is not the owner's live agent. */
export async function offerTransfer(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  offer: unknown,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set pending_transfer = ?::jsonb, updated_at = now() where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [JSON.stringify(offer), instanceId, ownerId],
    "run",
  );
  return res.affectedRows === 1;
}

/** The level the agent took (it checked the owner's signature); false when it is not the owner's live agent. */
export async function setTrustLevel(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  level: number,
  dailySpendLimitWei: string,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    // A signed limit replaces one confirmed in Convos (schema/confirmed-limits.ts): any amount holds.
    `update instances set trust_level = ?, daily_spend_limit_wei = ?, daily_spend_limit_confirmation = null, attest_next_at = null, updated_at = now() where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [level, dailySpendLimitWei, instanceId, ownerId],
    "run",
  );
  return res.affectedRows === 1;
}

/** The owner's settings the pool records as the agent took them (jsonb columns of instances). */
export type SettingColumn = "permissions" | "participation";

/**
 * A setting the agent took (it checked the owner's signature); false when it
 * is not the owner's live agent. Both are stated (docs/statement.md): the
 * attestation is due, so the new statement follows within a scan.
 */
export async function setAgentSetting(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  column: SettingColumn,
  value: object,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set ${column === "permissions" ? "permissions" : "participation"} = ?::jsonb, attest_next_at = null, updated_at = now()
     where id = ? and owner_id = ? and state in ('claimed', 'crashed')`,
    [JSON.stringify(value), instanceId, ownerId],
    "run",
  );
  return res.affectedRows === 1;
}

/** The owner's offer to `newOwnerId` forgotten (the agent already voided it): false when it is not open. */
export async function withdrawTransfer(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  newOwnerId: string,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set pending_transfer = null, updated_at = now()
     where id = ? and owner_id = ? and pending_transfer->>'newOwnerId' = ? and state in ('claimed', 'crashed')`,
    [instanceId, ownerId, newOwnerId],
    "run",
  );
  return res.affectedRows === 1;
}

/**
 * The new owner takes it (the agent already did): false when the offer
 * changed meanwhile. `payoutAddress`, the wallet that signed the acceptance,
 * replaces the old owner's: the wallet's owner share is the new owner's now.
 */
export async function completeTransfer(
  em: EntityManager,
  instanceId: string,
  fromOwnerId: string,
  newOwnerId: string,
  payoutAddress: string,
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set owner_id = ?, payout_address = ?, pending_transfer = null, attest_next_at = null, updated_at = now()
     where id = ? and owner_id = ? and pending_transfer->>'newOwnerId' = ? and state in ('claimed', 'crashed')`,
    [newOwnerId, payoutAddress, instanceId, fromOwnerId, newOwnerId],
    "run",
  );
  return res.affectedRows === 1;
}

/** Columns a claim wrote, back to their idle values. */
const UNCLAIM = `claim_id = null, claim_started_at = null, claim_renewed_at = null, template_id = null, template_version = null, applied_key = null, agent_name = '',
  owner_id = null, conversation_id = null, conversation_key = null, conversation_name = null, model = null, model_overridden = false, user_config = '{}', updated_at = now(),
  pinned = false, sync_error = null, sync_attempts = 0, sync_next_at = null, tools_reserved = 0, trust_level = 0, daily_spend_limit_wei = '', daily_spend_limit_confirmation = null, permissions = null, participation = null, statement = null,
  grant_subject = null, granted_tools = 0, payout_address = null`;

/** Whether the instance is claimed by `ownerId` in `conversationId` (a completion whose answer was lost went through). */
export async function isClaimedBy(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  conversationId: string,
): Promise<boolean> {
  const rows = await em.execute(
    `select 1 from instances where id = ? and state = 'claimed' and owner_id = ? and conversation_id = ?`,
    [instanceId, ownerId, conversationId],
  );
  return rows.length === 1;
}

/**
 * Rollback of a claim: the instance goes back to `idle` (clean: it was never
 * given the claim, or released it) or to `dead` (it may hold the claim's
 * state: the pool replaces it). Only while this claim still holds it.
 */
export async function endClaim(
  em: EntityManager,
  p: { instanceId: string; claimId: string; to: "idle" | "dead" },
): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set state = ?, ${UNCLAIM} where id = ? and claim_id = ? and state = 'claiming'`,
    [p.to, p.instanceId, p.claimId],
    "run",
  );
  return res.affectedRows === 1;
}

/**
 * Claims whose lease ran out (`leaseSeconds` since it was last renewed: their
 * claims process died or hung, as a live one renews every few seconds):
 * marked dead, at most `limit` at a time, and returned with the claim they
 * held so the sweep can release their tools and the instances and settle
 * the claim's idempotency key.
 */
/**
 * The sweep's query (takeStaleClaims): the stale rows are chosen once (a
 * materialized CTE). As a subquery in FROM the query planner could rescan it for
 * every claiming row, which with thousands of claims in flight took seconds
 * of CPU every sweep (docs/performance/claims.md). Parameters: the lease in seconds, the limit.
 */
export const STALE_CLAIMS_SQL = `with stale as materialized (
      select id, claim_id from instances
      where state = 'claiming' and coalesce(claim_renewed_at, claim_started_at) < now() - make_interval(secs => ?)
      for update skip locked
      limit ?)
  update instances i set state = 'dead', ${UNCLAIM}
  from stale
  where i.id = stale.id and i.state = 'claiming'
  returning i.id, i.host_url, i.inbox_id, i.wallet_index, stale.claim_id as old_claim_id`;

export async function takeStaleClaims(
  em: EntityManager,
  leaseSeconds: number,
  limit = 100,
): Promise<(InstanceRef & { claimId: string })[]> {
  const rows = await em.execute<(ClaimedRow & { old_claim_id: string })[]>(STALE_CLAIMS_SQL, [leaseSeconds, limit]);
  return rows.map((r) => ({ id: r.id, hostUrl: r.host_url, inboxId: r.inbox_id, claimId: r.old_claim_id }));
}

/** Renews the lease of the claims this process has in flight (the sweep leaves them alone while it does). */
export async function renewClaims(em: EntityManager, claimIds: readonly string[]): Promise<void> {
  if (claimIds.length === 0) return;
  await em.execute(
    `update instances set claim_renewed_at = now() where claim_id in (?) and state = 'claiming'`,
    [claimIds],
    "run",
  );
}

/**
 * An owner removes their agent: `dead`, keeping who owned it and what it ran
 * (the creator's dashboard still lists it), no longer due for updates. Only
 * the owner's live agent; undefined otherwise.
 */
export async function markRemoved(
  em: EntityManager,
  instanceId: string,
  ownerId: string,
  payoutAddress?: string,
): Promise<InstanceRef | undefined> {
  const rows = await em.execute<ClaimedRow[]>(
    `update instances set state = 'dead', pinned = false, sync_next_at = null, updated_at = now(), end_reason = 'removed by its owner',
       payout_address = coalesce(payout_address, ?)
     where id = ? and owner_id = ? and state in ('claimed', 'crashed')
     returning id, host_url, inbox_id, wallet_index`,
    [payoutAddress ?? null, instanceId, ownerId],
  );
  const r = rows[0];
  return r && { id: r.id, hostUrl: r.host_url, inboxId: r.inbox_id };
}
