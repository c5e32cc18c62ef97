// When the agent's page may ask the lineage service for an agent's lineage.
// Lineage learns of an agent from the claims service's outbox, relayed about
// every second after the claim commits (docs/lineage.md), so for a moment
// after a claim or a clone the pool has the agent and lineage does not: asked
// then, it answers NOT_FOUND, which the browser logs as a failed load and the
// page would show as an error. The page asks only once that moment is past.
// What this cannot see: a relay held up longer (lineage down, a backlog), and
// a new owner's first look just after a transfer (lineage still names the
// old owner): both still answer NOT_FOUND, shown as it comes. Pure.

/** How long after its claim the page waits before asking: the relay's one second, with room for a busy pool. */
export const LINEAGE_RECORDED_WITHIN_MS = 3_000;

/**
 * Milliseconds until the page may ask for the lineage of an agent claimed at
 * `claimedAtMs` (0: now); undefined while it has not been claimed, when
 * lineage has nothing of it to give.
 */
export function lineageAskIn(claimedAtMs: number | undefined, now: number): number | undefined {
  if (claimedAtMs === undefined) return undefined;
  return Math.max(0, claimedAtMs + LINEAGE_RECORDED_WITHIN_MS - now);
}
