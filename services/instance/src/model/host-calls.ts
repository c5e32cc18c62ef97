// The host's model calls, all its agents together (docs/instance.md, "When
// the pool is busy"). Each agent takes its turns one at a time, its owner's
// first (agent/turns/), but one host runs many agents and their completions
// share one provider: offered more than it answers, every turn would slow
// alike. So at most `max` completions run at once; the rest wait, the
// owners' first, each standing in the order it came; and at most
// `maxWaiting` calls that may be refused wait (a member's or an outsider's
// turn's first completion, its learning): one more is refused at once, and
// its turn says so (HOST_BUSY_REPLY). An owner's call, and a later round of
// a turn already under way, always waits its turn: refusing it would cut an
// answer in half. `nextCall` and `mayWait` decide (pure, with their test);
// HostModelCalls keeps the queue.

/** Completions a host runs at once, by default (`LLM_HOST_CALLS`; 0: no limit). */
export const HOST_MODEL_CALLS = 32;

/** Refusable calls that may wait at once, by default (`LLM_HOST_CALLS_WAITING`). */
export const HOST_CALLS_WAITING = 64;

/** What a turn refused by the host says in its conversation. */
export const HOST_BUSY_REPLY =
  "Too many conversations are asking me at once, so I can't answer this now. Ask me again in a minute.";

/** A call waiting for a place: whose (the owner's go first), and whether it may be refused. */
export interface CallWaiter {
  owner: boolean;
  refusable: boolean;
}

/** The index in `waiting` (oldest first) of the call that goes next: the owner's oldest, else the oldest; -1: none. */
export function nextCall(waiting: readonly CallWaiter[]): number {
  const owner = waiting.findIndex((w) => w.owner);
  return owner >= 0 ? owner : waiting.length > 0 ? 0 : -1;
}

/** Whether `w` may join `waiting`: an unrefusable call always, a refusable one below `maxWaiting` of its kind. */
export function mayWait(waiting: readonly CallWaiter[], w: CallWaiter, maxWaiting: number): boolean {
  return !w.refusable || waiting.filter((x) => x.refusable).length < maxWaiting;
}

/** A call the host refused: it had as many waiting as it may. */
export class HostBusy extends Error {
  constructor(readonly waiting: number) {
    super(`the host's model calls are full (${waiting} waiting)`);
    this.name = "HostBusy";
  }
}

/** The host's model calls: at most `max` at once, the owners' first. */
export class HostModelCalls {
  private running = 0;
  private readonly waiting: (CallWaiter & { go: () => void; gone: (err: Error) => void })[] = [];

  constructor(
    readonly max = HOST_MODEL_CALLS,
    readonly maxWaiting = HOST_CALLS_WAITING,
  ) {}

  /** Calls running and waiting now (tests, logs). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `job` in its turn; HostBusy at once when it may be refused and too many such wait; the caller's abort ends a wait. */
  async run<T>(who: CallWaiter, job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.max > 0 && this.running >= this.max) {
      if (!mayWait(this.waiting, who, this.maxWaiting)) throw new HostBusy(this.waiting.length);
      signal?.throwIfAborted();
      await new Promise<void>((go, gone) => {
        const entry = { ...who, go, gone };
        this.waiting.push(entry);
        signal?.addEventListener(
          "abort",
          () => {
            const i = this.waiting.indexOf(entry);
            if (i < 0) return;
            this.waiting.splice(i, 1);
            gone(signal.reason instanceof Error ? signal.reason : new Error("the call was aborted"));
          },
          { once: true },
        );
      });
    } else this.running++;
    try {
      return await job();
    } finally {
      this.release();
    }
  }

  /** A place is free: the next waiter takes it (the running count stays), or it is given back. */
  private release(): void {
    const i = nextCall(this.waiting);
    if (i < 0) {
      this.running--;
      return;
    }
    const [next] = this.waiting.splice(i, 1);
    next?.go();
  }
}
