/**
 * The pool tools a release declares, as instruction sync delivers it
 * (worker.ts): before an agent takes the release, each declared tool's
 * credentials, the ones it has and new ones provisioned (sealed and recorded
 * first, so a retry reuses them); once it took it, the tools no longer
 * declared given back. A failure the owner and the creator may read is a
 * SyncFailure.
 */
import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ToolCredentialSchema, type ToolCredential } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { GRANTED_TOOLS } from "@convos-pool/kit/content";
import { reactivateWallet, type ToolRef, type ToolState } from "../tools/sql.js";
import type { PoolTools, ProvisionedTool } from "../tools/provisioning.js";
import { secretsForHost } from "../tools/secrets.js";
import type { Release } from "../templates/release.js";

/** A delivery that failed for a reason the owner and the creator may read (never a secret). */
export class SyncFailure extends Error {}

interface ToolRow {
  tool_id: string;
  provider: string;
  handle: string;
  secret: Uint8Array | null;
  state: ToolState;
}

const toolRef = (instanceId: string, row: ToolRow): ToolRef => ({
  instanceId,
  toolId: row.tool_id,
  provider: row.provider,
  handle: row.handle,
  secret: row.secret,
});

export class ReleaseTools {
  constructor(
    private readonly em: EntityManager,
    /** Pool tools: provisioned and released through it alone. */
    private readonly tools: PoolTools,
    /** Numbers and mailboxes a new version may bring without a grant (SyncWorkerOptions.withoutGrant). */
    private readonly withoutGrant: readonly string[],
  ) {}

  /**
   * Every pool tool the release declares, with its credentials: the ones the
   * instance has, and new ones provisioned and recorded first (sealed), so a
   * retry reuses them.
   */
  async credentials(instanceId: string, release: Release): Promise<ToolCredential[]> {
    const rows = await this.em
      .fork()
      .execute<ToolRow[]>(
        `select tool_id, provider, handle, secret, state from provisioned_tools where instance_id = ?`,
        [instanceId],
      );
    const byTool = new Map(rows.map((r) => [r.tool_id, r]));
    const out: ToolCredential[] = [];
    for (const toolId of release.poolTools) {
      const row = byTool.get(toolId);
      let tool: ProvisionedTool | undefined;
      if (row?.state === "release_failed") {
        // A resource of an earlier version still being given back: finish that first.
        if (!(await this.tools.release(toolRef(instanceId, row))))
          throw new SyncFailure(`tool "${toolId}" is still being released from an earlier version`);
      } else if (row) {
        // A wallet held since an earlier version dropped it (its owner's money in it): the agent has it back.
        if (row.state === "held") await reactivateWallet(this.em.fork(), instanceId, toolId);
        tool = this.tools.opened(toolRef(instanceId, row));
      }
      tool ??= await this.provision(instanceId, toolId);
      out.push(
        create(ToolCredentialSchema, { toolId, handle: tool.handle, secrets: secretsForHost(toolId, tool.secrets) }),
      );
    }
    return out;
  }

  private async provision(instanceId: string, toolId: string): Promise<ProvisionedTool> {
    if (!this.tools.providerOf(toolId))
      throw new SyncFailure(`the new version needs tool "${toolId}", which this pool cannot provision`);
    // An update cannot make the pool pay: a number or mailbox comes with a claim, under a grant (docs/limits.md).
    if ((GRANTED_TOOLS as readonly string[]).includes(toolId) && !this.withoutGrant.includes(toolId))
      throw new SyncFailure(
        `the new version needs tool "${toolId}", which the pool provides only at a claim, under its operators' grant: add the agent again`,
      );
    try {
      return await this.tools.provision(instanceId, toolId);
    } catch (err) {
      throw new SyncFailure(`could not provision tool "${toolId}": ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /**
   * Gives back the tools the applied version no longer declares: a wallet's
   * money to its owner's payout address, what is left of the pool's grant to
   * the faucet (PoolTools.release; held for the owner when no address is known).
   */
  async releaseUndeclared(instanceId: string, release: Release): Promise<void> {
    const keep = new Set(release.poolTools);
    const rows = await this.em
      .fork()
      .execute<ToolRow[]>(
        `select tool_id, provider, handle, secret, state from provisioned_tools where instance_id = ? and state = 'active'`,
        [instanceId],
      );
    for (const row of rows) if (!keep.has(row.tool_id)) await this.tools.release(toolRef(instanceId, row));
  }
}
