// The two queues of an agent (life/parts.ts): `ops` (Serial) runs the calls that
// change what it is (start, Configure, Release, a wake) one at a time;
// `turns` (Turns) runs what touches its conversation and memory (a message
// handled, a summary taken in, an owner's memory call) one at a time, so no
// turn learns while an import merges or a Release wipes. Turns are not
// first come, first served: whose goes next, and how many may wait, is
// queue.ts's; a turn waiting for its owner's answer steps aside (park).

import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { admits, nextUp, type Waiter } from "./queue.js";

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

/**
 * Which job an async call belongs to, for park: one for every agent of the
 * host. Node's AsyncLocalStorage (before async context frames) visits every
 * storage ever run at each promise made, so one per agent made each promise
 * of the host cost O(agents) and kept every agent's storage forever
 * (docs/performance/live-agents.md, "What the profile showed"). A job's
 * token is its own object, so one storage tells the jobs of all agents apart.
 */
const jobs = new AsyncLocalStorage<object>();

/** The agent's own work between turns: with the owner's, ahead of everyone else's, and never turned away. */
const OWN_WORK: Waiter = { standing: "owner", sender: "", counted: false };

/**
 * Runs one job at a time, the next chosen by queue.ts (the owner's
 * first, in order within each standing, members' conversations in turn). A job that waits for something slow
 * that is not its to hurry (its owner's answer to an approval question) parks:
 * the others run meanwhile, and it goes on before anyone waiting once that
 * comes.
 */
export class Turns {
  private readonly waiting: (Waiter & { start: () => void })[] = [];
  /** Parked jobs whose wait is over, to go on first. */
  private readonly resuming: (() => void)[] = [];
  /** The job that runs now (none while every job is parked or none waits). */
  private holder: object | undefined;
  private readonly unsettled = new Set<Promise<unknown>>();
  /** When each conversation's last member turn started: whose members go next (queue.ts nextUp). */
  private readonly memberStarted = new Map<string | undefined, number>();
  private starts = 0;

  /** Jobs waiting, running or parked. */
  get pending(): number {
    return this.unsettled.size;
  }

  /** Messages waiting for their turn that may become one (counted: queue.ts Waiter), not yet started. */
  get turnsWaiting(): number {
    return this.waiting.filter((w) => w.counted).length;
  }

  /** `job` in its turn: the agent's own work, with the owner's. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const done = this.offer(job, OWN_WORK);
    if (!done) throw new Error("the agent's own work was turned away from its turns"); // never: it has no share
    return done;
  }

  /** `job` in its turn as `who`'s; undefined, and never run, when `who`'s share of the queue is full (queue.ts). */
  offer<T>(job: () => Promise<T>, who: Waiter): Promise<T> | undefined {
    if (!admits(this.waiting, who)) return undefined;
    const token = {};
    const done = new Promise<T>((resolve, reject) => {
      const start = () => {
        this.holder = token;
        jobs
          .run(token, () => Promise.resolve().then(job))
          .then(resolve, reject)
          .finally(() => {
            if (this.holder === token) this.holder = undefined;
            this.unsettled.delete(done);
            this.pump();
          });
      };
      this.waiting.push({ ...who, start });
    });
    this.unsettled.add(done);
    this.pump();
    return done;
  }

  /**
   * Called by the running job: waits for `p` without holding the others up,
   * then goes on before anyone waiting. From anywhere else (no job, or one
   * that does not hold the turn), only waits for `p`.
   */
  async park<T>(p: Promise<T>): Promise<T> {
    const token = jobs.getStore();
    if (token === undefined || token !== this.holder) return p;
    this.holder = undefined;
    this.pump();
    try {
      return await p;
    } finally {
      await new Promise<void>((resume) => {
        this.resuming.push(() => {
          this.holder = token;
          resume();
        });
        this.pump();
      });
    }
  }

  /** Resolves when every job queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.unsettled]);
  }

  private pump(): void {
    if (this.holder) return;
    const resume = this.resuming.shift();
    if (resume) {
      resume();
      return;
    }
    const i = nextUp(this.waiting, this.memberStarted);
    const next = i >= 0 ? this.waiting.splice(i, 1)[0] : undefined;
    if (next?.standing === "member") this.memberStarted.set(next.conversation, ++this.starts);
    next?.start();
  }
}

/** Waits for `p` at most `ms`, its failure ignored: a queue that must drain, but not forever. */
export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => undefined), sleep(ms, undefined, { ref: false })]);
}
