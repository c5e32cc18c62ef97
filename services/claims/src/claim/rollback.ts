/**
 * Undoes a failed claim (docs/claims.md, "Rollback"). Tools: each released
 * by its provider and its row deleted; a release that fails twice keeps the
 * row as `release_failed` for the sweep. Instance, by the stage the claim
 * failed at (policy.ts rolledBackTo decides):
 *   provision (not yet contacted) -> idle;
 *   configure                     -> released -> idle, or dead if the release fails too;
 *   join, failed as the instance reported it (the creator did not answer,
 *   the invite was refused)       -> released -> idle: it leaves the conversation, now and
 *                                    whenever the creator adds it later (its join request
 *                                    outlives the claim); dead if the release fails;
 *   join, failed unexpectedly (a fault on its host), complete -> released -> dead.
 * An instance with a tool not released is dead.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { type Logger, whileDatabaseAway } from "@convos-pool/kit/server";
import type { InstanceRuntime } from "../hosts/runtime.js";
import type { PoolTools } from "../tools/provisioning.js";
import type { ToolRef } from "../tools/sql.js";
import type { Stage } from "./errors.js";
import { rolledBackTo } from "./policy.js";
import { endClaim, type ClaimedInstance } from "./sql.js";

export async function rollbackClaim(
  deps: { em: EntityManager; runtime: InstanceRuntime; tools: PoolTools; log: Logger },
  instance: ClaimedInstance,
  claimId: string,
  tools: ToolRef[],
  stage: Stage,
  cause: unknown,
): Promise<void> {
  let toolsReleased = true;
  for (const t of [...tools].reverse()) toolsReleased = (await deps.tools.release(t)) && toolsReleased;
  // One made whose record was not written (the database away at that moment).
  if (stage === "provision" && !(await deps.tools.releaseUnrecorded(instance.id)).complete) {
    // Left `claiming`: once its lease lapses the stale-claim sweep asks the providers again.
    deps.log.warn("claim rolled back; a provider's tools are left to the sweep", { instanceId: instance.id, cause });
    return;
  }
  // The instance was contacted from "configure" on: it lets go of the claim, whatever it holds of it.
  const released =
    stage !== "provision" &&
    (await deps.runtime.release(instance).then(
      () => true,
      () => false,
    ));
  const to = rolledBackTo(stage, { released, toolsReleased, cause });
  try {
    await whileDatabaseAway(() => endClaim(deps.em.fork(), { instanceId: instance.id, claimId, to }));
  } catch (err) {
    // Left `claiming`: the stale-claim sweep marks it dead later.
    deps.log.error("claim rollback could not update the instance", { instanceId: instance.id, err });
  }
  deps.log.warn("claim rolled back", { instanceId: instance.id, stage, instanceNow: to, toolsReleased, cause });
}
