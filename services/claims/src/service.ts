import { create, toBinary } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  InstanceServiceSetTrustLevelRequestSchema,
  InstanceServiceSetPermissionsRequestSchema,
  InstanceServiceSetParticipationRequestSchema,
  InstanceServiceWithdrawTransferRequestSchema,
  ListActivityRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import type {
  GetTemplateReleaseResponse,
  TemplateReleaseService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { SignedTemplateSchema, type SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { callerInboxId, type Logger, pageSize, type ServiceClient } from "@convos-pool/kit/server";
import {
  failedPrecondition,
  type FieldViolationInfo,
  INBOX_ID_PATTERN,
  invalidArgument,
  invalidArguments,
  MAX_TEMPLATE_LAYERS,
  nonceUsed,
  notFound,
  permissionDenied,
  resolveParticipation,
  resolvePermissions,
  TEMPLATE_ID_PATTERN,
  unauthenticated,
} from "@convos-pool/kit/content";
import { releaseOperation, type SignatureVerifier, type VerifiedSignature } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import type { ClaimFlow } from "./claim/claim-flow.js";
import { visibleTo } from "./claim/claim-request.js";
import {
  agentForFlow,
  completeTransfer,
  offerTransfer,
  setAgentSetting,
  setTrustLevel,
  withdrawTransfer as withdrawOffer,
} from "./claim/claim-sql.js";
import {
  getInstance,
  instanceToProto,
  listOwnerAgents,
  listTemplateInstances,
  templateRollout,
  type InstanceData,
  type PendingTransfer,
} from "./db/queries.js";
import {
  proveOwned,
  requireFreshSignature,
  requireOwnerSignature,
  type OwnerOperation,
  type SignedRequest,
} from "./claim/proof.js";
import { withdrawFunds } from "./claim/withdrawal.js";
import type { InstanceRef } from "./pool/runtime.js";
import { countBehind, markTemplateDue, setPinned, storeRelease } from "./sync/sync-sql.js";
import { describeRelease, type TemplateSource, type TemplateWithRelease } from "./claim/release.js";
import type { SyncWorker } from "./sync/sync.js";
import { withTemplateDelistings, type TemplateStandings } from "./sync/template-standings.js";

export interface ClaimServiceDeps {
  em: EntityManager;
  flow: ClaimFlow;
  /** Checks owners' signatures (SetInstancePin without a signed-in caller, RemoveAgent always). */
  verifier: SignatureVerifier;
  sync: Pick<SyncWorker, "kick">;
  /** TemplateReleaseService (grpcTemplateSource): who created a template, for its instance list. */
  templates: TemplateSource;
  /** Which templates are delisted, shown to their agents' owners; absent: not shown. */
  standings?: TemplateStandings;
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
   * SetPermissions, SetParticipation): the signature is required even with a
   * session, because the agent checks it itself; the agent takes it, then the
   * pool records what it took and spends the nonce, once.
   */
  async function ownerSetting<T>(
    instanceId: string,
    ctx: HandlerContext,
    signed: SignedRequest<"SetTrustLevel" | "SetPermissions" | "SetParticipation", Signature>,
    take: (ref: InstanceRef, ownerId: string) => Promise<T>,
    record: (tx: EntityManager, instanceId: string, ownerId: string, took: T) => Promise<boolean>,
  ): Promise<{ instance: Instance }> {
    const { agent, spendNonce } = await ownedInstance(instanceId, ctx, signed);
    const ref = await agentForFlow(deps.em.fork(), agent.id);
    if (!ref || !["claimed", "crashed"].includes(ref.state)) throw notFound(`instance ${instanceId}`);
    const took = await take(ref, agent.ownerId);
    await deps.em.fork().transactional(async (tx) => {
      await spendNonce(tx);
      if (!(await record(tx, agent.id, agent.ownerId, took))) throw notFound(`instance ${instanceId}`);
    });
    return current(instanceId);
  }

  return {
    async claim(req, ctx) {
      return deps.flow.claim(req, callerInboxId(ctx));
    },

    async listOwnerAgents(req, ctx) {
      if (!INBOX_ID_PATTERN.test(req.ownerId))
        throw invalidArgument("owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
      // "My agents" is private data: only its owner, signed in, lists it.
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to list your agents");
      if (caller !== req.ownerId) throw permissionDenied("only the owner lists their agents");
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
      // Its owner's only (and the inbox it is offered to, who must see whose it is to accept it):
      // anyone else is told it does not exist (as for private templates).
      const reader = instance && (instance.ownerId === caller || instance.pendingTransfer?.newOwnerId === caller);
      if (!instance || instance.ownerId === null || !reader) throw notFound(`instance ${req.instanceId}`);
      const [shown] = await withTemplateDelistings(deps.standings, [instanceToProto(instance)]);
      return { instance: shown };
    },

    /** The owner only (proof.ts): signed in, or `owner_signature` (SetInstancePin, single-use nonce). */
    async setInstancePin(req, ctx) {
      const { agent, spendNonce } = await ownedInstance(req.instanceId, ctx, {
        operation: "SetInstancePin",
        fields: { pinned: req.pinned },
        signature: req.ownerSignature,
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
      if (!INBOX_ID_PATTERN.test(req.newOwnerId))
        throw invalidArgument("new_owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
      const signature = requireOwnerSignature(req.ownerSignature, "TransferAgent");
      const { agent, spendNonce } = await ownedInstance(req.instanceId, ctx, {
        operation: "TransferAgent",
        fields: { newOwnerId: req.newOwnerId },
        signature,
      });
      if (req.newOwnerId === agent.ownerId) throw invalidArgument("new_owner_id", "is already the agent's owner");
      const offer: PendingTransfer = {
        newOwnerId: req.newOwnerId,
        signature: {
          signature: signature.signature,
          issuedAt: signature.issuedAt.toString(),
          nonce: signature.nonce,
        },
      };
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
      // Without an offer there is nothing the signature could name: only the owner's session learns why.
      if (!offer) {
        if (instance?.ownerId && callerInboxId(ctx) === instance.ownerId)
          throw failedPrecondition(`instance ${req.instanceId} has no open transfer offer`);
        throw notFound(`instance ${req.instanceId}`);
      }
      const { agent, spendNonce } = await proveOwned(deps.verifier, req.instanceId, instance, callerInboxId(ctx), {
        operation: "WithdrawTransfer",
        fields: { newOwnerId: offer.newOwnerId },
        signature,
      });
      const ref = await agentForFlow(deps.em.fork(), agent.id);
      if (!ref) throw notFound(`instance ${req.instanceId}`);
      await deps.flow.withdrawTransfer(
        ref,
        create(InstanceServiceWithdrawTransferRequestSchema, {
          ownerId: agent.ownerId,
          newOwnerId: offer.newOwnerId,
          signature,
          // The offer itself, so the agent voids it by its nonce whatever its date.
          offer: pendingOffer(offer),
        }),
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
      const instance = await getInstance(deps.em.fork(), req.instanceId);
      const offer = instance?.pendingTransfer;
      const caller = callerInboxId(ctx);
      if (!instance || !offer || !instance.ownerId || (caller !== undefined && caller !== offer.newOwnerId))
        throw notFound(`instance ${req.instanceId}`);
      const owner = instance.ownerId;
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
      await deps.flow.transferOwner(ref, {
        ownerId: owner,
        newOwnerId: offer.newOwnerId,
        offer: pendingOffer(offer),
        acceptance: verified.signature,
      });
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
     * The owner's new trust level for one agent: signed (required even with
     * a session: the agent checks it itself, with the template's highest
     * level), then recorded as the agent took it.
     */
    async setTrustLevel(req, ctx) {
      const signature = requireOwnerSignature(req.ownerSignature, "SetTrustLevel");
      const limit = req.dailySpendLimitWei.trim();
      if (limit !== "" && !/^\d{1,78}$/.test(limit))
        throw invalidArgument("daily_spend_limit_wei", "must be a whole number of wei (decimal digits)");
      const fields = { trustLevel: req.trustLevel, dailySpendLimitWei: BigInt(limit || "0") };
      return ownerSetting(
        req.instanceId,
        ctx,
        { operation: "SetTrustLevel", fields, signature },
        (ref, ownerId) =>
          deps.flow.setTrustLevel(
            ref,
            create(InstanceServiceSetTrustLevelRequestSchema, {
              ownerId,
              trustLevel: req.trustLevel,
              dailySpendLimitWei: limit,
              signature,
            }),
          ),
        (tx, id, ownerId, took) => setTrustLevel(tx, id, ownerId, took.trustLevel, took.dailySpendLimitWei),
      );
    },

    /** Whose requests one of the owner's agents acts on (values signed with the defaults filled in). */
    async setPermissions(req, ctx) {
      const want = resolvePermissions(req.permissions);
      const signature = requireOwnerSignature(req.ownerSignature, "SetPermissions");
      return ownerSetting(
        req.instanceId,
        ctx,
        { operation: "SetPermissions", fields: want, signature },
        (ref, ownerId) =>
          deps.flow.setPermissions(
            ref,
            create(InstanceServiceSetPermissionsRequestSchema, { ownerId, permissions: want, signature }),
          ),
        (tx, id, ownerId, took) => setAgentSetting(tx, id, ownerId, "permissions", took),
      );
    },

    /** When one of the owner's agents speaks in its conversation. */
    async setParticipation(req, ctx) {
      const want = resolveParticipation(req.participation);
      const signature = requireOwnerSignature(req.ownerSignature, "SetParticipation");
      return ownerSetting(
        req.instanceId,
        ctx,
        { operation: "SetParticipation", fields: want, signature },
        (ref, ownerId) =>
          deps.flow.setParticipation(
            ref,
            create(InstanceServiceSetParticipationRequestSchema, { ownerId, participation: want, signature }),
          ),
        (tx, id, ownerId, took) => setAgentSetting(tx, id, ownerId, "participation", took),
      );
    },

    /** The owner's only, signed in, as GetInstance; the agent keeps the log, the pool passes it on. */
    async listAgentActivity(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to read your agent's activity");
      const ref = await agentForFlow(deps.em.fork(), req.instanceId);
      if (!ref || ref.ownerId !== caller || !["claimed", "crashed"].includes(ref.state))
        throw notFound(`instance ${req.instanceId}`);
      pageSize(req.pageSize);
      const page = await deps.flow.listActivity(
        ref,
        create(ListActivityRequestSchema, { pageSize: req.pageSize, pageToken: req.pageToken }),
      );
      return { entries: page.entries, nextPageToken: page.nextPageToken };
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
      if (!visibleTo(template, caller)) throw notFound(`template ${req.templateId}`);
      if (template.creatorId !== caller) throw permissionDenied("only the template's creator lists its instances");
      const [page, rollout] = await Promise.all([
        listTemplateInstances(deps.em.fork(), template.id, { liveOnly: req.liveOnly, limit, pageToken: req.pageToken }),
        templateRollout(deps.em.fork(), template.id),
      ]);
      return {
        instances: page.instances.map(instanceToProto),
        totalCount: BigInt(page.totalCount),
        nextPageToken: page.nextPageToken,
        rollout: {
          releaseVersion: BigInt(rollout.releaseVersion),
          liveCount: BigInt(rollout.live),
          currentCount: BigInt(rollout.current),
          pendingCount: BigInt(rollout.pending),
          failedCount: BigInt(rollout.failed),
          pinnedCount: BigInt(rollout.pinned),
        },
      };
    },
  };
}

export interface TemplateSyncServiceDeps {
  em: EntityManager;
  sync: Pick<SyncWorker, "kick" | "offer">;
  log: Logger;
}

/** The fields a release needs before it is stored; the signature is the instances' to check. */
function checkRelease(t: SignedTemplate | undefined, field = "template"): SignedTemplate {
  if (!t) throw invalidArgument(field, "is required: the creator-signed template version");
  const v: FieldViolationInfo[] = [];
  const bad = (name: string, description: string) => v.push({ field: `${field}.${name}`, description });
  if (!t.templateId) bad("template_id", "is required");
  else if (!TEMPLATE_ID_PATTERN.test(t.templateId))
    bad("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
  if (!INBOX_ID_PATTERN.test(t.creatorId))
    bad("creator_id", "must be the creator's XMTP inbox ID (64 lower-case hex characters)");
  if (t.version < 1n || t.version > 2_147_483_647n) bad("version", "must be a template version from 1");
  if (!t.content) bad("content", "is required: the version's content");
  if (!t.creatorSignature) bad("creator_signature", "is required: instances check it");
  if (v.length > 0) throw invalidArguments(v);
  // The signed operation must be rebuildable (change kind, patch hash, rollback target, valid content).
  releaseOperation(t, field);
  return t;
}

/**
 * TemplateSyncService (internal: the template service's outbox calls it).
 * Stores the release if it is newer than the one held and, in the same
 * transaction, makes the template's live unpinned instances below it due;
 * then wakes the fan-out. The pool is a courier: it passes the release on
 * unchanged and each instance checks the creator's signature itself.
 */
export function createTemplateSyncService(deps: TemplateSyncServiceDeps): ServiceImpl<typeof TemplateSyncService> {
  return {
    async pushTemplateVersion(req) {
      const t = checkRelease(req.template);
      if (req.bases.length >= MAX_TEMPLATE_LAYERS)
        throw invalidArgument("bases", `at most ${MAX_TEMPLATE_LAYERS - 1}: a template, its base and the base's base`);
      const bases = req.bases.map((b, i) => checkRelease(b, `bases[${i}]`));
      const release = describeRelease(t, bases);
      const out = await deps.em.fork().transactional(async (tx) => {
        const { held, stored } = await storeRelease(tx, {
          templateId: t.templateId,
          key: release.key,
          release: toBinary(SignedTemplateSchema, t),
          bases: bases.map((b) => toBinary(SignedTemplateSchema, b)),
          defaultModel: release.defaultModel,
        });
        const instances = stored
          ? await markTemplateDue(tx, t.templateId, held)
          : await countBehind(tx, t.templateId, held);
        return { held, stored, instances };
      });
      if (out.stored) deps.sync.offer(release);
      deps.sync.kick();
      deps.log.info("template release received", {
        templateId: t.templateId,
        version: release.key.join("."),
        held: out.held.join("."),
        instances: out.instances,
      });
      return { version: BigInt(out.held[0]), instances: out.instances };
    },
  };
}

/** TemplateSource over gRPC: TemplateReleaseService.GetTemplateRelease. */
export function grpcTemplateSource(
  client: ServiceClient<typeof TemplateReleaseService>["client"],
  timeoutMs = 10_000,
): TemplateSource {
  return {
    async getTemplate(templateId: string): Promise<TemplateWithRelease> {
      let res: GetTemplateReleaseResponse;
      try {
        res = await client.getTemplateRelease({ templateId }, { timeoutMs });
      } catch (err) {
        const e = ConnectError.from(err);
        // NOT_FOUND and bad ids are the requester's to know.
        if (e.code === Code.NotFound || e.code === Code.InvalidArgument) throw e;
        throw new ConnectError(`the template service did not answer (${e.rawMessage}); try again`, Code.Unavailable);
      }
      if (!res.template || !res.release) throw notFound(`template ${templateId}`);
      return { template: res.template, release: res.release, bases: res.bases, grant: res.toolGrant };
    },
  };
}
