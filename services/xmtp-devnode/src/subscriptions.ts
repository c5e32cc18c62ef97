/**
 * The node's subscriptions (SubscribeGroupMessages, SubscribeWelcomeMessages)
 * share one shape: listen first, replay each topic from its cursor (also from
 * 0) in ascending pages, then deliver live until the client cancels or the
 * node stops, each message once and in order (SubscriptionFeed).
 */
import type { Logger } from "@convos-pool/kit/server";
import type { DevnodeMetrics } from "./metrics.js";
import type { StreamSink } from "./methods.js";
import { SubscriptionFeed, type Notifier, type TopicItem, type TopicKind } from "./notifier.js";
import { MAX_PAGE_SIZE, normalizePaging, SortDirection, type Page } from "./paging.js";
import { RpcError, Status } from "./rpc-error.js";

/** One filter of a subscription: a topic, the key the store knows it by, and the id after which to replay. */
export interface TopicFilter {
  topic: string;
  key: Uint8Array;
  cursor: bigint;
}

/** Each topic once, with its key; several filters for one topic: the lowest cursor wins. */
export function topicCursors(filters: readonly TopicFilter[]): {
  cursors: Map<string, bigint>;
  keys: Map<string, Uint8Array>;
} {
  const cursors = new Map<string, bigint>();
  const keys = new Map<string, Uint8Array>();
  for (const f of filters) {
    const c = cursors.get(f.topic);
    cursors.set(f.topic, c === undefined || f.cursor < c ? f.cursor : c);
    keys.set(f.topic, f.key);
  }
  return { cursors, keys };
}

const shuttingDown = () => new RpcError(Status.UNAVAILABLE, "the devnode is shutting down");

/**
 * Subscriptions the node holds at once, by default: past them a new one is
 * refused at once (RESOURCE_EXHAUSTED), and the streams already open keep
 * their pace, rather than every stream slowing as each one more shares the
 * event loop and the database (docs/xmtp-devnode.md, "Streams"). Above the
 * 10,000 agents' streams of one host that bench:live holds.
 */
export const DEFAULT_MAX_STREAMS = 20_000;

/** Whether one more subscription may open beside `open` ones (0: no limit). */
export function admitsStream(open: number, max: number): boolean {
  return max <= 0 || open < max;
}

/** The open subscriptions, ended together when the node stops. */
export class Subscriptions {
  private readonly open = new Set<{ end(): void }>();
  private stopped = false;
  /** Subscriptions being served: replaying their history or live. */
  private serving = 0;

  constructor(
    private readonly log: Logger,
    private readonly metrics: DevnodeMetrics,
    /** The most subscriptions at once (0: no limit). */
    private readonly maxStreams = DEFAULT_MAX_STREAMS,
  ) {}

  /** Subscriptions being served now. */
  get streams(): number {
    return this.serving;
  }

  /** Ends every open subscription with UNAVAILABLE (so clients reconnect, to the node that replaces this one); refuses new ones. */
  stop(): void {
    this.stopped = true;
    for (const s of [...this.open]) s.end();
  }

  /** Serves one subscription on `sink`: resolves when the client cancels, rejects when the node stops. */
  async serve<T extends TopicItem>(
    sink: StreamSink,
    what: TopicKind,
    filters: readonly TopicFilter[],
    notifier: Notifier<T>,
    query: (key: Uint8Array, page: Page) => Promise<T[]>,
    toProto: (row: T) => Uint8Array,
  ): Promise<void> {
    if (this.stopped) throw shuttingDown();
    if (!admitsStream(this.serving, this.maxStreams)) {
      this.log.warn("subscription refused: the node holds its most streams", { kind: what, max: this.maxStreams });
      throw new RpcError(
        Status.RESOURCE_EXHAUSTED,
        `the devnode holds its most streams (${this.maxStreams}); try again later`,
      );
    }
    this.serving++;
    const { cursors, keys } = topicCursors(filters);
    sink.sendHeaders();
    const feed = new SubscriptionFeed<T>(cursors, (row) => {
      if (sink.closed) return;
      sink.write(toProto(row));
      this.metrics.messageRelayed(what);
    });
    const unsubscribe = notifier.subscribe([...cursors.keys()], (topic, row) => feed.live(topic, row));
    const closed = this.metrics.subscriptionOpened(what);
    const handle = { end: () => {} };
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      this.serving--;
      unsubscribe();
      closed();
      this.open.delete(handle);
    };
    sink.onClose(finish);
    if (sink.closed) return finish();
    this.log.debug("subscription opened", { kind: what, topics: cursors.size });
    try {
      for (const [topic, key] of keys) {
        for (;;) {
          if (sink.closed) return finish();
          const page = normalizePaging({
            direction: SortDirection.Ascending,
            limit: MAX_PAGE_SIZE,
            idCursor: feed.cursor(topic),
          });
          const rows = await query(key, page);
          for (const row of rows) feed.history(topic, row);
          if (rows.length < page.limit) break;
        }
      }
    } catch (err) {
      finish();
      throw err;
    }
    feed.goLive();
    // Live from here until the client cancels or the node closes.
    return new Promise<void>((resolve, reject) => {
      handle.end = () => {
        finish();
        reject(shuttingDown());
      };
      this.open.add(handle);
      // stop() came while the history was replayed: it could not see this one.
      if (this.stopped) handle.end();
      sink.onClose(() => {
        finish();
        resolve();
      });
      if (sink.closed) {
        finish();
        resolve();
      }
    });
  }
}
