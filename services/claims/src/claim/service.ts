// ClaimService: a claim (flow.ts), "My agents", and what an owner does with
// an agent (pin, remove, transfer, settings, activity, withdrawal). Its
// conversations' calls are conversations/'s, a floor above this one, handed
// in by the server (ConversationCalls), as the test chat is. Thin:
// who may do what is policy.ts, who proves to be the owner proof.ts, the
// queries sql.ts; the agent checks each owner's signature again itself.
import { create } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  InstanceServiceSetTrustLevelRequestSchema,
  InstanceServiceSetPermissionsRequestSchema,
  InstanceServiceSetParticipationRequestSchema,
  InstanceServiceWithdrawTransferRequestSchema,
  NoteTransferOfferRequestSchema,
  TransferOwnerRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { callerInboxId, pageSize } from "@convos-pool/kit/server";
import {
  checkTrustRequest,
  nonceUsed,
  notFound,
  resolveParticipation,
  resolvePermissions,
  unauthenticated,
} from "@convos-pool/kit/content";
import type { OperationFields, SignatureVerifier, VerifiedSignature } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import { listAgentActivity } from "./activity.js";
import type { ClaimFlow } from "./flow.js";
import {
  shownTo,
  checkDashboardReader,
  checkNewOwner,
  checkOwnerListing,
  checkTransferTo,
  isLive,
  noOpenOffer,
  openOfferFor,
  readableBy,
} from "./policy.js";
import {
  agentForFlow,
  completeTransfer,
  offerTransfer,
  setAgentSetting,
  type SettingColumn,
  setTrustLevel,
  withdrawTransfer as withdrawOffer,
} from "./sql.js";
import {
  getInstance,
  instanceToProto,
  listOwnerAgents,
  listTemplateInstances,
  templateReach,
  type InstanceData,
  type PendingTransfer,
} from "../db/reads.js";
import {
  proveOwned,
  requireFreshSignature,
  requireOwnerSignature,
  type OwnerOperation,
  type SignedRequest,
} from "./proof.js";
import { withdrawFunds } from "./withdrawal.js";
import { getAgentFunds } from "./funds.js";
import { progressTarget, progressToProto, readProgress, requestCancel, stageOf } from "./progress.js";
import { askAgent, type InstanceRef, type InstanceRuntime } from "../hosts/runtime.js";
import { setPinned } from "../sync/sql.js";
import type { TemplateSource } from "../templates/release.js";
import type { SyncWorker } from "../sync/worker.js";
import { withTemplateDelistings, type TemplateStandings } from "../templates/standings.js";

/**
 * ClaimService's calls of one agent in several conversations
 * (conversations/service.ts): SetParticipation of a request with a
 * conversation_id comes here as `setParticipationIn`, the home's stays here.
 */
export type ConversationCalls = Pick<
  ServiceImpl<typeof ClaimService>,
  "addToConversation" | "removeFromConversation"
> & {
  setParticipationIn: ServiceImpl<typeof ClaimService>["setParticipation"];
};

export interface ClaimServiceDeps {
  em: EntityManager;
  flow: ClaimFlow;
  /** The agents' hosts: the owner's calls passed on to the agent, which checks each signature itself. */
  runtime: Pick<
    InstanceRuntime,
    | "transferOwner"
    | "withdrawTransfer"
    | "noteTransferOffer"
    | "setTrustLevel"
    | "setPermissions"
    | "setParticipation"
    | "listActivity"
    | "getFunds"
  >;
  /** Checks owners' signatures (SetInstancePin without a signed-in caller, RemoveAgent always). */
  verifier: SignatureVerifier;
  sync: Pick<SyncWorker, "kick">;
  /** TemplateReleaseService (grpcTemplateSource): who created a template, for its instance list. */
  templates: TemplateSource;
  /** Which templates are delisted, shown to their agents' owners; absent: not shown. */
  standings?: TemplateStandings;
  /** The studio's test chat (draft/service.ts), composed by the server: it lives on a floor above this one. */
  tryDraft: ServiceImpl<typeof ClaimService>["tryDraft"];
  /** An agent's conversations added, removed and set (conversations/service.ts), composed by the server: a floor above this one. */
  conversations: ConversationCalls;
}

/** The owner's offer as the pool stored it (instances.pending_transfer), as signed. */
function pendingOffer(offer: PendingTransfer): Signature {
  return create(SignatureSchema, {
    signature: offer.signature.signature,
    issuedAt: BigInt(offer.signature.issuedAt),
    nonce: offer.signature.nonce,
  });
}

export function createClaimService(deps: ClaimServiceDeps): ServiceImpl<typeof ClaimService> {
  /** The instance, proven the caller's (proof.ts): the owner's, with the nonce to spend with the change. */
  async function ownedInstance(
    instanceId: string,
    ctx: HandlerContext,
    signed: SignedRequest,
  ): Promise<OwnerOperation<InstanceData>> {
    const instance = await getInstance(deps.em.fork(), instanceId);
    return proveOwned(deps.verifier, instanceId, instance, callerInboxId(ctx), signed);
  }

  /** The instance as it is now, after a change. */
  async function current(instanceId: string): Promise<{ instance: Instance }> {
    const now = await getInstance(deps.em.fork(), instanceId);
    if (!now) throw notFound(`instance ${instanceId}`);
    return { instance: instanceToProto(now) };
  }

  /**
   * An owner's signed setting of one live agent (SetTrustLevel,
   * SetPermissions, SetParticipation): the signature over `fields` is required
   * even with a session, because the agent checks it itself; the agent takes
   * it (askAgent: a refusal names `what`), then the pool records what it took
   * and spends the nonce, once.
   */
  async function ownerSetting<T>(
    req: { instanceId: string; ownerSignature?: Signature | undefined },
    ctx: HandlerContext,
    signed: { operation: "SetTrustLevel" | "SetPermissions" | "SetParticipation"; fields: OperationFields },
    what: string,
    take: (ref: InstanceRef, asked: { ownerId: string; signature: Signature }) => Promise<T>,
    record: (tx: EntityManager, instanceId: string, ownerId: string, took: T) => Promise<boolean>,
  ): Promise<{ instance: Instance }> {
    const signature = requireOwnerSignature(req.ownerSignature, signed.operation);
    const { agent, spendNonce } = await ownedInstance(req.instanceId, ctx, { ...signed, signature });
    const ref = await agentForFlow(deps.em.fork(), agent.id);
    if (!ref || !isLive(ref.state)) throw notFound(`instance ${req.instanceId}`);
    const took = await askAgent(what, () => take(ref, { ownerId: agent.ownerId, signature }));
    await deps.em.fork().transactional(async (tx) => {
      await spendNonce(tx);
      if (!(await record(tx, agent.id, agent.ownerId, took))) throw notFound(`instance ${req.instanceId}`);
    });
    return current(req.instanceId);
  }

  /** SetPermissions or SetParticipation in the home: what the owner signed (`want`) is asked, and recorded in `column` as taken. */
  function homeSetting<T extends object>(
    req: { instanceId: string; ownerSignature?: Signature | undefined },
    ctx: HandlerContext,
    signed: { operation: "SetPermissions" | "SetParticipation"; fields: OperationFields },
    column: SettingColumn,
    take: (ref: InstanceRef, asked: { ownerId: string; signature: Signature }) => Promise<T>,
  ) {
    const record = (tx: EntityManager, id: string, ownerId: string, took: T) =>
      setAgentSetting(tx, id, ownerId, column, took);
    return ownerSetting(req, ctx, signed, `the ${column}`, take, record);
  }

  const { setParticipationIn, ...conversations } = deps.conversations;

  return {
    tryDraft: deps.tryDraft,
    ...conversations,
    async claim(req, ctx) {
      return deps.flow.claim(req, callerInboxId(ctx));
    },

    /** The caller's own keyed claim, as it stands (progress.ts); anyone else's key does not exist for them. */
    async getClaimProgress(req, ctx) {
      const { caller, key } = progressTarget(callerInboxId(ctx), req.idempotencyKey);
      const row = await readProgress(deps.em.fork(), caller, key);
      if (!row) throw notFound(`claim with idempotency_key ${key}`);
      return progressToProto(row);
    },

    /** Marks the caller's running claim cancelled, and stops it here if it runs here (else its process does, at its next renewal). */
    async cancelClaim(req, ctx) {
      const { caller, key } = progressTarget(callerInboxId(ctx), req.idempotencyKey);
      const running = await requestCancel(deps.em.fork(), caller, key);
      if (!running) throw notFound(`running claim with idempotency_key ${key}`);
      deps.flow.cancel(running.claimId);
      return { stage: stageOf({ state: "pending", stage: running.stage, code: null }) };
    },

    async listOwnerAgents(req, ctx) {
      checkOwnerListing(req.ownerId, callerInboxId(ctx));
      const page = await listOwnerAgents(deps.em.fork(), req.ownerId, {
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
      return {
        instances: await withTemplateDelistings(deps.standings, page.instances.map(instanceToProto)),
        nextPageToken: page.nextPageToken,
      };
    },

    async getInstance(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to read your agent");
      const instance = await getInstance(deps.em.fork(), req.instanceId);
      // Anyone but its readers is told it does not exist (as for private templates).
      if (!instance || !readableBy(instance, caller)) throw notFound(`instance ${req.instanceId}`);
      const [one] = await withTemplateDelistings(deps.standings, [shownTo(instanceToProto(instance), caller)]);
      return { instance: one };
    },

    /**
     * The owner only (proof.ts). Pinning, signed in or `owner_signature`
     * (single-use nonce); unpinning hands the agent to whatever its creator
     * publishes next, so the owner signs it each time (docs/security.md).
     */
    async setInstancePin(req, ctx) {
      const { agent, spendNonce } = await ownedInstance(req.instanceId, ctx, {
        operation: "SetInstancePin",
        fields: { pinned: req.pinned },
        signature: req.pinned
          ? req.ownerSignature
          : requireFreshSignature(
              req.ownerSignature,
              "SetInstancePin",
              "to unpin gives the agent its creator's next versions",
            ),
      });
      await deps.em.fork().transactional(async (tx) => {
        await spendNonce(tx);
        if (!(await setPinned(tx, agent.id, req.pinned))) throw notFound(`instance ${req.instanceId}`);
      });
      // Unpinned: brought to the newest version.
      if (!req.pinned) deps.sync.kick();
      return current(req.instanceId);
    },

    /**
     * The owner only; the agent leaves its conversation and its tools are
     * released (ClaimFlow.remove). It cannot be undone, so the owner signs it
     * each time: a session alone, which a stolen token or a sign-in replayed
     * from a look-alike site also gives, is not enough (docs/security.md).
     */
    async removeAgent(req, ctx) {
      const { agent, spendNonce, signer } = await ownedInstance(req.instanceId, ctx, {
        operation: "RemoveAgent",
        fields: {},
        signature: requireFreshSignature(req.ownerSignature, "RemoveAgent"),
      });
      if (!(await deps.flow.remove(agent.id, agent.ownerId, spendNonce, signer)))
        throw notFound(`instance ${req.instanceId}`);
      return {};
    },

    /**
     * The owner offers the agent to another inbox. The owner's signature is
     * required even with a session: the agent checks it itself at acceptance.
     * It is in the kit's window, as every signed request: an offer dated
     * ahead of now by more than the clock-skew allowance is refused here
     * (`owner_signature.issued_at`), so none the pool holds outlives its deadline.
     */
    async transferAgent(req, ctx) {
      checkNewOwner(req.newOwnerId);
      const signature = requireOwnerSignature(req.ownerSignature, "TransferAgent");
      const { agent, spendNonce } = await ownedInstance(req.instanceId, ctx, {
        operation: "TransferAgent",
        fields: { newOwnerId: req.newOwnerId },
        signature,
      });
      checkTransferTo(agent.ownerId, req.newOwnerId);
      const offer: PendingTransfer = {
        newOwnerId: req.newOwnerId,
        signature: {
          signature: signature.signature,
          issuedAt: signature.issuedAt.toString(),
          nonce: signature.nonce,
        },
      };
      // The agent first: from now on this offer is the only one it accepts, so one it replaces (to anyone),
      // kept by anyone, cannot be completed. An agent that cannot be told keeps nothing changed here either.
      const ref = await agentForFlow(deps.em.fork(), agent.id);
      if (!ref) throw notFound(`instance ${req.instanceId}`);
      await askAgent("the offer", () =>
        deps.runtime.noteTransferOffer(
          ref,
          create(NoteTransferOfferRequestSchema, {
            ownerId: agent.ownerId,
            newOwnerId: req.newOwnerId,
            offer: pendingOffer(offer),
          }),
        ),
      );
      await deps.em.fork().transactional(async (tx) => {
        await spendNonce(tx);
        if (!(await offerTransfer(tx, agent.id, agent.ownerId, offer))) throw notFound(`instance ${req.instanceId}`);
      });
      return current(req.instanceId);
    },

    /**
     * The owner takes back the open offer: the agent voids it first (it
     * checks the owner's signature naming the offer's inbox, and voids the
     * offer itself whatever its date), then the pool forgets it. Without an open offer: FAILED_PRECONDITION to the owner's
     * session, NOT_FOUND to anyone else.
     */
    async withdrawTransfer(req, ctx) {
      const signature = requireOwnerSignature(req.ownerSignature, "WithdrawTransfer");
      const instance = await getInstance(deps.em.fork(), req.instanceId);
      const offer = instance?.pendingTransfer;
      if (!offer) throw noOpenOffer(req.instanceId, instance, callerInboxId(ctx));
      const { agent, spendNonce } = await proveOwned(deps.verifier, req.instanceId, instance, callerInboxId(ctx), {
        operation: "WithdrawTransfer",
        fields: { newOwnerId: offer.newOwnerId },
        signature,
      });
      const ref = await agentForFlow(deps.em.fork(), agent.id);
      if (!ref) throw notFound(`instance ${req.instanceId}`);
      await askAgent("the withdrawal", () =>
        deps.runtime.withdrawTransfer(
          ref,
          create(InstanceServiceWithdrawTransferRequestSchema, {
            ownerId: agent.ownerId,
            newOwnerId: offer.newOwnerId,
            signature,
            // The offer itself, so the agent voids it by its nonce whatever its date.
            offer: pendingOffer(offer),
          }),
        ),
      );
      await deps.em.fork().transactional(async (tx) => {
        await spendNonce(tx);
        if (!(await withdrawOffer(tx, agent.id, agent.ownerId, offer.newOwnerId))) {
          throw new ConnectError("the offer changed while it was being withdrawn; read the agent", Code.Aborted);
        }
      });
      return current(req.instanceId);
    },

    /**
     * The inbox the agent was offered to takes it: its AcceptAgent signature
     * (required even with a session), checked here and by the agent, which
     * checks the owner's offer too before it changes owner. Only then does
     * the pool record the new owner (and the lineage outbox its change).
     */
    async acceptAgent(req, ctx) {
      const {
        agent: instance,
        owner,
        offer,
      } = openOfferFor(req.instanceId, await getInstance(deps.em.fork(), req.instanceId), callerInboxId(ctx));
      const fields = { inboxId: offer.newOwnerId, instanceId: instance.id, fromOwnerId: owner };
      let verified: VerifiedSignature;
      try {
        verified = await deps.verifier.verify("AcceptAgent", fields, req.signature, "signature");
      } catch (err) {
        if (ConnectError.from(err).code === Code.PermissionDenied) throw notFound(`instance ${req.instanceId}`);
        throw err;
      }
      const ref = await agentForFlow(deps.em.fork(), instance.id);
      if (!ref) throw notFound(`instance ${req.instanceId}`);
      const transfer = {
        ownerId: owner,
        newOwnerId: offer.newOwnerId,
        offer: pendingOffer(offer),
        acceptance: verified.signature,
      };
      await askAgent("the transfer", () =>
        deps.runtime.transferOwner(ref, create(TransferOwnerRequestSchema, transfer)),
      );
      await deps.em.fork().transactional(async (tx) => {
        if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: offer.newOwnerId, purpose: "AcceptAgent" }))) {
          throw nonceUsed("signature.nonce");
        }
        // The wallet that signed the acceptance is where the agent's wallet pays its new owner (docs/tools.md).
        if (!(await completeTransfer(tx, instance.id, owner, offer.newOwnerId, verified.address))) {
          throw new ConnectError(
            "the offer changed while it was being accepted; read the agent and try again",
            Code.Aborted,
          );
        }
      });
      return current(req.instanceId);
    },

    /**
     * The owner's new trust level for one agent: the level and limit held to
     * the kit's one rule first, as REST's body is (every bad field named at
     * once), then signed (required even with a session: the agent checks it
     * itself, with the template's highest level), then recorded as the agent
     * took it.
     */
    async setTrustLevel(req, ctx) {
      const limit = checkTrustRequest(req.trustLevel, req.dailySpendLimitWei);
      const fields = { trustLevel: req.trustLevel, dailySpendLimitWei: limit.wei };
      return ownerSetting(
        req,
        ctx,
        { operation: "SetTrustLevel", fields },
        "the trust level",
        (ref, asked) =>
          deps.runtime.setTrustLevel(
            ref,
            create(InstanceServiceSetTrustLevelRequestSchema, {
              ...asked,
              trustLevel: req.trustLevel,
              dailySpendLimitWei: limit.text,
            }),
          ),
        (tx, id, ownerId, took) => setTrustLevel(tx, id, ownerId, took.trustLevel, took.dailySpendLimitWei),
      );
    },

    /** Whose requests one of the owner's agents acts on (values signed with the defaults filled in). */
    async setPermissions(req, ctx) {
      const want = resolvePermissions(req.permissions);
      return homeSetting(req, ctx, { operation: "SetPermissions", fields: want }, "permissions", (ref, asked) =>
        deps.runtime.setPermissions(
          ref,
          create(InstanceServiceSetPermissionsRequestSchema, { ...asked, permissions: want }),
        ),
      );
    },

    /**
     * When one of the owner's agents speaks in its home; with a
     * conversation_id, in that conversation (conversations/flow.ts, signed
     * SetConversationParticipation).
     */
    async setParticipation(req, ctx) {
      if (req.conversationId !== "") return setParticipationIn(req, ctx);
      const want = resolveParticipation(req.participation);
      return homeSetting(req, ctx, { operation: "SetParticipation", fields: want }, "participation", (ref, asked) =>
        deps.runtime.setParticipation(
          ref,
          create(InstanceServiceSetParticipationRequestSchema, { ...asked, participation: want }),
        ),
      );
    },

    /** The owner's only, signed in; whole with the owner's signature of the read (claim/activity.ts). */
    listAgentActivity(req, ctx) {
      return listAgentActivity(deps, req, ctx);
    },

    /** Its balance, the owner's share and what it spent today, for its owner signed in (claim/funds.ts). */
    async getAgentFunds(req, ctx) {
      return getAgentFunds(deps, req.instanceId, ctx);
    },

    /** The owner's share of the agent's wallet, to the wallet that signs (claim/withdrawal.ts). */
    async withdrawFunds(req, ctx) {
      return withdrawFunds(deps, req, callerInboxId(ctx));
    },

    /**
     * The creator's dashboard list (docs/lineage.md): the template's creator
     * only. A private (or archived) template of someone else is NOT_FOUND,
     * exactly as a missing one; a public template is visible to anyone, so a
     * caller who is not its creator is told PERMISSION_DENIED.
     */
    async listTemplateInstances(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to list the instances of your template");
      const limit = pageSize(req.pageSize);
      const { template } = await deps.templates.getTemplate(req.templateId);
      checkDashboardReader(req.templateId, template, caller);
      const [page, reach] = await Promise.all([
        listTemplateInstances(deps.em.fork(), template.id, { liveOnly: req.liveOnly, limit, pageToken: req.pageToken }),
        templateReach(deps.em.fork(), template.id),
      ]);
      return {
        instances: page.instances.map((i) => shownTo(instanceToProto(i), caller)),
        totalCount: BigInt(page.totalCount),
        nextPageToken: page.nextPageToken,
        reach: {
          releaseVersion: BigInt(reach.releaseVersion),
          liveCount: BigInt(reach.live),
          currentCount: BigInt(reach.current),
          pendingCount: BigInt(reach.pending),
          failedCount: BigInt(reach.failed),
          pinnedCount: BigInt(reach.pinned),
          running: reach.running.map((r) => ({ version: BigInt(r.version), count: BigInt(r.count) })),
        },
      };
    },
  };
}
