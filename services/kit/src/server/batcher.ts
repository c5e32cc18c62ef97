// Calls made close together, sent as one: the claims service's claim and
// completion queries, and its Configure, JoinConversation and Attest calls
// to a host, cost a round trip and a call's machinery each; many claims in
// flight share one of each instead (docs/scaling.md, "Claims in batches").
//
// No timer: what is added in one turn of the event loop goes at the end of
// that turn (setImmediate), so a claim alone waits for nothing. Under load,
// `maxInFlight` batches run at most; what arrives meanwhile waits for one of
// them to end and goes together in the next (as a database's group commit).

import { withoutDeadline } from "./overload/deadline.js";
import { activeContext, withContext } from "./tracing.js";
import type { Context } from "@opentelemetry/api";

/** Settles the item at `index` of the batch (its result, or an Error for it alone). */
export type Settle<R> = (index: number, result: R | Error) => void;

export interface BatcherOptions {
  /** Items in one batch at most. Default 100. */
  maxBatch?: number;
  /** Batches running at once at most. Default: no limit (batches are then what one turn of the event loop adds). */
  maxInFlight?: number;
}

interface Pending<T, R> {
  item: T;
  /** The trace context it was added in: a batch's call goes in its first item's trace. */
  ctx: Context;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Coalesces `add` calls into calls of `run(items, settle)`. `run` settles
 * each item as its answer comes (a streamed answer settles them one by one);
 * if it throws, every item it left unsettled fails with that error; if it
 * returns without settling one, that one fails.
 */
export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly run: (items: T[], settle: Settle<R>) => Promise<void>,
    opts: BatcherOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 100;
    this.maxInFlight = opts.maxInFlight ?? Infinity;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, ctx: activeContext(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async runBatch(batch: Pending<T, R>[]): Promise<void> {
    const settled = new Array<boolean>(batch.length).fill(false);
    const settle: Settle<R> = (i, result) => {
      const p = batch[i];
      if (!p || settled[i]) return;
      settled[i] = true;
      if (result instanceof Error) p.reject(result);
      else p.resolve(result);
    };
    let failure: unknown = new Error("the batch ended without an answer for this item");
    try {
      const first = batch[0];
      const run = () =>
        this.run(
          batch.map((p) => p.item),
          settle,
        );
      // The batch serves many calls: it carries none's deadline (overload/deadline.ts).
      await withoutDeadline(() => (first ? withContext(first.ctx, run) : run()));
    } catch (err) {
      failure = err;
    }
    batch.forEach((p, i) => {
      if (!settled[i]) p.reject(failure);
    });
  }
}
