/**
 * In-process fan-out of newly committed messages to subscriptions, and the
 * per-topic write ordering that makes "replay from the cursor, then live"
 * exact.
 *
 * The guarantee a subscriber needs is: no gap and no duplicate. It holds
 * because, for each topic (a group id or an installation key):
 *
 * 1. writes are serialized (KeyedSerializer): an id is assigned, committed and
 *    published before the next write of that topic starts, so a topic's ids
 *    are committed and published in increasing order;
 * 2. a subscription registers its listener before it reads history, buffers
 *    what the listener receives while it replays, and afterwards delivers
 *    only ids above the highest one it has sent for that topic.
 *
 * Anything committed before the history read is in the history; anything
 * committed after the listener was registered is published to it; an item in
 * both is dropped by the high-water mark. One devnode process per database.
 */

/** Runs tasks one at a time per key; different keys run concurrently. */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task started so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

export type TopicKind = "group" | "welcome";

export interface TopicItem {
  /** The message id (increasing per topic). */
  id: bigint;
}

type Listener<T extends TopicItem> = (topic: string, item: T) => void;

/** Topic subscriptions keyed by kind and topic (hex of the group id or installation key). */
export class Notifier<T extends TopicItem> {
  private readonly listeners = new Map<string, Set<Listener<T>>>();

  /** Registers `listener` for every topic in `topics`; returns the function that removes it. */
  subscribe(topics: readonly string[], listener: Listener<T>): () => void {
    for (const topic of topics) {
      let set = this.listeners.get(topic);
      if (!set) {
        set = new Set();
        this.listeners.set(topic, set);
      }
      set.add(listener);
    }
    return () => {
      for (const topic of topics) {
        const set = this.listeners.get(topic);
        if (!set) continue;
        set.delete(listener);
        if (set.size === 0) this.listeners.delete(topic);
      }
    };
  }

  publish(topic: string, item: T): void {
    const set = this.listeners.get(topic);
    if (!set) return;
    for (const listener of [...set]) listener(topic, item);
  }
}

/**
 * One subscription's delivery state: buffers live items while the history is
 * replayed, then delivers in order, each id once, above the cursor.
 */
export class SubscriptionFeed<T extends TopicItem> {
  private readonly highWater = new Map<string, bigint>();
  private buffer: { topic: string; item: T }[] | null = [];

  constructor(
    cursors: ReadonlyMap<string, bigint>,
    private readonly deliver: (item: T) => void,
  ) {
    for (const [topic, cursor] of cursors) this.highWater.set(topic, cursor);
  }

  /** Delivers `item` unless an item with this id or a later one was already sent for the topic. */
  private send(topic: string, item: T): void {
    const hw = this.highWater.get(topic) ?? 0n;
    if (item.id <= hw) return;
    this.highWater.set(topic, item.id);
    this.deliver(item);
  }

  /** From the notifier: buffered during replay, delivered once live. */
  live(topic: string, item: T): void {
    if (this.buffer) this.buffer.push({ topic, item });
    else this.send(topic, item);
  }

  /** From the history read (ascending per topic). */
  history(topic: string, item: T): void {
    this.send(topic, item);
  }

  /** History is done: flush what arrived meanwhile and go live. */
  goLive(): void {
    const buffered = this.buffer ?? [];
    this.buffer = null;
    for (const { topic, item } of buffered) this.send(topic, item);
  }

  cursor(topic: string): bigint {
    return this.highWater.get(topic) ?? 0n;
  }
}
