/**
 * One firing, carried out (docs/schedules.md, "The firing"): the item read
 * as it stands, the plan made (policy.ts `planFiring`), the firing delivered
 * to the host the agent is placed on now, then the item moved on to its next
 * occurrence and that timer set. At least once: a delivery that fails throws,
 * and the timer tries it again, on whichever host the agent is on by then.
 * The agent keeps the firing ids it has done, so it posts and pays once.
 *
 *   stage                          | a crash here leaves              | what happens next
 *   read, plan                     | nothing done                     | the job runs again
 *   delivered, not moved on        | the agent did it, next_at as was | the job runs again: the host answers already_done
 *   moved on, next timer not set   | next_at set, no job              | the check sets it (timers.ts), within a minute
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ScheduleHosts } from "./hosts.js";
import { planFiring } from "./policy.js";
import { advance, agentPlace, lockItem, setPause } from "./sql.js";
import type { FiringJob } from "./timers.js";
import { itemMessage } from "./wire.js";

export interface FiringDeps {
  em: EntityManager;
  hosts: ScheduleHosts;
  /** Sets the next timer (timers.ts); never called inside a transaction. */
  setTimer(itemId: string, at: number): Promise<void>;
  now(): number;
  log: Logger;
}

export async function fire(deps: FiringDeps, job: FiringJob): Promise<void> {
  const em = deps.em.fork();
  const item = await lockItem(em, job.itemId);
  const plan = planFiring(item, job.at, deps.now());
  if (plan.kind === "drop" || !item) {
    deps.log.info("schedule firing dropped", { itemId: job.itemId, why: plan.kind === "drop" ? plan.why : "" });
    return;
  }
  const place = await agentPlace(em, item.instanceId);
  // A release or a removal pauses the agent's items in its own transaction; one that is gone has none to fire.
  if (!place || place.state === "dead") return;
  // Tried again until the host mover has put it on another host (host_url follows the move).
  if (place.hostLost) throw new Error(`the host of ${item.instanceId} is lost; its firing waits for the move`);
  let alreadyDone: boolean;
  try {
    alreadyDone = await deps.hosts.fire(place.hostUrl, {
      firingId: plan.firingId,
      item: itemMessage(item),
      occurrenceAt: job.at,
    });
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.FailedPrecondition) {
      await em.transactional((tx) => setPause(tx, item.id, "left"));
      deps.log.warn("schedule paused: the agent is no longer in its conversation", { itemId: item.id });
      return;
    }
    throw err;
  }
  const movedOn = await em.transactional((tx) => advance(tx, item.id, job.at, plan.next, plan.firingId));
  deps.log.info("schedule fired", { firingId: plan.firingId, host: place.hostUrl, alreadyDone, next: plan.next });
  if (movedOn && plan.next !== null) await deps.setTimer(item.id, plan.next);
}
