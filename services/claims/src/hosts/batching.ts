/**
 * How the claims service batches a claim's calls and the attestations per
 * host (grpc-runtime.ts): a host's items go together by its batch call, each
 * agent named once, and each answered with the very error its single call
 * would give; a host that predates the batch calls gets the single calls, for
 * a while, then is asked again.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { Batcher, type Settle } from "@convos-pool/kit/server";
import { predatesBatchCalls, type InstanceRef } from "./runtime.js";

/** Agents named in one ConfigureInstances, JoinConversations or AttestInstances call at most (a host takes 1,000). */
const MAX_BATCH = 100;
/** How long a host that predates the batch calls gets the single calls before it is asked again (as sync/worker.ts). */
const SINGLE_CALLS_MS = 10 * 60_000;

/**
 * The batch calls hosts gained together, a family: a host's answer that it
 * predates one of them holds for the family, not the other. A claim's two
 * (ConfigureInstances and JoinConversations), and AttestInstances, which
 * came later.
 */
export type BatchCalls = "claim" | "attest";

/** The batch calls of every host: a batcher per host and call, and which hosts get the single calls for now. */
export class HostBatching {
  /** Hosts that predate batch calls (predatesBatchCalls), by `batchCallsKey`: until when they get the single calls. */
  private readonly singleCallHosts = new Map<string, number>();

  /** One host's batcher for one call: its items go by runBatch, at most `maxInFlight` batch calls at once. */
  batcher<T extends { instance: InstanceRef }, R>(
    hostUrl: string,
    calls: BatchCalls,
    single: (item: T) => Promise<R>,
    batch: (items: T[], settle: Settle<R>) => Promise<void>,
    maxInFlight?: number,
  ): Batcher<T, R> {
    return new Batcher<T, R>((items, settle) => this.runBatch(hostUrl, calls, items, settle, single, batch), {
      maxBatch: MAX_BATCH,
      ...(maxInFlight === undefined ? {} : { maxInFlight }),
    });
  }

  /**
   * Runs a batch of one host by its batch call, each agent named once (a
   * second item for an agent already named goes by its single call, as two
   * single calls would). The call failing as a whole (the host away, the
   * deadline) fails every item it did not answer with that error, as each
   * single call would have failed; a host that predates the batch call gets
   * the single calls of `calls`, now and for a while.
   */
  private async runBatch<T extends { instance: InstanceRef }, R>(
    hostUrl: string,
    calls: BatchCalls,
    items: T[],
    settle: Settle<R>,
    single: (item: T) => Promise<R>,
    batch: (items: T[], settle: Settle<R>) => Promise<void>,
  ): Promise<void> {
    const settled = new Set<number>();
    const settleOnce: Settle<R> = (i, result) => {
      if (settled.has(i)) return;
      settled.add(i);
      settle(i, result);
    };
    type Placed = { item: T; i: number };
    const alone = ({ item, i }: Placed) =>
      single(item).then(
        (r) => settleOnce(i, r),
        (err: unknown) => settleOnce(i, asError(err)),
      );
    const named = new Set<string>();
    const batched: Placed[] = [];
    const singles: Promise<void>[] = [];
    for (const [i, item] of items.entries()) {
      if (named.has(item.instance.id)) singles.push(alone({ item, i }));
      else {
        named.add(item.instance.id);
        batched.push({ item, i });
      }
    }
    try {
      // One alone goes as the single call: for one agent it is the cheaper call (and the stream's setup is not worth it).
      if (batched.length === 1 || !this.takes(hostUrl, calls)) {
        await Promise.all(batched.map(alone));
      } else {
        try {
          await batch(
            batched.map((b) => b.item),
            (k, result) => {
              // An answer to nothing asked is dropped; what stays unanswered fails below.
              const b = batched[k];
              if (b) settleOnce(b.i, result);
            },
          );
        } catch (err) {
          if (!predatesBatchCalls(err)) {
            for (const b of batched) settleOnce(b.i, asError(err));
            return;
          }
          this.singleCallHosts.set(batchCallsKey(hostUrl, calls), Date.now() + SINGLE_CALLS_MS);
          await Promise.all(batched.filter((b) => !settled.has(b.i)).map(alone));
        }
        // Only the unanswered get an error: made for every item, it cost a stack trace per claim.
        for (const b of batched)
          if (!settled.has(b.i))
            settleOnce(b.i, new ConnectError("the host's answer does not match what it was asked", Code.Internal));
      }
    } finally {
      await Promise.all(singles);
    }
  }

  /** Whether these calls to this host go in batches (not while it is known to predate them). */
  takes(hostUrl: string, calls: BatchCalls): boolean {
    const key = batchCallsKey(hostUrl, calls);
    const until = this.singleCallHosts.get(key);
    if (until === undefined) return true;
    if (until > Date.now()) return false;
    this.singleCallHosts.delete(key);
    return true;
  }
}

/** Where singleCallHosts keeps a host's answer for one family of batch calls. */
function batchCallsKey(hostUrl: string, calls: BatchCalls): string {
  return `${calls} ${hostUrl}`;
}

/** What a batch's item is failed with: the error as thrown, an Error for anything else. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : ConnectError.from(err);
}
