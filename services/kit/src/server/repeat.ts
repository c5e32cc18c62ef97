// A job run now and again: the claims service's pool manager and host mover
// each run one pass at a time, on a timer and on demand, and stop by waiting
// for the pass under way.
//
// The timer counts from the end of a run (a setTimeout set again each time,
// not a setInterval): a slow run delays the next one instead of piling runs up
// behind it.

export interface RepeaterOptions {
  /** From the end of one run to the start of the next. */
  intervalMs: number;
  /** A run the timer or kick() started failed; the next still comes on time. */
  onError: (err: unknown) => void;
}

/**
 * Runs `job` at start(), then `intervalMs` after each run ends, one run at a
 * time. After stop() neither the timer nor kick() starts a run; stop() waits
 * for the one under way, whose job can read `stopped` to end early.
 */
export class Repeater<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;
  private again = false;
  private halted = false;

  constructor(
    private readonly job: () => Promise<T>,
    private readonly opts: RepeaterOptions,
  ) {}

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.halted;
  }

  /** A run now, and one `intervalMs` after each run ends, until stop(). */
  start(): void {
    const tick = () => {
      void this.run()
        .catch((err: unknown) => this.opts.onError(err))
        .finally(() => {
          if (!this.halted) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
        });
    };
    tick();
  }

  /** No run starts from now on; resolves once the run under way (if any) has ended. */
  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** A run now; when one is under way, one more right after it (however many kicks came meanwhile). */
  kick(): void {
    if (this.halted) return;
    if (this.running) this.again = true;
    else void this.run().catch((err: unknown) => this.opts.onError(err));
  }

  /**
   * One run now, its result or error to the caller; concurrent callers share
   * the run under way. A direct call runs even after stop() (a caller's own
   * pass, as tests make); only the timer and kick() stop.
   */
  run(): Promise<T> {
    this.running ??= this.begin().finally(() => {
      this.running = undefined;
      if (this.again && !this.halted) {
        this.again = false;
        this.kick();
      }
    });
    return this.running;
  }

  /** The job, started now; one that throws before its promise is a failed run too. */
  private async begin(): Promise<T> {
    return await this.job();
  }
}
