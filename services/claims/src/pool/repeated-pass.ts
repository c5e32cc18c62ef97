import { Repeater, type Logger } from "@convos-pool/kit/server";

/**
 * A job of the pool run at start, then every `intervalMs` after each run
 * ends, one run at a time (the kit's Repeater): the manager's pass
 * (manager.ts) and the moves off lost hosts (host-mover.ts). Started and
 * stopped with the service; kicked when what it looks at just changed.
 */
export abstract class RepeatedPass<R> {
  private readonly loop: Repeater<R>;

  constructor(opts: { intervalMs?: number | undefined; log: Logger }, failed: string) {
    this.loop = new Repeater(() => this.pass(), {
      intervalMs: opts.intervalMs ?? 5_000,
      onError: (err) => opts.log.warn(failed, { err }),
    });
  }

  /** One run of the job. */
  protected abstract pass(): Promise<R>;

  /** Runs now and then every intervalMs. */
  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A run now, or right after the one under way. */
  kick(): void {
    this.loop.kick();
  }

  /** One run; concurrent callers share the run in progress. */
  protected runNow(): Promise<R> {
    return this.loop.run();
  }

  /** Once stop() was called: a run under way ends early. */
  protected get stopped(): boolean {
    return this.loop.stopped;
  }
}
