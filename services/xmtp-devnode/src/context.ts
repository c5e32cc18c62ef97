/**
 * What every handler of the node shares: the store, the clock that stamps
 * each write, the per-topic write queues, the topics subscribers listen on,
 * the open subscriptions, the log and the metrics.
 */
import type { Logger } from "@convos-pool/kit/server";
import type { DevnodeMetrics } from "./metrics.js";
import type { KeyedSerializer, Notifier } from "./notifier.js";
import type { GroupMessageRow, MonotonicClock, Store, WelcomeMessageRow } from "./store.js";
import type { Subscriptions } from "./subscriptions.js";

export interface NodeContext {
  readonly store: Store;
  readonly log: Logger;
  /** What it stores and relays is counted here (the transport counts the calls). */
  readonly metrics: DevnodeMetrics;
  readonly clock: MonotonicClock;
  /** Writes to one topic run one at a time, so that ids and announcements stay in order. */
  readonly writes: KeyedSerializer;
  readonly groupTopics: Notifier<GroupMessageRow>;
  readonly welcomeTopics: Notifier<WelcomeMessageRow>;
  readonly subscriptions: Subscriptions;
}
