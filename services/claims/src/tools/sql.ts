/**
 * The queries of pool tools (docs/tools.md). A tool's record
 * (`provisioned_tools`): written as soon as its provider made it, its secrets
 * sealed (secrets.ts), deleted once it is given back, or kept for the sweep
 * (`release_failed`) or for its owner (`held`). An agent's wallet's money
 * ("Whose money a wallet holds"): its row locked while funds move, so that a
 * withdrawal and a release (on any replica) never split the same balance
 * twice, and a wallet marked held for its owner. A tool that leaves an agent
 * makes its attestation due, with the statement of what it may do.
 */
import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * Records a provisioned tool; false when a row is there already (kept as it
 * is): the instance's for that tool id, or one with the same provider and
 * handle. Every unique index is an arbiter: two deliveries given the same
 * resource by an idempotent provider race on the handle as much as on the
 * tool id, and with only the tool id as arbiter the loser failed on the
 * handle's index.
 */
export async function insertProvisionedTool(
  em: EntityManager,
  t: ToolRef & { grantedWei?: bigint | undefined },
): Promise<boolean> {
  const inserted = await em.execute<{ tool_id: string }[]>(
    `insert into provisioned_tools (instance_id, tool_id, provider, handle, secret, granted_wei) values (?, ?, ?, ?, ?, ?)
     on conflict do nothing returning tool_id`,
    [t.instanceId, t.toolId, t.provider, t.handle, t.secret, (t.grantedWei ?? 0n).toString()],
  );
  return inserted.length === 1;
}

/** An instance's recorded tool for a tool id, active or waiting for its release. */
export async function provisionedTool(
  em: EntityManager,
  instanceId: string,
  toolId: string,
): Promise<(ToolRef & { state: ToolState }) | undefined> {
  const [r] = await em.execute<{ provider: string; handle: string; secret: Uint8Array | null; state: ToolState }[]>(
    `select provider, handle, secret, state from provisioned_tools where instance_id = ? and tool_id = ?`,
    [instanceId, toolId],
  );
  return r && { instanceId, toolId, provider: r.provider, handle: r.handle, secret: r.secret, state: r.state };
}

/** What the faucet granted the instance's wallet when it made it (0 without a wallet, or one made before grants were recorded). */
export async function grantedWei(em: EntityManager, instanceId: string): Promise<bigint> {
  const [r] = await em.execute<{ granted_wei: string }[]>(
    `select granted_wei::text as granted_wei from provisioned_tools where instance_id = ? and tool_id = 'crypto'`,
    [instanceId],
  );
  return r ? BigInt(r.granted_wei) : 0n;
}

/**
 * The tail of a write to tool rows, given `left_tool (instance_id, was)`, the
 * rows as they were. A tool that was active and is not any more (given back,
 * held, its release failed) leaves the agent's signed statement of what it
 * may do, which lists the active ones (docs/statement.md). So the agent's
 * attestation is due at once, as after any change of what it states, and
 * the new statement follows within a scan, whatever took the tool: a
 * version's release, or a removal without one. Only a claimed agent: a dead
 * one states nothing.
 */
const DUE_WHEN_LEFT = `update instances set attest_next_at = null
  where state = 'claimed' and id in (select instance_id from left_tool where was = 'active')`;

/** A tool row's new state, with its agent due when it was active (DUE_WHEN_LEFT). */
async function setToolState(
  em: EntityManager,
  instanceId: string,
  toolId: string,
  state: "release_failed" | "held",
): Promise<void> {
  await em.execute(
    `with left_tool as (
       update provisioned_tools t set state = ? from provisioned_tools w
       where t.instance_id = ? and t.tool_id = ? and w.instance_id = t.instance_id and w.tool_id = t.tool_id
       returning t.instance_id, w.state as was)
     ${DUE_WHEN_LEFT}`,
    [state, instanceId, toolId],
    "run",
  );
}

/** A tool given back; its agent due when it was active (DUE_WHEN_LEFT). */
export async function deleteProvisionedTool(em: EntityManager, instanceId: string, toolId: string): Promise<void> {
  await em.execute(
    `with left_tool as (
       delete from provisioned_tools where instance_id = ? and tool_id = ? returning instance_id, state as was)
     ${DUE_WHEN_LEFT}`,
    [instanceId, toolId],
    "run",
  );
}

export async function markToolReleaseFailed(em: EntityManager, instanceId: string, toolId: string): Promise<void> {
  await setToolState(em, instanceId, toolId, "release_failed");
}

/** A recorded tool: in use, its release to be retried, or a wallet held for its owner (docs/tools.md). */
export type ToolState = "active" | "release_failed" | "held";

export interface ToolRef {
  instanceId: string;
  toolId: string;
  provider: string;
  handle: string;
  /** The sealed secrets (secrets.ts); null when the tool has none. */
  secret: Uint8Array | null;
}

/**
 * Tools to release: every tool of the given instances, every tool whose
 * release failed before, and every tool still held by an instance dead for
 * `deadForSeconds` (a release that failed while the database was away could
 * not even be marked failed; the wait keeps the sweep off a removal or
 * rollback still releasing them itself). Releases are idempotent. Never a
 * wallet held for its owner: only the owner's withdrawal ends that.
 */
export async function toolsToRelease(
  em: EntityManager,
  instanceIds: string[],
  deadForSeconds?: number,
): Promise<ToolRef[]> {
  const of = [
    "t.state = 'release_failed'",
    ...(instanceIds.length > 0 ? ["t.instance_id in (?)"] : []),
    ...(deadForSeconds !== undefined
      ? [
          `exists (select 1 from instances i where i.id = t.instance_id and i.state = 'dead'
             and i.updated_at < now() - make_interval(secs => ?))`,
        ]
      : []),
  ];
  const rows = await em.execute<
    { instance_id: string; tool_id: string; provider: string; handle: string; secret: Uint8Array | null }[]
  >(
    `select t.instance_id, t.tool_id, t.provider, t.handle, t.secret from provisioned_tools t
     where t.state <> 'held' and (${of.join(" or ")}) order by t.created_at limit 1000`,
    [...(instanceIds.length > 0 ? [instanceIds] : []), ...(deadForSeconds !== undefined ? [deadForSeconds] : [])],
  );
  return rows.map((r) => ({
    instanceId: r.instance_id,
    toolId: r.tool_id,
    provider: r.provider,
    handle: r.handle,
    secret: r.secret,
  }));
}

/** A wallet's row with whose money it holds, locked until the transaction ends. */
export interface LockedWallet extends ToolRef {
  state: ToolState;
  /** What the faucet gave it: the pool's share is at most this. */
  grantedWei: bigint;
  /** The owner's payout address; undefined when the claim was not signed (a session) or predates it. */
  payoutAddress: `0x${string}` | undefined;
  ownerId: string | null;
}

/** Locks a tool's row (FOR UPDATE) and reads it with its instance's payout address; undefined when it is gone. */
export async function lockWallet(
  tx: EntityManager,
  instanceId: string,
  toolId: string,
): Promise<LockedWallet | undefined> {
  const [r] = await tx.execute<
    {
      provider: string;
      handle: string;
      secret: Uint8Array | null;
      state: ToolState;
      granted_wei: string;
      payout_address: string | null;
      owner_id: string | null;
    }[]
  >(
    `select t.provider, t.handle, t.secret, t.state, t.granted_wei::text as granted_wei, i.payout_address, i.owner_id
     from provisioned_tools t join instances i on i.id = t.instance_id
     where t.instance_id = ? and t.tool_id = ? for update of t`,
    [instanceId, toolId],
  );
  if (!r) return undefined;
  return {
    instanceId,
    toolId,
    provider: r.provider,
    handle: r.handle,
    secret: r.secret,
    state: r.state,
    grantedWei: BigInt(r.granted_wei),
    payoutAddress: (r.payout_address ?? undefined) as `0x${string}` | undefined,
    ownerId: r.owner_id,
  };
}

/** The wallet stays with its key, for its owner to withdraw; the sweep leaves it alone. */
export async function markWalletHeld(tx: EntityManager, instanceId: string, toolId: string): Promise<void> {
  await setToolState(tx, instanceId, toolId, "held");
}

/** A held wallet declared again (a later version): the agent has it back, in use. */
export async function reactivateWallet(em: EntityManager, instanceId: string, toolId: string): Promise<void> {
  await em.execute(
    `update provisioned_tools set state = 'active' where instance_id = ? and tool_id = ? and state = 'held'`,
    [instanceId, toolId],
    "run",
  );
}
