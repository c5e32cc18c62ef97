// What the stand-ins' `waitFor...` calls share (a local phone's texts, a
// mailbox's mail): callers waiting for the first item that their predicate
// accepts, each within its own time, all refused when the stand-in closes.

/** What a waiter is told when it stops waiting without an item. */
export interface WaitErrors {
  /** Its time ran out. */
  timedOut: string;
  /** The stand-in closed first. */
  closed: string;
}

interface Waiter<T> {
  accepts: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  errors: WaitErrors;
}

export class Waiters<T> {
  private readonly waiting = new Set<Waiter<T>>();

  /** The first item offered from now on that `accepts` takes; rejected past `ms`. */
  wait(accepts: (item: T) => boolean, ms: number, errors: WaitErrors): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        accepts,
        resolve,
        reject,
        errors,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(new Error(errors.timedOut));
        }, ms),
      };
      this.waiting.add(waiter);
    });
  }

  /** Hands a new item to every waiter that accepts it. */
  offer(item: T): void {
    for (const w of this.waiting) {
      if (!w.accepts(item)) continue;
      this.waiting.delete(w);
      clearTimeout(w.timer);
      w.resolve(item);
    }
  }

  /** Refuses every waiter still waiting. */
  close(): void {
    for (const w of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(w.errors.closed));
    }
    this.waiting.clear();
  }
}
