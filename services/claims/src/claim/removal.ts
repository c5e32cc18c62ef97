/**
 * An owner removes their agent (RemoveAgent, docs/claims.md): dead, with the
 * nonce of the owner's signature spent in the same transaction; then it
 * leaves its conversation (Release) and its tools go back to their
 * providers. A host that does not answer: the agent is dead anyway, and the
 * pool manager stops and destroys it once its host answers again. The
 * wallet that signed the removal is where the owner's money in the agent's
 * wallet goes when the claim named none (a claim made with a session).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Logger } from "@convos-pool/kit/server";
import { markRemoved } from "./sql.js";
import { toolsToRelease } from "../tools/sql.js";
import type { PoolTools } from "../tools/provisioning.js";
import type { InstanceRuntime } from "../hosts/runtime.js";

/** Removes the owner's agent; false when it is not the owner's live agent (any more). */
export async function removeAgent(
  deps: { em: EntityManager; runtime: InstanceRuntime; tools: PoolTools; log: Logger },
  instanceId: string,
  ownerId: string,
  spendNonce: (tx: EntityManager) => Promise<void>,
  signer?: string,
): Promise<boolean> {
  const removed = await deps.em.fork().transactional(async (tx) => {
    await spendNonce(tx);
    return markRemoved(tx, instanceId, ownerId, signer);
  });
  if (!removed) return false;
  await deps.runtime.release(removed).catch((err: unknown) =>
    deps.log.warn("a removed agent's host did not answer; the pool manager destroys it later", {
      instanceId,
      err,
    }),
  );
  let toolsLeft = 0;
  const tools = (await toolsToRelease(deps.em.fork(), [instanceId])).filter((t) => t.instanceId === instanceId);
  for (const t of tools) if (!(await deps.tools.release(t))) toolsLeft++;
  deps.log.info("agent removed by its owner", { instanceId, toolsLeft });
  return true;
}
