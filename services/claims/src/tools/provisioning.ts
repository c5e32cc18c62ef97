import type { EntityManager } from "@mikro-orm/postgresql";
import { failedPrecondition } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { ProvisionOptions, ToolProvider, ToolProviders, Withdrawn } from "../providers/types.js";
import { secretAad, type SecretBox } from "./secrets.js";
import {
  deleteProvisionedTool,
  insertProvisionedTool,
  lockWallet,
  markToolReleaseFailed,
  markWalletHeld,
  provisionedTool,
  type ToolRef,
} from "./sql.js";

/** A pool tool of an instance as recorded, with its credentials opened: what the instance is given. */
export interface ProvisionedTool extends ToolRef {
  secrets: Record<string, string>;
}

/**
 * The one owner of pool tools: the claim flow, its rollback, the stale-claim
 * sweep and instruction sync all provision and release through it. A tool is
 * recorded (its secrets sealed) as soon as its provider made it, and given
 * back by the provider that made it (its stored name), with its secrets
 * opened again: a wallet's funds go back to whose they are, the owner's
 * share to the owner and what is left of the pool's grant to the faucet
 * (docs/tools.md, "Whose money a wallet holds").
 */
export class PoolTools {
  private readonly byName: Map<string, ToolProvider>;

  /**
   * `retired`: providers that no longer provision here but whose tools may
   * still be recorded (a pool that gained a chain still releases the
   * unfunded wallets it made before).
   */
  constructor(
    private readonly providers: ToolProviders,
    private readonly em: EntityManager,
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    retired: readonly ToolProvider[] = [],
  ) {
    this.byName = new Map([...retired, ...providers.values()].map((p) => [p.name, p]));
  }

  /** Whether new wallets can be funded here (a chain with a faucet). */
  canFund(): boolean {
    return this.providers.get("crypto")?.funds === true;
  }

  /** The provider of a tool id, if this pool has one. */
  providerOf(toolId: string): ToolProvider | undefined {
    return this.providers.get(toolId);
  }

  /**
   * Provisions the tool and records it. Provider errors are thrown as they
   * are (ProvisioningError says why). When another delivery recorded the same
   * tool meanwhile, ours is given back and the recorded one returned, unless
   * the provider gave both the same resource (an idempotent provider, as
   * AgentMail is by client id): giving it back would take the recorded one.
   */
  async provision(instanceId: string, toolId: string, opts?: ProvisionOptions): Promise<ProvisionedTool> {
    const provider = this.providers.get(toolId);
    if (!provider) throw new Error(`this pool cannot provision tool "${toolId}"`);
    const resource = await provider.provision(instanceId, toolId, opts);
    const secret =
      Object.keys(resource.secrets).length > 0
        ? this.secrets.seal(resource.secrets, secretAad(instanceId, toolId))
        : null;
    const made = { instanceId, toolId, provider: provider.name, handle: resource.handle, secret };
    // What the faucet gave the wallet: the pool's share of it from now on.
    const grantedWei = opts?.fundWei ?? 0n;
    if (await insertProvisionedTool(this.em.fork(), { ...made, grantedWei }))
      return { ...made, secrets: resource.secrets };
    const recorded = await provisionedTool(this.em.fork(), instanceId, toolId);
    // Not this instance's: the provider gave out a resource another instance holds. Not ours to give back.
    if (!recorded)
      throw new Error(
        `tool "${toolId}": provider ${provider.name} gave this instance a resource another instance holds`,
      );
    if (recorded.handle !== resource.handle) {
      const giveBack = provider.releaseFunds
        ? provider.releaseFunds(resource.handle, resource.secrets, { grantedWei })
        : provider.release(resource.handle, resource.secrets);
      await giveBack.catch(() => {});
    }
    if (recorded.state !== "active") throw new Error(`tool "${toolId}" changed while it was provisioned`);
    const { state: _, ...ref } = recorded;
    return this.opened(ref);
  }

  /** A recorded tool with its secrets opened. */
  opened(t: ToolRef): ProvisionedTool {
    return { ...t, secrets: t.secret ? this.secrets.open(t.secret, secretAad(t.instanceId, t.toolId)) : {} };
  }

  /**
   * After the recorded tools of an instance that is going (a stale claim, a
   * rollback) were released: what providers still hold for it without a
   * record (made just before a claims process died) is given back too.
   * `complete` is false when a provider could not be asked.
   */
  async releaseUnrecorded(instanceId: string): Promise<{ released: number; complete: boolean }> {
    let released = 0;
    let complete = true;
    for (const provider of this.byName.values()) {
      if (!provider.releaseAllOf) continue;
      try {
        released += await provider.releaseAllOf(instanceId);
      } catch (err) {
        complete = false;
        this.log.error("could not give back what a provider holds for a gone instance", {
          instanceId,
          provider: provider.name,
          err,
        });
      }
    }
    if (released > 0) this.log.warn("gave back tools no record named", { instanceId, released });
    return { released, complete };
  }

  /**
   * Two tries, then the row stays as `release_failed` for the sweep. True
   * once released and its row deleted; false also for a wallet kept `held`
   * for its owner (their money in it, and no payout address known).
   */
  async release(t: ToolRef): Promise<boolean> {
    const provider = this.byName.get(t.provider);
    let lastErr: unknown = new Error(`no provider "${t.provider}" in this pool`);
    for (let attempt = 0; provider && attempt < 2; attempt++) {
      try {
        const releaseFunds = provider.releaseFunds?.bind(provider);
        if (releaseFunds) return (await this.releaseWallet(releaseFunds, t)) !== "held";
        await provider.release(t.handle, this.opened(t).secrets);
        await deleteProvisionedTool(this.em.fork(), t.instanceId, t.toolId);
        return true;
      } catch (err) {
        lastErr = err;
      }
    }
    this.log.error("tool release failed; kept for the sweep", {
      instanceId: t.instanceId,
      toolId: t.toolId,
      provider: t.provider,
      err: lastErr,
    });
    await markToolReleaseFailed(this.em.fork(), t.instanceId, t.toolId).catch(() => {});
    return false;
  }

  /**
   * A wallet on a chain, released with its row locked (a withdrawal waits):
   * the owner's share to the instance's payout address, what is left of the
   * grant to the faucet, then the row deleted. With the owner's money in it
   * and no payout address, nothing moves and the row stays `held`.
   */
  private async releaseWallet(
    releaseFunds: NonNullable<ToolProvider["releaseFunds"]>,
    t: ToolRef,
  ): Promise<"released" | "held"> {
    return this.em.fork().transactional(async (tx) => {
      const w = await lockWallet(tx, t.instanceId, t.toolId);
      if (!w) return "released"; // released meanwhile
      const out = await releaseFunds(w.handle, this.opened(w).secrets, {
        grantedWei: w.grantedWei,
        payTo: w.payoutAddress,
      });
      if (out === "held") {
        await markWalletHeld(tx, t.instanceId, t.toolId);
        this.log.info("wallet held for its owner: their funds in it, no payout address", {
          instanceId: t.instanceId,
          toolId: t.toolId,
        });
        return "held";
      }
      await deleteProvisionedTool(tx, t.instanceId, t.toolId);
      return "released";
    });
  }

  /**
   * The owner's share of an instance's wallet to `to` (WithdrawFunds), with
   * its row locked; `authorize` runs first in the same transaction (spends
   * the owner's signature), so a refused withdrawal leaves it unspent. A
   * wallet held after its release is released for good once its owner has
   * taken their share: what is left of the grant goes to the faucet.
   * FAILED_PRECONDITION: no wallet, one on no chain, nothing to withdraw.
   */
  async withdraw(
    instanceId: string,
    to: `0x${string}`,
    authorize: (tx: EntityManager) => Promise<void>,
  ): Promise<Withdrawn> {
    return this.em.fork().transactional(async (tx) => {
      const w = await lockWallet(tx, instanceId, "crypto");
      if (!w) throw failedPrecondition(`instance ${instanceId} has no wallet of the pool's`);
      const provider = this.byName.get(w.provider);
      if (!provider?.withdraw)
        throw failedPrecondition(`instance ${instanceId}'s wallet is on no chain this pool reaches: nothing to send`);
      await authorize(tx);
      const secrets = this.opened(w).secrets;
      const out = await provider.withdraw(w.handle, secrets, { grantedWei: w.grantedWei, to });
      if (out.sentWei === 0n)
        throw failedPrecondition(
          `nothing to withdraw: the wallet ${w.handle} holds no more than the pool's grant (${w.grantedWei} wei) and a transfer's fee`,
        );
      if (w.state === "held") {
        // The owner's money is theirs already; a failure here leaves the rest held, to finish at the next withdrawal.
        try {
          if (
            (await provider.releaseFunds?.(w.handle, secrets, { grantedWei: w.grantedWei, payTo: to })) === "released"
          )
            await deleteProvisionedTool(tx, instanceId, w.toolId);
        } catch (err) {
          this.log.warn("a held wallet's grant was not returned after its owner's withdrawal", { instanceId, err });
        }
      }
      return out;
    });
  }
}
