import { TemplateStatus, Visibility, type Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateSource } from "./claim-flow.js";

/**
 * Public templates look the same to every requester, so a claim need not ask
 * the template service each time: a public, active template is reused for
 * `ttlMs`. Private ones depend on who asks and always go through. The price:
 * for up to `ttlMs` after an update, unpublish or archive, a claim can still
 * see the previous state (instruction sync then brings the instance forward).
 */
export function cachedTemplateSource(source: TemplateSource, ttlMs = 2_000, now = () => Date.now()): TemplateSource {
  const cache = new Map<string, { template: Template; until: number }>();
  return {
    async getTemplate(templateId, requester) {
      const hit = cache.get(templateId);
      if (hit && hit.until > now()) return hit.template;
      const template = await source.getTemplate(templateId, requester);
      if (template.visibility === Visibility.PUBLIC && template.status === TemplateStatus.ACTIVE) {
        cache.set(templateId, { template, until: now() + ttlMs });
      } else {
        cache.delete(templateId);
      }
      return template;
    },
  };
}

/**
 * Usage counts are statistics for the store's order: they are added up here
 * and sent once per template per `intervalMs`, not once per claim. A crash
 * loses at most one interval's counts; `flush()` sends what is pending (close).
 */
export class UsageBatcher {
  private readonly pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly send: (templateId: string, count: number) => Promise<void>,
    private readonly onError: (templateId: string, err: unknown) => void,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  record(templateId: string): void {
    this.pending.set(templateId, (this.pending.get(templateId) ?? 0) + 1);
  }

  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(([templateId, count]) =>
        this.send(templateId, count).catch((err: unknown) => {
          this.pending.set(templateId, (this.pending.get(templateId) ?? 0) + count); // retried next time
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
