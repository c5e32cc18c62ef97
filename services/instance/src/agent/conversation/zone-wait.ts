// A request of time that waits for its conversation's zone (docs/schedules.md,
// "A request that waits for the zone"), pure: it is held with the instant it
// was said, and when the owner sets the zone it is heard again, read from that
// instant ("in 2 hours" is two hours from when it was said, not from when the
// zone came), as its sender's role is now; unless it waited more than a day,
// when it is dropped and its sender asked to ask again: a request days old may
// no longer be wanted, and an item nobody remembers asking for is worse than a
// question asked twice. No clock and no I/O: `now` is given.

import type { Waiting } from "../../tools/schedules/scheduling.js";

/** How long a request waits for the zone before it is dropped. */
export const ZONE_WAIT_MS = 24 * 3_600_000;

export const EXPIRED_WORDS =
  "This waited more than a day for the conversation's time zone, so I did not carry it out: ask again if you still want it.";

export type Replay =
  | { kind: "replay"; said: Waiting["said"]; role: "owner" | "member" }
  | { kind: "expired"; words: string };

/** The request as it waits: with its own instant, or the instant it was heard when its message carries none. */
export function held(said: Waiting["said"], role: "owner" | "member", now: number): Waiting {
  return { said: { ...said, sentAtNs: said.sentAtNs ?? BigInt(now) * 1_000_000n }, role };
}

/** What becomes of a held request once the zone is set, at `now`, with the agent's owner of now. */
export function replayed(w: Waiting, facts: { now: number; ownerId: string | undefined }): Replay {
  const saidAt = w.said.sentAtNs === undefined ? undefined : Number(w.said.sentAtNs / 1_000_000n);
  if (saidAt === undefined || facts.now - saidAt > ZONE_WAIT_MS) return { kind: "expired", words: EXPIRED_WORDS };
  return { kind: "replay", said: w.said, role: w.said.senderInboxId === facts.ownerId ? "owner" : "member" };
}
