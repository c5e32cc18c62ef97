// How many requests a server runs at once, learned from their latency: the
// gradient of Netflix's concurrency-limits (Gradient2) and Envoy's adaptive
// concurrency. While a window's mean latency stays within `tolerance` of the
// long-run mean, the limit grows by `queueSize` a window; when latency rises
// past it (requests wait on the database, the CPU, a lock), the limit shrinks
// in proportion, down to half a window. A window is at least `window`
// answers and at least `windowMs` (Netflix's windows are a second): a limit
// moved on every ten answers follows a shared machine's noise, not its
// load. Pure: numbers and times in, a number out.
// docs/decisions.md, "Admission learned from latency", says why it is ours.

export interface GradientLimitOptions {
  /** The limit before anything is learned. */
  initial: number;
  min: number;
  max: number;
  /** How far a window's latency may rise over the long-run mean before the limit shrinks (1.5: by half again). */
  tolerance: number;
  /** How much of each new estimate is taken (0 to 1): lower is steadier. */
  smoothing: number;
  /** Answers whose mean latency is one sample, at least. */
  window: number;
  /** And at least this long, in ms. */
  windowMs: number;
  /** The long-run mean's memory, in windows. */
  longWindows: number;
  /** What the limit may grow by in a window while latency holds. */
  queueSize: number;
}

export const GRADIENT_DEFAULTS: GradientLimitOptions = {
  initial: 20,
  min: 4,
  max: 1000,
  tolerance: 1.5,
  smoothing: 0.2,
  window: 10,
  windowMs: 250,
  longWindows: 100,
  queueSize: 4,
};

export class GradientLimit {
  private readonly o: GradientLimitOptions;
  private estimate: number;
  /** Exponential mean of the windows' latency (ms); 0 until the first window. */
  private long = 0;
  private windows = 0;
  private sum = 0;
  private count = 0;
  private mostInFlight = 0;
  private last = 0;
  /** When the present window opened (undefined until its first answer). */
  private opened: number | undefined;

  constructor(options: Partial<GradientLimitOptions> = {}) {
    this.o = { ...GRADIENT_DEFAULTS, ...options };
    this.estimate = clamp(this.o.initial, this.o.min, this.o.max);
  }

  /** The requests that may run at once now (a whole number). */
  get limit(): number {
    return Math.floor(this.estimate);
  }

  /** The last window's mean latency in ms (0 before the first): what a slot takes to free now. */
  get latencyMs(): number {
    return this.last;
  }

  /** The long-run mean latency in ms (0 before the first window). */
  get longLatencyMs(): number {
    return this.long;
  }

  /**
   * One answer at `now` (ms): how long it ran (ms) and how many ran beside
   * it when it started (itself included). At each window's end the limit
   * moves.
   */
  observe(latencyMs: number, inFlight: number, now: number): void {
    if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) return;
    this.opened ??= now;
    this.sum += latencyMs;
    this.count++;
    this.mostInFlight = Math.max(this.mostInFlight, inFlight);
    if (this.count < this.o.window || now - this.opened < this.o.windowMs) return;
    this.opened = undefined;
    const short = Math.max(this.sum / this.count, 1e-3);
    const busiest = this.mostInFlight;
    this.sum = 0;
    this.count = 0;
    this.mostInFlight = 0;
    this.last = short;
    this.windows++;
    // The long mean warms up as a plain mean, then forgets with its window.
    const weight = 1 / Math.min(this.windows, this.o.longWindows);
    this.long = this.long + (short - this.long) * weight;
    // A long mean far above the present one is stale (a slow start, an old overload): let it come down.
    if (this.long / short > 2) this.long *= 0.95;
    // A server that did not fill half its limit learned nothing about more.
    if (busiest < this.estimate / 2) return;
    const gradient = clamp((this.o.tolerance * this.long) / short, 0.5, 1);
    const next = this.estimate * gradient + this.o.queueSize;
    this.estimate = clamp(this.estimate * (1 - this.o.smoothing) + next * this.o.smoothing, this.o.min, this.o.max);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
