// Who may start now, who may wait, and who is told at once to come back
// later (docs/server-kit.md, "Overload"). The concurrency limit is learned
// from latency (limit.ts); past it a call waits in a queue bounded in time:
// at most its share of what is left of its deadline, a few of the server's
// own latencies, and a short bound (5 ms) whatever its deadline: under
// overload the latencies are hundreds of ms, and a call that waited them
// was refused late or let in to run past its deadline (a call without a
// deadline, whose caller would rather wait: at most the longest wait, 1 s).
// A call whose expected wait passes its bound is refused at once, with the
// delay after which the work now ahead of it should be done. Criticality (criticality.ts)
// decides the order: a critical call waits ahead of the others and may fill
// the whole limit, a default one leaves a tenth of it free, a sheddable one
// a quarter, and never waits. The clock and the timers are given, so the
// tests run on a clock of their own.

import { type Criticality, CRITICALITIES } from "./criticality.js";
import { GradientLimit, type GradientLimitOptions } from "./limit.js";

export interface AdmissionOptions {
  limit: Partial<GradientLimitOptions>;
  /** What part of the limit calls of each criticality may fill. */
  shares: Record<Criticality, number>;
  /** What part of what is left of a call's deadline it may spend waiting for a slot. */
  deadlineShare: number;
  /** How long a call may wait, in the server's present latencies (0: it never waits). */
  waitLatencies: Record<Criticality, number>;
  /** Bounds of a wait in ms of a call with a deadline, whatever the latency (a call of no wait at all stays at 0). */
  minWaitMs: number;
  maxWaitMs: number;
  /** The wait of a call without a deadline, in ms (a call of no wait at all stays at 0). */
  untimedWaitMs: number;
  /** The latency assumed before the first window is measured. */
  unknownLatencyMs: number;
}

export const ADMISSION_DEFAULTS: AdmissionOptions = {
  limit: {},
  shares: { critical: 1, default: 0.9, sheddable: 0.75 },
  deadlineShare: 0.5,
  waitLatencies: { critical: 4, default: 2, sheddable: 0 },
  minWaitMs: 5,
  // bench:overload (docs/performance/overload.md): at 1 s refusals took 2 s; at 20 ms about 1 s, claims done after
  // their callers gave up 29 to 241 a run; at 5 ms 0.4 s and none. The queue smooths bursts, it does not hold a backlog.
  maxWaitMs: 5,
  untimedWaitMs: 1_000,
  unknownLatencyMs: 50,
};

export interface Clock {
  /** Milliseconds, any origin. */
  now(): number;
  /** Calls `fn` after `ms`; returns what cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** A call let in: `done()` when it has answered (once). */
export interface Ticket {
  readonly kind: "start";
  /** How long it waited for its slot, in ms. */
  readonly waitedMs: number;
  done(): void;
}

/** A call not let in: `overloaded` (RESOURCE_EXHAUSTED, come back after `retryAfterMs`) or `deadline` (it had already passed). */
export interface Refusal {
  readonly kind: "refuse";
  readonly reason: "overloaded" | "deadline";
  readonly retryAfterMs: number;
  /** How long it waited before it was refused (0: refused at once). */
  readonly waitedMs: number;
}

interface Waiter {
  criticality: Criticality;
  arrived: number;
  settle(verdict: Ticket | Refusal): void;
  cancel(): void;
}

export class Admission {
  readonly options: AdmissionOptions;
  readonly limit: GradientLimit;
  private running = 0;
  private readonly queues: Record<Criticality, Waiter[]> = { critical: [], default: [], sheddable: [] };

  constructor(
    private readonly clock: Clock,
    options: Partial<AdmissionOptions> = {},
  ) {
    this.options = { ...ADMISSION_DEFAULTS, ...options };
    this.limit = new GradientLimit(this.options.limit);
  }

  get inFlight(): number {
    return this.running;
  }

  /** Calls waiting for a slot, by criticality. */
  waiting(criticality: Criticality): number {
    return this.queues[criticality].length;
  }

  /**
   * A call arrives, with its deadline on the clock (undefined: none). A
   * verdict at once when there is one (start, refuse); else a promise of
   * it, settled when a slot frees or its wait runs out.
   */
  enter(criticality: Criticality, deadline?: number): Ticket | Refusal | Promise<Ticket | Refusal> {
    const now = this.clock.now();
    if (deadline !== undefined && deadline <= now)
      return { kind: "refuse", reason: "deadline", retryAfterMs: 0, waitedMs: 0 };
    if (this.mayStart(criticality) && this.aheadOf(criticality) === 0) return this.start(now, now);
    const wait = this.waitBound(criticality, deadline === undefined ? undefined : deadline - now);
    // Slots free at about limit / latency a ms: the calls ahead and this one must all start within its wait.
    const expected = ((this.aheadOf(criticality) + 1) * this.latency()) / Math.max(1, this.capacity(criticality));
    if (wait <= 0 || expected > wait) return this.refusal(0);
    return new Promise<Ticket | Refusal>((resolve) => {
      const waiter: Waiter = {
        criticality,
        arrived: now,
        settle: resolve,
        cancel: this.clock.after(wait, () => {
          const queue = this.queues[criticality];
          const at = queue.indexOf(waiter);
          if (at < 0) return;
          queue.splice(at, 1);
          resolve(this.refusal(this.clock.now() - now));
        }),
      };
      this.queues[criticality].push(waiter);
    });
  }

  private start(arrived: number, now: number): Ticket {
    this.running++;
    const inFlight = this.running;
    let ended = false;
    return {
      kind: "start",
      waitedMs: now - arrived,
      done: () => {
        if (ended) return;
        ended = true;
        this.running--;
        const end = this.clock.now();
        this.limit.observe(end - now, inFlight, end);
        this.dispatch();
      },
    };
  }

  /** Starts waiters while slots are free: the most critical first, in order of arrival. */
  private dispatch(): void {
    for (const criticality of CRITICALITIES) {
      const queue = this.queues[criticality];
      for (let waiter = queue[0]; waiter && this.mayStart(criticality); waiter = queue[0]) {
        queue.shift();
        waiter.cancel();
        waiter.settle(this.start(waiter.arrived, this.clock.now()));
      }
      // A more critical call still waiting keeps every less critical one waiting too.
      if (queue.length > 0) return;
    }
  }

  private capacity(criticality: Criticality): number {
    return Math.max(1, Math.floor(this.limit.limit * this.options.shares[criticality]));
  }

  private mayStart(criticality: Criticality): boolean {
    return this.running < this.capacity(criticality);
  }

  /** Calls waiting that would start before one of `criticality`: those as or more critical. */
  private aheadOf(criticality: Criticality): number {
    let n = 0;
    for (const c of CRITICALITIES) {
      n += this.queues[c].length;
      if (c === criticality) return n;
    }
    return n;
  }

  private latency(): number {
    return this.limit.latencyMs || this.options.unknownLatencyMs;
  }

  /**
   * How long a call may wait: with a deadline, the least of its share of it
   * and a few latencies held to the short bound; without one, the longest
   * wait (its caller said it would rather wait than be told to come back: a
   * closed loop, a test's burst).
   */
  private waitBound(criticality: Criticality, leftMs: number | undefined): number {
    const latencies = this.options.waitLatencies[criticality];
    if (latencies <= 0) return 0;
    if (leftMs === undefined) return this.options.untimedWaitMs;
    const own = Math.min(this.options.maxWaitMs, Math.max(this.options.minWaitMs, latencies * this.latency()));
    return Math.min(own, leftMs * this.options.deadlineShare);
  }

  /** Come back when what runs and waits now should be done: at least one latency. */
  private refusal(waitedMs: number): Refusal {
    let queued = 0;
    for (const c of CRITICALITIES) queued += this.queues[c].length;
    const drain = ((this.running + queued) * this.latency()) / Math.max(1, this.limit.limit);
    return { kind: "refuse", reason: "overloaded", retryAfterMs: Math.max(this.latency(), drain), waitedMs };
  }
}
