// The two queues of an agent (agent.ts): `ops` runs the calls that change
// what it is (start, Configure, Release, a wake) one at a time; `turns` runs
// what touches its conversation and memory (a message handled, a summary
// taken in, an owner's memory call) one at a time, so no turn learns while
// an import merges or a Release wipes.

import { setTimeout as sleep } from "node:timers/promises";

/** Runs one async job at a time, in order. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Jobs queued or running. */
  get pending(): number {
    return this.queued;
  }
  run<T>(job: () => Promise<T>): Promise<T> {
    this.queued++;
    const next = this.tail.then(job, job).finally(() => this.queued--);
    this.tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** Waits for `p` at most `ms`, its failure ignored: a queue that must drain, but not forever. */
export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => undefined), sleep(ms, undefined, { ref: false })]);
}
