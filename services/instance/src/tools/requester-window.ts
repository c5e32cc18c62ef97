// Counts per requester in a sliding window: refused payments (ledger.ts) and
// approval requests made for someone other than the owner (gate.ts), so that
// one requester's flood holds up nobody else. In memory: a restart forgives.

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
    this.times.set(requester, [...this.window(requester, now).times, now]);
  }

  /** Whether `requester` is below the limit. */
  allows(requester: string, now = Date.now()): boolean {
    const w = this.window(requester, now);
    if (w.times.length === 0) this.times.delete(requester);
    return w.allowed;
  }

  clear(): void {
    this.times.clear();
  }

  private window(requester: string, now: number) {
    return slidingWindow(this.times.get(requester) ?? [], now, this.max, this.windowMs);
  }
}
