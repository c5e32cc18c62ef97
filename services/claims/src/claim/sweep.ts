/**
 * Cleans up after claims processes that died mid-claim (docs/claims.md): a
 * claim's process renews its lease while the claim is in flight
 * (ClaimFlow.renewLeases); one whose lease ran out belongs to a process that
 * died. Every replica sweeps; stale claims are taken with locked rows
 * skipped (sql.ts takeStaleClaims), so two sweeps never take the same one.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Logger } from "@convos-pool/kit/server";
import { failStaleKeys } from "./idempotency-keys.js";
import { failStalePending, takeStaleClaims } from "./sql.js";
import { toolsToRelease } from "../tools/sql.js";
import type { PoolTools } from "../tools/provisioning.js";
import type { InstanceRuntime } from "../hosts/runtime.js";

/** How long a parent asked for its summary may stay pending: its owner's signature has expired by then. */
const PENDING_INHERITANCE_SECONDS = 600;

/** How long a dead instance's own removal or rollback has to release its tools before the sweep does. */
const DEAD_HOLDER_SECONDS = 30;

/**
 * Instances whose claim's lease ran out become dead (they leave the
 * conversation) and their tools are released; the claims' keys say they
 * failed; tools whose release failed before, or that a dead instance still
 * holds, are tried again.
 */
export async function sweepClaims(
  deps: { em: EntityManager; runtime: InstanceRuntime; tools: PoolTools; log: Logger },
  leaseSeconds: number,
): Promise<{ staleClaims: number; toolsReleased: number }> {
  const stale = await takeStaleClaims(deps.em.fork(), leaseSeconds);
  await failStaleKeys(
    deps.em.fork(),
    leaseSeconds,
    "the claims process handling this claim stopped before it finished; the agent was taken back, try again with a new key",
  );
  // A parent asked in a claims process that died.
  await failStalePending(deps.em.fork(), PENDING_INHERITANCE_SECONDS);
  for (const instance of stale) await deps.runtime.release(instance).catch(() => {});
  const tools = await toolsToRelease(
    deps.em.fork(),
    stale.map((s) => s.id),
    DEAD_HOLDER_SECONDS,
  );
  let released = 0;
  for (const t of tools) if (await deps.tools.release(t)) released++;
  // A tool its provider made just before the process died has no record: given back by instance.
  for (const instance of stale) released += (await deps.tools.releaseUnrecorded(instance.id)).released;
  if (stale.length > 0 || tools.length > 0) {
    deps.log.warn("sweep", {
      staleClaims: stale.length,
      toolsReleased: released,
      toolsLeft: tools.length - released,
    });
  }
  return { staleClaims: stale.length, toolsReleased: released };
}
