/**
 * The claim of an agent from the store (docs/claims.md): check the
 * request (request.ts), prove the requester (proof.ts) and the
 * template, claim an idle instance atomically (within the owner's caps,
 * holdings.ts), provision the pool tools, configure the instance, join it to
 * the conversation, make the requester its owner. Any failure on the way
 * rolls back (rollback.ts; docs/claims.md). A clone is the same claim of its parent's
 * template (clone.ts); a claim with an idempotency key gives a retry the
 * first claim's outcome (idempotency.ts).
 *
 * The flow is also the service's door to what surrounds a claim: removal
 * (removal.ts), the owner's withdrawal from the agent's wallet
 * (withdrawal.ts) and the sweep after claims processes that died
 * (sweep.ts).
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Inheritance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ConfigureRequestSchema } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import {
  annotate,
  Batcher,
  inSpan,
  type LimitConfig,
  type Logger,
  RateLimit,
  whileDatabaseAway,
  withoutDeadline,
} from "@convos-pool/kit/server";
import { initialTrustLevel, nonceUsed, parseTrustLevel } from "@convos-pool/kit/content";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import { consumeNonce, postgresRates } from "@convos-pool/kit/service";
import { checkIdempotencyKey, renewKeys } from "./idempotency-keys.js";
import { claimFailure, provisioningFailure, type Stage } from "./errors.js";
import { checkClaimRequest, planClaim, type ClaimInput } from "./request.js";
import { isClaimedBy, renewClaims, type ClaimParams, type ClaimedInstance } from "./sql.js";
import { askParent, checkCloneTemplate, prepareClone, type Clone } from "./clone.js";
import { claimBatch, claimWithinCaps } from "./holdings.js";
import { completeWithKeys, firstClaimOutcome, settleFailedClaim, type KeyedCompletion } from "./idempotency.js";
import type { PoolTools, ProvisionedTool } from "../tools/provisioning.js";
import { secretsForHost } from "../tools/secrets.js";
import type { Withdrawn } from "../providers/types.js";
import { proveRequester, type Proof } from "./proof.js";
import { checkConversationNotFull, conversationKeyOf } from "./full-conversation.js";
import { agentOfTemplateIn, checkSecondAgent } from "./second-agent.js";
import type { TemplateSource } from "../templates/release.js";
import { removeAgent } from "./removal.js";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";
import { rollbackClaim } from "./rollback.js";
import { cancelled, cancelledAmong, setStage, type RunningStage } from "./progress.js";
import { sweepClaims } from "./sweep.js";
import { planSpend, spendIsCapped, type PoolBudget, type Spend } from "../budget/policy.js";
import { refundSpend, reserveSpend, type Reserved } from "../budget/sql.js";

export interface ClaimFlowDeps {
  em: EntityManager;
  templates: TemplateSource;
  /** Pool tools: provisioned and released through it alone. */
  tools: PoolTools;
  runtime: InstanceRuntime;
  /** Checks requesters' ClaimAgent signatures. */
  verifier: SignatureVerifier;
  /** claimsPerCaller, liveAgentsPerOwner, poolToolsPerOwner (docs/limits.md). */
  limits: LimitConfig;
  /** What the pool pays for: grants needed, the day's budget (docs/limits.md). */
  budget: PoolBudget;
  log: Logger;
  /** Counts a successful claim, and its owner, for the store's "most used" order; best effort. */
  recordUse?: (templateId: string, ownerId: string) => Promise<void>;
  /**
   * A claim's lease: its process renews it every quarter of it while the
   * claim is in flight; one not renewed for this long belongs to a process
   * that died, and the sweep resolves it. Default 20 s.
   */
  claimLeaseSeconds?: number | undefined;
  /** Told of every agent that joined its conversation and is now claimed (its first attestation). */
  claimed?: (instance: InstanceRef) => void;
}

export const NO_IDLE_AGENT = "no idle agent, try again";

/**
 * Claims in one batch query at most, and such batches (of takes, and of
 * completions) at once. PostgreSQL runs a batch in one backend, one claim
 * after the other: four batches of up to 25 on four of the pool's
 * connections kept claims moving through their steps, where whole batches of
 * 50 marched together (measured, docs/performance/claims.md: ratio 0.28 to 0.29 against 0.26).
 */
const BATCH_SIZE = 25;
const BATCHES_IN_FLIGHT = 4;

export class ClaimFlow {
  private readonly tools: PoolTools;
  readonly claimLeaseSeconds: number;
  private readonly perCaller: RateLimit;
  /**
   * The claims this process has in flight, by claim id: their leases are
   * renewed (renewLeases), and each one's controller stops it when its
   * requester cancels (progress.ts).
   */
  private readonly inFlight = new Map<string, AbortController>();
  /**
   * Claims in flight together take their instances in one query and
   * complete in one (kit batcher.ts): a round trip each for many claims
   * instead of two per claim (docs/scaling.md, "Claims in batches"). What
   * arrives while BATCHES_IN_FLIGHT run goes in the next.
   */
  private readonly takes: Batcher<ClaimParams, ClaimedInstance | undefined>;
  private readonly completions: Batcher<KeyedCompletion, boolean>;

  constructor(private readonly deps: ClaimFlowDeps) {
    this.tools = deps.tools;
    this.claimLeaseSeconds = deps.claimLeaseSeconds ?? 20;
    this.perCaller = new RateLimit("claims per caller", deps.limits.claimsPerCaller, postgresRates(deps.em));
    const batches = { maxInFlight: BATCHES_IN_FLIGHT, maxBatch: BATCH_SIZE };
    this.takes = new Batcher(async (batch, settle) => {
      for (const [i, got] of (await claimBatch(deps.em.fork(), batch, deps.limits)).entries()) settle(i, got);
    }, batches);
    this.completions = new Batcher(async (batch, settle) => {
      for (const [i, done] of (await this.complete(batch)).entries()) settle(i, done);
    }, batches);
  }

  /**
   * Claims an agent for `req.requester`, who must be proven: `caller` (the
   * signed-in person the gateway forwarded) or the claim's own signature.
   * With an idempotency key, a retry gets the first claim's outcome.
   * The steps' numbers are docs/claims.md's ("The claim flow").
   */
  async claim(req: ClaimRequest, caller?: string): Promise<{ instanceId: string; inheritance?: Inheritance }> {
    // Step 1: the fields.
    const input = checkClaimRequest(req);
    const key = checkIdempotencyKey(req.idempotencyKey);
    let clone: Clone | undefined;
    let proof: Proof;
    // Step 2: the requester, proven (and a clone's owner signature).
    if (req.cloneFrom) {
      ({ clone, proof } = await prepareClone(this.deps, req, input, caller));
    } else {
      proof = await proveRequester(
        this.deps.verifier,
        { ...input, conversationInvite: req.conversationInvite, signature: req.signature },
        caller,
      );
    }
    const claimId = randomUUID();
    const keyed = key !== undefined ? { requester: input.requester, key, claimId } : undefined;
    if (keyed) {
      const first = await firstClaimOutcome(this.deps.em, req, keyed, (this.claimLeaseSeconds + 15) * 1000);
      if (first) return first;
    }
    const stop = new AbortController();
    this.inFlight.set(claimId, stop);
    let took = false;
    try {
      return await this.claimWith(claimId, keyed !== undefined, input, proof, clone, () => (took = true), stop.signal);
    } catch (err) {
      if (keyed) await settleFailedClaim(this.deps.em, this.deps.log, { ...keyed, took }, err);
      throw err;
    } finally {
      this.inFlight.delete(claimId);
    }
  }

  /**
   * Renews the leases of the claims in flight here (the server calls it
   * every quarter of the lease), and stops those cancelled on another replica.
   */
  async renewLeases(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0) return;
    await renewClaims(this.deps.em.fork(), ids);
    await renewKeys(this.deps.em.fork(), ids);
    for (const id of await cancelledAmong(this.deps.em.fork(), ids)) this.cancel(id);
  }

  /** Stops the claim `claimId` if it runs here (its requester cancelled it: progress.ts); false when it does not. */
  cancel(claimId: string): boolean {
    const stop = this.inFlight.get(claimId);
    stop?.abort(cancelled());
    return stop !== undefined;
  }

  /** The claim itself, under `claimId`; `took` is called once it holds an instance. */
  private async claimWith(
    claimId: string,
    keyed: boolean,
    input: ClaimInput,
    proof: Proof,
    clone: Clone | undefined,
    took: () => void,
    signal: AbortSignal,
  ): Promise<{ instanceId: string; inheritance?: Inheritance }> {
    // A keyed claim's stage, for its requester to read (progress.ts); a write that fails only leaves the stage behind.
    const enter = async (next: RunningStage) => {
      if (keyed)
        await setStage(this.deps.em.fork(), claimId, next).catch((err: unknown) =>
          this.deps.log.warn("a claim's stage was not recorded", { claimId, stage: next, err }),
        );
    };
    // Step 2, its end: one claim counted against the requester's rate.
    await this.perCaller.take(input.requester);
    // Steps 3 to 6: the template as the requester may see it, its user tools and model, what the pool pays.
    const templateId = clone ? clone.parent.templateId : input.templateId;
    const got = await this.deps.templates.getTemplate(templateId);
    if (clone) checkCloneTemplate(clone, got.template);
    const plan = planClaim(templateId, got, input, clone?.parent, (toolId) => !!this.tools.providerOf(toolId));
    const { release, model, overridden, userConfig } = plan;
    const { content } = release;
    // What the pool pays for it, allowed by the operators' grant or refused here (docs/limits.md).
    const spend = planSpend(
      got.template.id,
      plan.poolTools.map((t) => t.id),
      got.grant,
      this.deps.budget,
      this.tools.canFund(),
    );

    // A conversation already at XMTP's limit is refused before anything is taken (full-conversation.ts).
    const conversationKey = await conversationKeyOf(input.invite);
    if (conversationKey) await checkConversationNotFull(this.deps, conversationKey);
    // A second agent of the template there only when the requester confirmed it (second-agent.ts); a clone names its parent.
    if (conversationKey && !clone) {
      const there = await agentOfTemplateIn(this.deps.em.fork(), conversationKey, got.template.id, input.requester);
      checkSecondAgent(there, input.requester, input.confirmSecondAgent);
    }

    // Step 7: the atomic claim of one idle instance, its spend counted with it.
    const ids = { "pool.template_id": got.template.id, "pool.template_version": Number(got.release.version) };
    annotate(ids);
    // Each step a span of the claim's trace (docs/runbook.md, "Traces"): ids only, never the request's words.
    const { instance, reserved } = await inSpan("claim.take", ids, async () => {
      const taken = await this.takeIdle(proof, spend, {
        claimId,
        ownerId: input.requester,
        toolsReserved: plan.poolTools.length,
        templateId: got.template.id,
        templateVersion: Number(got.release.version),
        agentName: content.agent_name,
        model,
        modelOverridden: overridden,
        userConfig,
        // An OpenClaw template's agents go only to OpenClaw hosts, and the others only to the rest (docs/openclaw.md).
        runtime: content.runtime === "openclaw" ? "openclaw" : "pool",
      });
      annotate({ "pool.instance_id": taken.instance.id });
      return taken;
    });
    took();
    const at = { ...ids, "pool.instance_id": instance.id };
    // Cancelled from here on: stopped before its next step (or during the join), rolled back, CANCELLED.
    const checkCancelled = () => {
      if (signal.aborted) throw signal.reason;
    };
    annotate(at);

    const provisioned: ProvisionedTool[] = [];
    let stage: Stage = "provision";
    try {
      // Step 8: pool-provisioned tools, each recorded (secrets sealed) as soon as it exists.
      for (const tool of plan.poolTools) {
        checkCancelled();
        try {
          const opts = tool.id === "crypto" && spend.fundWei > 0n ? { fundWei: spend.fundWei } : undefined;
          provisioned.push(await this.tools.provision(instance.id, tool.id, opts));
        } catch (err) {
          throw provisioningFailure(tool.id, err);
        }
      }

      // Step 9: configure, then join.
      checkCancelled();
      stage = "configure";
      await enter("starting");
      await inSpan("claim.configure", at, () =>
        this.deps.runtime.configure(
          instance,
          create(ConfigureRequestSchema, {
            instanceId: instance.id,
            // As the creators signed them: the instance checks each signature before it accepts.
            template: got.release,
            bases: got.bases,
            ownerId: input.requester,
            model,
            modelOverridden: overridden,
            tools: provisioned.map((t) => ({
              toolId: t.toolId,
              handle: t.handle,
              secrets: secretsForHost(t.toolId, t.secrets),
            })),
            userConfig,
            // The owner's own signature of this claim, for the agent's birth certificate (none for a session).
            ...(proof.owner ? { ownerProof: proof.owner } : {}),
            // A clone learns who its parent is: it takes a summary only from that inbox, checked against the seed.
            ...(clone
              ? {
                  parent: {
                    instanceId: clone.parent.id,
                    inboxId: clone.parent.inboxId,
                    walletIndex: clone.parent.walletIndex,
                  },
                }
              : {}),
          }),
        ),
      );

      // Join the conversation from its invite: the instance asks the creator and waits for their client to add it.
      checkCancelled();
      stage = "join";
      await enter("joining");
      const { conversationId } = await inSpan("claim.join", at, () =>
        untilAborted(this.deps.runtime.join(instance, input.invite), signal),
      );

      // Step 10: the requester owns it, and only now is it claimed.
      stage = "complete";
      const done = await inSpan("claim.complete", at, () =>
        this.completions.add({
          keyed,
          completion: {
            instanceId: instance.id,
            claimId,
            ownerId: input.requester,
            conversationId,
            conversationKey,
            appliedKey: release.key,
            ...(clone ? { clone: { parentInstanceId: clone.parent.id, carry: clone.carry.join(",") } } : {}),
            // Where the agent started (it computes the same from the signed release).
            trustLevel: initialTrustLevel(parseTrustLevel(content.max_trust_level ?? "") ?? TrustLevel.UNSPECIFIED),
            // Where the owner's share of the agent's wallet goes when it is released (docs/tools.md).
            payoutAddress: proof.signer,
          },
        }),
      );
      if (!done) throw new ConnectError("the claim took too long and was abandoned; try again", Code.Aborted);
    } catch (err) {
      // Undoing is not cut short by the caller's deadline, which may be why it failed.
      await withoutDeadline(() => rollbackClaim(this.deps, instance, claimId, provisioned, stage, err));
      if (reserved) {
        // Its tools went back (a wallet's funds with it): the day's budget gets them back too.
        await refundSpend(this.deps.em.fork(), reserved).catch((e: unknown) =>
          this.deps.log.warn("the day's budget kept a rolled-back claim's spend", { instanceId: instance.id, err: e }),
        );
      }
      throw err === signal.reason ? err : claimFailure(stage, err);
    }
    // Its badge: the pool's attestation, published in its profile (attestations.ts); a failure is retried there.
    this.deps.claimed?.(instance);
    this.deps.log.info("claimed", {
      instanceId: instance.id,
      templateId: got.template.id,
      tools: provisioned.length,
      parentInstanceId: clone?.parent.id,
    });
    // Step 11: the template's use counted, after the answer is decided.
    if (this.deps.recordUse) {
      this.deps
        .recordUse(got.template.id, input.requester)
        .catch((err: unknown) => this.deps.log.warn("usage count not recorded", { templateId: got.template.id, err }));
    }
    // A clone: the parent sends its summary to the child, past the pool (docs/claims.md, "Clone with context", step 3).
    const inheritance = clone ? await askParent(this.deps, clone, instance) : undefined;
    return { instanceId: instance.id, ...(inheritance ? { inheritance } : {}) };
  }

  /**
   * The atomic claim query, within the owner's caps when there are any
   * (one call: holdings.ts); with a signature to spend or a spend of the
   * pool's to count (budget/sql.ts), in one transaction with them, so that a
   * claim refused there takes nothing and spends nothing.
   */
  private async takeIdle(
    proof: Proof,
    spend: Spend,
    params: ClaimParams,
  ): Promise<{ instance: ClaimedInstance; reserved?: Reserved }> {
    const found = (instance: ClaimedInstance | undefined) => {
      if (!instance) throw new ConnectError(NO_IDLE_AGENT, Code.ResourceExhausted);
      return instance;
    };
    const capped = spendIsCapped(spend, this.deps.budget);
    if (!proof.nonce && !capped) return { instance: found(await this.takes.add(params)) };
    // A signed claim spends its nonce, a capped one the pool's budget, in the transaction that takes its instance: alone.
    return this.deps.em.fork().transactional(async (tx) => {
      if (
        proof.nonce &&
        !(await consumeNonce(tx, {
          nonce: proof.nonce,
          inboxId: params.ownerId,
          purpose: proof.purpose ?? "ClaimAgent",
        }))
      ) {
        const field = proof.purpose === "CloneAgent" ? "owner_signature" : "signature";
        throw nonceUsed(`${field}.nonce`);
      }
      const instance = found(await claimWithinCaps(tx, params, this.deps.limits));
      if (!capped) return { instance };
      return { instance, reserved: await reserveSpend(tx, instance.id, spend, this.deps.budget) };
    });
  }

  /**
   * Completes a batch of claims: for each, whether its claim still held its
   * instance (a keyed claim's key says so in the same transaction). The
   * agents are in their conversations now: a database away for a moment is
   * waited for, not a reason to undo them.
   */
  private async complete(batch: KeyedCompletion[]): Promise<boolean[]> {
    return whileDatabaseAway(async (attempt) => {
      const done = await completeWithKeys(this.deps.em.fork(), batch);
      // A COMMIT lost with its connection may have gone through.
      if (attempt === 1) return done;
      return Promise.all(
        batch.map(
          async ({ completion: c }, i) =>
            done[i] || isClaimedBy(this.deps.em.fork(), c.instanceId, c.ownerId, c.conversationId),
        ),
      );
    });
  }

  /**
   * Removes an owner's agent (removal.ts), spending the owner's proof
   * (proveOwned) in its transaction; false when it is not the owner's live
   * agent (any more).
   */
  remove(
    instanceId: string,
    ownerId: string,
    spendNonce: (tx: EntityManager) => Promise<void>,
    signer?: string,
  ): Promise<boolean> {
    return removeAgent(this.deps, instanceId, ownerId, spendNonce, signer);
  }

  /**
   * The owner's share of the agent's wallet to `to`, the wallet that signed
   * WithdrawFunds (withdrawal.ts); `authorize` spends that signature in the
   * transaction that holds the wallet's row.
   */
  withdraw(instanceId: string, to: `0x${string}`, authorize: (tx: EntityManager) => Promise<void>): Promise<Withdrawn> {
    return this.tools.withdraw(instanceId, to, authorize);
  }

  /**
   * Resolves the claims of processes that died mid-claim (sweep.ts). Its own
   * claims' leases are renewed first: after the database was away longer than
   * a lease, they would look stale to this very sweep while their completion
   * waits for the database to come back.
   */
  async sweep(): Promise<{ staleClaims: number; toolsReleased: number }> {
    await this.renewLeases();
    return sweepClaims(this.deps, this.claimLeaseSeconds);
  }
}

/**
 * `work`, or the signal's reason once it aborts: a cancelled claim stops
 * waiting for its join at once. The join itself is stopped by the release of
 * the rollback (an instance's release ends the join it waits on).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
