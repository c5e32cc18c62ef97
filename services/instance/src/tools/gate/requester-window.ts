// Counts per requester in a sliding window: refused payments (ledger.ts) and
// approval requests made for someone other than the owner (asks.ts), so that
// one requester's flood holds up nobody else. In memory; the ledger and the
// ask log write theirs down and add them back when they are opened.

/** Times kept in a window of `windowMs`, and whether another is allowed below `max`. Pure. */
export function slidingWindow(
  times: readonly number[],
  now: number,
  max: number,
  windowMs: number,
): { times: number[]; allowed: boolean } {
  const kept = times.filter((t) => t > now - windowMs);
  return { times: kept, allowed: kept.length < max };
}

export class RequesterWindow {
  private readonly times = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** One more for `requester`. */
  add(requester: string, now = Date.now()): void {
    // The last `max` are all that decide: a flood past the limit keeps no more.
    this.times.set(requester, [...this.window(requester, now).times, now].slice(-this.max));
  }

  /** Whether `requester` is below the limit. */
  allows(requester: string, now = Date.now()): boolean {
    const w = this.window(requester, now);
    if (w.times.length === 0) this.times.delete(requester);
    return w.allowed;
  }

  /** Every (requester, time) still in the window, oldest first for each requester. */
  entries(now = Date.now()): [string, number][] {
    return [...this.times].flatMap(([requester]) =>
      this.window(requester, now).times.map((t): [string, number] => [requester, t]),
    );
  }

  clear(): void {
    this.times.clear();
  }

  private window(requester: string, now: number) {
    return slidingWindow(this.times.get(requester) ?? [], now, this.max, this.windowMs);
  }
}
