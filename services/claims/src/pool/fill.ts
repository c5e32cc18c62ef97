/**
 * The warm pool's fill (manager.ts, step 3): new instances until `target`
 * are idle or starting for each runtime its hosts run (a pool with OpenClaw
 * hosts keeps OpenClaw agents warm too: docs/openclaw.md), placed by free
 * places (policy.ts planFill) on the hosts of that runtime that answered
 * and are not draining, `startConcurrency` at once. Each is a row
 * (`starting`, its wallet index from the sequence), StartInstance on its
 * host, then `idle` with its inbox.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { forEachLimited, type Logger } from "@convos-pool/kit/server";
import type { HostRuntime, InstanceHost } from "../hosts/instance-host.js";
import { planFill } from "./policy.js";
import { markIdle, registerInstance, setState } from "./sql.js";

/** The manager's options the fill reads (PoolManagerOptions). */
export interface FillOptions {
  em: EntityManager;
  log: Logger;
  hosts: InstanceHost[];
  /** How many instances to keep idle (or starting), per runtime. */
  target: number;
  /** Instances started at once; default 8. */
  startConcurrency?: number | undefined;
}

/** What the pass learnt of the hosts that answered it. */
export interface FillView {
  /** How many instances each host that answered runs. */
  counts: Map<string, number>;
  /** Each answering host's size. */
  capacity: Map<string, number>;
  /** What each answering host's agents run on. */
  runtime: Map<string, HostRuntime>;
  report: { started: number; failedStarts: number };
}

/** Starts what the pool lacks; none once `stopped` says the manager stops. */
export async function fillPool(
  opts: FillOptions,
  pass: FillView,
  draining: ReadonlySet<string>,
  stopped: () => boolean,
): Promise<void> {
  const { em, log } = opts;
  const warm = await em
    .fork()
    .execute<{ runtime: string; n: number }[]>(
      `select runtime, count(*)::int as n from instances where state in ('idle', 'starting') group by runtime`,
    );
  const open = opts.hosts.filter((h) => pass.counts.has(h.url) && !draining.has(h.url));
  const plan = planFill(
    opts.target,
    new Map(warm.map((w) => [w.runtime, Number(w.n)])),
    open,
    (h) => pass.runtime.get(h.url) ?? "pool",
    pass.counts,
    pass.capacity,
  );
  for (const short of plan.unplaced)
    log.warn("no instance host has a free place for another instance", {
      hosts: short.hosts,
      runtime: short.runtime,
      missing: short.missing,
    });
  if (plan.placements.length === 0) return;
  await forEachLimited(plan.placements, opts.startConcurrency ?? 8, async ({ host, runtime }) => {
    if (stopped()) return;
    if (await startOne(opts, host, runtime)) pass.report.started++;
    else pass.report.failedStarts++;
  });
}

async function startOne(
  opts: Pick<FillOptions, "em" | "log">,
  host: InstanceHost,
  runtime: HostRuntime,
): Promise<boolean> {
  const { em, log } = opts;
  const { id, walletIndex } = await registerInstance(em.fork(), host.url, runtime);
  try {
    const { inboxId } = await host.start(id, walletIndex);
    if (await markIdle(em.fork(), id, inboxId)) return true;
  } catch (err) {
    log.warn("instance did not start", { instanceId: id, host: host.url, err });
  }
  await setState(em.fork(), id, ["starting"], "dead");
  await host.stop(id, true).catch(() => {});
  return false;
}
