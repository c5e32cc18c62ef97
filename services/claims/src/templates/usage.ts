// How often each template is claimed, and by how many owners: the store's
// "most used" order (TemplateUsageService.RecordTemplateUse), sent in batches.

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
