import type { TemplateSource, TemplateWithRelease } from "./release.js";

/** How long a template read serves the next claims, by default. */
export const TEMPLATE_CACHE_MS = 2_000;

/**
 * A template read by one claim serves the claims of the next `ttlMs` too:
 * the claim flow decides who may use it (visibleTo), so the cache need not
 * know who asks. The price: for up to `ttlMs` after an update, unpublish,
 * archive or delisting, a claim can still see the previous state (instruction sync then
 * brings the instance forward).
 *
 * One read at a time per template: the claims that miss while it is read
 * wait for it instead of each asking (at 50 claims in flight, every expiry
 * sent 50 reads to the templates service; docs/performance/claims.md). They get a value
 * read after they asked, so nothing older than the cache already allows. A
 * failed read is not kept: each waiter gets its error, and the next claim
 * reads again.
 */
export function cachedTemplateSource(
  source: TemplateSource,
  ttlMs = TEMPLATE_CACHE_MS,
  now = () => Date.now(),
): TemplateSource {
  const cache = new Map<string, { value: TemplateWithRelease; until: number }>();
  const reading = new Map<string, Promise<TemplateWithRelease>>();
  return {
    getTemplate(templateId) {
      const hit = cache.get(templateId);
      if (hit && hit.until > now()) return Promise.resolve(hit.value);
      let read = reading.get(templateId);
      if (!read) {
        read = source.getTemplate(templateId).then(
          (value) => {
            reading.delete(templateId);
            cache.set(templateId, { value, until: now() + ttlMs });
            // Bounded by the templates claimed within one ttl: drop the stale ones now and then.
            if (cache.size > 10_000) for (const [id, e] of cache) if (e.until <= now()) cache.delete(id);
            return value;
          },
          (err: unknown) => {
            reading.delete(templateId);
            throw err;
          },
        );
        reading.set(templateId, read);
      }
      return read;
    },
  };
}

/** How often usage counts go to the templates service. */
export const USAGE_FLUSH_MS = 1_000;

/**
 * Usage counts are statistics for the store's order: they are added up here
 * and sent once per template per `intervalMs`, not once per claim, with the
 * distinct owners who claimed ("most used" counts owners, not claims). A
 * crash loses at most one interval's counts; `flush()` sends what is pending (close).
 */
export class UsageBatcher {
  private readonly pending = new Map<string, { count: number; owners: Set<string> }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly send: (templateId: string, count: number, ownerIds: string[]) => Promise<void>,
    private readonly onError: (templateId: string, err: unknown) => void,
    intervalMs = USAGE_FLUSH_MS,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  record(templateId: string, ownerId: string): void {
    this.add(templateId, 1, [ownerId]);
  }

  private add(templateId: string, count: number, owners: Iterable<string>): void {
    const entry = this.pending.get(templateId) ?? { count: 0, owners: new Set<string>() };
    entry.count += count;
    for (const o of owners) entry.owners.add(o);
    this.pending.set(templateId, entry);
  }

  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(([templateId, { count, owners }]) =>
        this.send(templateId, count, [...owners]).catch((err: unknown) => {
          this.add(templateId, count, owners); // retried next time
          this.onError(templateId, err);
        }),
      ),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
