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
 *
 * A caller that knows a version was written (`atLeast`: an agent's statement
 * names the version it has just applied) is not answered from a read older
 * than it, so it shares the claims' reads without a stale one.
 */
export function cachedTemplateSource(
  source: TemplateSource,
  ttlMs = TEMPLATE_CACHE_MS,
  now = () => Date.now(),
): TemplateSource {
  const cache = new Map<string, { value: TemplateWithRelease; until: number }>();
  const reading = new Map<string, Promise<TemplateWithRelease>>();
  return {
    getTemplate(templateId, atLeast) {
      const hit = cache.get(templateId);
      if (hit && hit.until > now() && !olderThan(hit.value, atLeast)) return Promise.resolve(hit.value);
      let read = reading.get(templateId);
      // A read under way was asked before this caller's version may have been written: one more after it.
      if (read && atLeast !== undefined) {
        const after = read.then((value) => (olderThan(value, atLeast) ? source.getTemplate(templateId) : value));
        return after;
      }
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

function olderThan(value: TemplateWithRelease, version: number | undefined): boolean {
  return version !== undefined && Number(value.release.version) < version;
}
