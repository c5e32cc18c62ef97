/**
 * The network's rate limits, as the local node enforces them
 * (docs/xmtp-devnode.md, "Rate limits"): each client may make so many writes
 * (publishing messages, welcomes, key packages, identity updates, commit-log
 * entries) and so many reads in a rolling five minutes; past that a call is
 * refused with RESOURCE_EXHAUSTED, as the XMTP network refuses it, and the
 * client retries. As the network's node (xmtp-node-go) does, calls are
 * counted by the caller's IP address (the first X-Forwarded-For entry, else
 * the connection's peer), not by inbox or installation: every client on one
 * machine shares one budget. A call counts once (the network counts a
 * publish by its envelopes).
 *
 * The window rolls in ten slices of its length: a call is counted in the
 * slice of its time, and the limit holds over the last ten slices.
 */

export const WINDOW_MS = 5 * 60_000;
const SLICES = 10;

export interface RateLimits {
  /** Writes a client may make in the window (the network's: 3,000). 0: no limit. */
  writes: number;
  /** Reads a client may make in the window (the network's: 20,000). 0: no limit. */
  reads: number;
  /** The window's length, ms (five minutes; tests shorten it). */
  windowMs?: number;
}

export const NETWORK_LIMITS: RateLimits = { writes: 3_000, reads: 20_000 };

/** Methods that write; every other unary call and each subscription opened is a read. */
export const WRITE_METHODS = new Set([
  "SendGroupMessages",
  "SendWelcomeMessages",
  "UploadKeyPackage",
  "RegisterInstallation",
  "PublishIdentityUpdate",
  "BatchPublishCommitLog",
]);

/** The address a call is counted against: the first X-Forwarded-For entry, else the peer's address without its port. */
export function callerAddress(peer: string, forwardedFor?: string): string {
  const first = forwardedFor?.split(",")[0]?.trim();
  if (first) return first;
  const address = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (bracketed?.[1]) return bracketed[1];
  return address.replace(/:\d+$/, "");
}

interface Counts {
  /** The slice index of each of the SLICES counts. */
  at: number[];
  n: number[];
}

export class RateWindow {
  private readonly clients = new Map<string, { reads: Counts; writes: Counts }>();
  private readonly sliceMs: number;

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.sliceMs = (limits.windowMs ?? WINDOW_MS) / SLICES;
  }

  /**
   * Counts one call of `client` and says whether it is within its limit; a
   * refused call is not counted. Clients silent for a whole window are forgotten.
   */
  take(client: string, kind: "reads" | "writes"): boolean {
    const limit = this.limits[kind];
    if (!limit) return true;
    const slice = Math.floor(this.now() / this.sliceMs);
    let c = this.clients.get(client);
    if (!c) {
      if (this.clients.size > 10_000) this.forget(slice);
      c = { reads: empty(), writes: empty() };
      this.clients.set(client, c);
    }
    const counts = c[kind];
    let used = 0;
    for (let i = 0; i < SLICES; i++) if ((counts.at[i] ?? -Infinity) > slice - SLICES) used += counts.n[i] ?? 0;
    if (used >= limit) return false;
    const i = slice % SLICES;
    if (counts.at[i] !== slice) {
      counts.at[i] = slice;
      counts.n[i] = 0;
    }
    counts.n[i] = (counts.n[i] ?? 0) + 1;
    return true;
  }

  private forget(slice: number): void {
    for (const [k, c] of this.clients)
      if (Math.max(...c.reads.at, ...c.writes.at) <= slice - SLICES) this.clients.delete(k);
  }
}

const empty = (): Counts => ({ at: new Array<number>(SLICES).fill(-Infinity), n: new Array<number>(SLICES).fill(0) });
