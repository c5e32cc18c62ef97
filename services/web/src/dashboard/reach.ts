// What the dashboard says of the newest version reaching the agents, from
// what each live agent runs (ReleaseReach.running), not from the release it
// follows: before, a version not yet released to all (the first one, or one
// in a rollout) read "N live agents run older versions" whatever they ran.
import type { ReleaseReach } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";

export interface ReachView {
  /** One sentence: how many run the newest version, what the others run, and what is under way. */
  text: string;
  /** Live agents on the newest version (the progress bar's value). */
  onNewest: number;
  live: number;
}

/** The reach of version `newest` over the live agents, in words. */
export function reachView(newest: bigint, reach: ReleaseReach | undefined): ReachView {
  const live = Number(reach?.liveCount ?? 0n);
  if (!reach || live === 0) return { text: "No live agents.", onNewest: 0, live };
  const onNewest = reach.running.filter((r) => r.version >= newest).reduce((n, r) => n + Number(r.count), 0);
  const others = reach.running.filter((r) => r.version < newest && r.count > 0n);
  const agents = (n: number | bigint) => (n === 1 || n === 1n ? "1 runs" : `${n} run`);
  const parts = [`${onNewest} of ${live} live agents run version ${newest}`];
  for (const r of others) parts.push(`${agents(r.count)} version ${r.version}`);
  if (reach.releaseVersion >= newest) {
    if (reach.pendingCount) parts.push(`${reach.pendingCount} updating`);
    if (reach.failedCount) parts.push(`${reach.failedCount} failed (retrying)`);
    if (reach.pinnedCount) parts.push(`${reach.pinnedCount} pinned by their owners`);
  } else if (onNewest < live) {
    // Held back on purpose (a rollout's share) or on its way to the pool within moments.
    parts.push(`version ${newest} is not released to every agent yet (see Rollouts)`);
  }
  return { text: parts.join("; "), onNewest, live };
}
