/**
 * The statements of an agent's wallet's money (docs/tools.md, "Whose money a
 * wallet holds"): its row locked while funds move, so that a withdrawal and
 * a release (on any replica) never split the same balance twice, and a
 * wallet marked held for its owner.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ToolRef, ToolState } from "../claim/sql.js";

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
  await tx.execute(
    `update provisioned_tools set state = 'held' where instance_id = ? and tool_id = ?`,
    [instanceId, toolId],
    "run",
  );
}

/** A held wallet declared again (a later version): the agent has it back, in use. */
export async function reactivateWallet(em: EntityManager, instanceId: string, toolId: string): Promise<void> {
  await em.execute(
    `update provisioned_tools set state = 'active' where instance_id = ? and tool_id = ? and state = 'held'`,
    [instanceId, toolId],
    "run",
  );
}
