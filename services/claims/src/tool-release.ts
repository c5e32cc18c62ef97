import type { EntityManager } from "@mikro-orm/postgresql";
import type { Logger } from "@convos-pool/kit";
import { deleteProvisionedTool, markToolReleaseFailed, type ToolRef } from "./claim-sql.js";
import type { ToolProvider, ToolProviders } from "./providers/types.js";

/**
 * Gives pool tools back to their providers: a claim's rollback, the stale-claim
 * sweep and instruction sync (a tool a new version no longer declares) all do
 * it the same way. A tool is found by the provider that allocated it (its
 * stored name), which may differ from today's provider for that tool id.
 */
export class ToolReleaser {
  private readonly byName: Map<string, ToolProvider>;

  constructor(
    providers: ToolProviders,
    private readonly em: EntityManager,
    private readonly log: Logger,
  ) {
    this.byName = new Map([...providers.values()].map((p) => [p.name, p]));
  }

  /** Two tries, then the row stays as `release_failed` for the sweep. True once released and its row deleted. */
  async release(t: ToolRef): Promise<boolean> {
    const provider = this.byName.get(t.provider);
    let lastErr: unknown = new Error(`no provider "${t.provider}" in this pool`);
    for (let attempt = 0; provider && attempt < 2; attempt++) {
      try {
        await provider.release(t.handle);
        await deleteProvisionedTool(this.em.fork(), t.instanceId, t.toolId);
        return true;
      } catch (err) {
        lastErr = err;
      }
    }
    this.log.error("tool release failed; kept for the sweep", { instanceId: t.instanceId, toolId: t.toolId, provider: t.provider, err: lastErr });
    await markToolReleaseFailed(this.em.fork(), t.instanceId, t.toolId).catch(() => {});
    return false;
  }
}
