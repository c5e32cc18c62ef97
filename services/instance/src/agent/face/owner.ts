// What only its owner may do, each call signed by them and checked here
// against the network, each signature's nonce spent once: hand the agent to
// a new owner (TransferOwner), set its trust level (SetTrustLevel), whose
// requests it acts on (SetPermissions) and when it speaks (SetParticipation), the
// memory calls (memory/service.ts), the address-book calls
// (tools/address-book/service.ts) and answers to its questions
// (tools/approvals/service.ts). A spent nonce is kept for as long as a
// signature carrying it could still be accepted, and then some: each kind
// of signature has its window below. What a call sets is written through
// the file that holds it: settings.ts (config, participation, sharing), the
// toolbox (trust level, permissions, the address book).

import { create, toJson } from "@bufbuild/protobuf";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TransferProofSchema } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  failedPrecondition,
  INBOX_ID_PATTERN,
  invalidArgument,
  NONCE_KEEP_SECONDS,
  nonceUsed,
  notFound,
  permissionDenied,
  participationModeName,
  resolveParticipation,
  resolvePermissions,
  type ResolvedParticipation,
  type ResolvedPermissions,
  unauthenticated,
} from "@convos-pool/kit/content";
import type {
  InstanceServiceSetParticipationRequest,
  InstanceServiceSetPermissionsRequest,
  InstanceServiceSetTrustLevelRequest,
  InstanceServiceWithdrawTransferRequest,
  NoteTransferOfferRequest,
  TransferOwnerRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { sealedListing, type MemoryAccess } from "../../memory/service.js";
import type { AddressBookAccess } from "../../tools/address-book/service.js";
import type { ApprovalAccess } from "../../tools/approvals/service.js";
import { applyStep, Confirmations } from "../../tools/confirmations/confirmations.js";
import type { ConfirmationAccess } from "../../tools/confirmations/service.js";
import { summarizeConversation } from "../../model/conversation-summary.js";
import { checkOwnerSignature, type OwnerCheck } from "../../platform/owner-signature.js";
import { checkLevelRequest, type TrustFile } from "../../tools/trust/levels.js";
import type { Parts } from "../life/parts.js";
import { describeParticipation } from "../conversation/policy.js";
import { certificateOf } from "./profile.js";
import type { InstanceConfig } from "../state/settings.js";

/** How old a transfer offer may be when the new owner accepts it: its deadline is its date plus this. */
export const TRANSFER_OFFER_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
/**
 * How far ahead of this host's clock an offer may be dated: a clock-skew
 * allowance, no more. An offer dated further ahead would outlive its 7 days
 * and escape a withdrawal dated before it (docs/signatures.md, "Transfer").
 */
export const TRANSFER_OFFER_MAX_SKEW_SECONDS = 5 * 60;
/** An offer's nonce, kept past the offer's own window: counted from when it was offered. */
export const TRANSFER_OFFER_NONCE_KEEP_SECONDS = 2 * TRANSFER_OFFER_MAX_AGE_SECONDS;
/** The new owner's acceptance is an ordinary signed request: its nonce is kept the kit's window, from now. */
export const ACCEPTANCE_NONCE_KEEP_SECONDS = NONCE_KEEP_SECONDS;
/** SetTrustLevel's and the memory calls' signatures are ordinary signed requests too. */
export const OWNER_CALL_NONCE_KEEP_SECONDS = NONCE_KEEP_SECONDS;

/**
 * Whether setting participation from `was` to `now` pauses the agent: a change
 * to paused. Paused again (another cooldown, a retry) is the same pause, and
 * counts once (docs/signals.md, `pauses`).
 */
export function pausedNow(was: ResolvedParticipation, now: ResolvedParticipation): boolean {
  return now.mode === ParticipationMode.PAUSED && was.mode !== ParticipationMode.PAUSED;
}

/** The owner's withdrawals, as the agent keeps them (InstanceConfig). */
export interface Withdrawals {
  /** To whom: every offer to that inbox dated at or before this (unix seconds) is void. */
  withdrawnOffers?: Readonly<Record<string, number>> | undefined;
  /** Nonces of offers voided whatever their date (the pool's open offer at a withdrawal) → until when it is kept. */
  voidedOffers?: Readonly<Record<string, number>> | undefined;
  /** The owner's newest offer it was told of: any other is superseded. */
  newestOffer?: { readonly nonce: string; readonly offeredAt: number } | undefined;
}

/**
 * A TransferOwner's request, checked before any signature: already done (a
 * retry after success, a no-op), or a transfer offered at `offeredAt` (unix
 * seconds), within its window (dated at most TRANSFER_OFFER_MAX_SKEW_SECONDS
 * ahead, at most TRANSFER_OFFER_MAX_AGE_SECONDS ago) and not withdrawn.
 * Throws what the caller got wrong.
 */
export function planTransfer(
  ownerId: string,
  req: Pick<TransferOwnerRequest, "ownerId" | "newOwnerId" | "offer">,
  nowSeconds: number,
  withdrawals: Withdrawals = {},
): { done: true } | { done: false; offeredAt: number } {
  if (!INBOX_ID_PATTERN.test(req.newOwnerId))
    throw invalidArgument("new_owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
  if (ownerId === req.newOwnerId && req.ownerId !== req.newOwnerId) return { done: true };
  if (req.ownerId !== ownerId) throw permissionDenied("owner_id: not this agent's owner");
  if (req.newOwnerId === ownerId) throw invalidArgument("new_owner_id", "is already the owner");
  const offeredAt = Number(req.offer?.issuedAt ?? 0n);
  if (offeredAt > nowSeconds + TRANSFER_OFFER_MAX_SKEW_SECONDS)
    throw unauthenticated("offer.issued_at: dated more than 5 minutes ahead; offer again, dated now");
  if (offeredAt < nowSeconds - TRANSFER_OFFER_MAX_AGE_SECONDS)
    throw unauthenticated("offer.issued_at: the offer is older than 7 days; offer again");
  const nonce = (req.offer?.nonce ?? "").toLowerCase();
  const withdrawnAt = withdrawals.withdrawnOffers?.[req.newOwnerId];
  if (
    (nonce !== "" && withdrawals.voidedOffers?.[nonce] !== undefined) ||
    (withdrawnAt !== undefined && offeredAt <= withdrawnAt)
  )
    throw permissionDenied("offer: the owner withdrew it; offer again");
  if (withdrawals.newestOffer && nonce !== withdrawals.newestOffer.nonce)
    throw permissionDenied("offer: the owner made a newer offer, which replaced it");
  return { done: false, offeredAt };
}

/**
 * What noting the owner's new offer leaves: it the only offer accepted, and
 * the one it replaces void by its nonce (until it would have expired), so
 * that an offer replaced, told again later by whoever kept it, stays void.
 * An offer already void (withdrawn or replaced) is refused.
 */
export function noteOffer(
  current: Withdrawals,
  offer: { nonce: string; offeredAt: number },
  nowSeconds: number,
): { newestOffer: { nonce: string; offeredAt: number }; voidedOffers: Record<string, number> } {
  const nonce = offer.nonce.toLowerCase();
  if (current.voidedOffers?.[nonce] !== undefined)
    throw permissionDenied("offer: the owner withdrew or replaced it; offer again");
  const replaced = current.newestOffer;
  const voidedOffers = voidOffer(current, replaced && replaced.nonce !== nonce ? replaced : undefined, nowSeconds);
  return { newestOffer: { nonce, offeredAt: offer.offeredAt }, voidedOffers };
}

/**
 * The voided nonces after `offer` is voided at `nowSeconds`: it kept until it
 * would have expired anyway, and those already past that dropped.
 */
function voidOffer(
  current: Withdrawals,
  offer: { nonce: string; offeredAt: number } | undefined,
  nowSeconds: number,
): Record<string, number> {
  const voidedOffers: Record<string, number> = {};
  for (const [n, until] of Object.entries(current.voidedOffers ?? {})) if (until >= nowSeconds) voidedOffers[n] = until;
  if (offer)
    voidedOffers[offer.nonce.toLowerCase()] = Math.max(offer.offeredAt, nowSeconds) + TRANSFER_OFFER_MAX_AGE_SECONDS;
  return voidedOffers;
}

/**
 * What a withdrawal leaves: offers to `newOwnerId` dated at or before the
 * withdrawal's signature void, and the offer the pool held (`offerNonce`,
 * dated `offeredAt`) void by its nonce whatever its date, kept until it
 * would have expired anyway; voided nonces already past that are dropped.
 */
export function planWithdrawal(
  current: Withdrawals,
  newOwnerId: string,
  withdrawnAt: number,
  nowSeconds: number,
  offer?: { nonce: string; offeredAt: number },
): { withdrawnOffers: Record<string, number>; voidedOffers: Record<string, number> } {
  const before = current.withdrawnOffers?.[newOwnerId];
  const withdrawnOffers = { ...current.withdrawnOffers, [newOwnerId]: Math.max(before ?? withdrawnAt, withdrawnAt) };
  return { withdrawnOffers, voidedOffers: voidOffer(current, offer, nowSeconds) };
}

/** The owner's calls; each runs inside `ops`, once the agent is ready (its facade sees to it). */
export class OwnerOperations {
  /** The owner's steps asked in Convos (tools/confirmations/), kept for as long as the agent runs. */
  private confirmations?: Confirmations;

  constructor(private readonly agent: Parts) {}

  /** The owner's TransferAgent offer to `newOwnerId`, checked against the network (its window is planTransfer's). */
  private async ownersOffer(config: InstanceConfig, newOwnerId: string, offer: Signature | undefined) {
    const verifier = await this.agent.deps.verifier();
    return verifier.verify(
      "TransferAgent",
      { inboxId: config.ownerId, instanceId: this.agent.id, newOwnerId },
      offer,
      "offer",
      { anyAge: true },
    );
  }

  private claimedConfig(): InstanceConfig {
    const config = this.agent.settings.config;
    if (!config) throw failedPrecondition(`instance ${this.agent.id} has no owner: it is not claimed`);
    return config;
  }

  /**
   * A new owner: the current owner's TransferAgent offer (up to
   * TRANSFER_OFFER_MAX_AGE_SECONDS old, at most TRANSFER_OFFER_MAX_SKEW_SECONDS
   * ahead, not withdrawn) and the new owner's AcceptAgent, both
   * checked here against the network, each nonce once. From then on the new
   * owner's signatures clone it. A retry after success is a no-op.
   */
  async transferOwner(req: TransferOwnerRequest): Promise<void> {
    const agent = this.agent;
    const config = this.claimedConfig();
    const plan = planTransfer(config.ownerId, req, Date.now() / 1000, config);
    if (plan.done) return;
    const offer = await this.ownersOffer(config, req.newOwnerId, req.offer);
    const verifier = await agent.deps.verifier();
    const acceptance = await verifier.verify(
      "AcceptAgent",
      { inboxId: req.newOwnerId, instanceId: agent.id, fromOwnerId: config.ownerId },
      req.acceptance,
      "acceptance",
    );
    const nonces = await agent.nonces();
    if (!(await nonces.spend(offer.signature.nonce, plan.offeredAt + TRANSFER_OFFER_NONCE_KEEP_SECONDS)))
      throw nonceUsed("offer.nonce");
    if (!(await nonces.spend(acceptance.signature.nonce, Date.now() / 1000 + ACCEPTANCE_NONCE_KEEP_SECONDS)))
      throw nonceUsed("acceptance.nonce");
    // Both signatures go into its birth certificate: members can check the new owner without trusting the pool.
    const transfer = create(TransferProofSchema, {
      fromOwnerId: config.ownerId,
      toOwnerId: req.newOwnerId,
      offer: req.offer,
      acceptance: req.acceptance,
    });
    const transfers = [...(config.transfers ?? []), toJson(TransferProofSchema, transfer)];
    // The old owner's withdrawals and offers go with them: only the owner's own offers count.
    const { withdrawnOffers: _, voidedOffers: __, newestOffer: ___, ...kept } = config;
    const next = { ...kept, ownerId: req.newOwnerId, transfers };
    await agent.settings.setConfig(next);
    // The address book was the old owner's: their contacts are neither the new owner's to see nor theirs to pay.
    await agent.toolbox.forgetAddressBook();
    // The conversation of two was with the old owner.
    await agent.ownerLine.forget();
    agent.log.info("owner changed", { fromOwnerId: config.ownerId, ownerId: req.newOwnerId });
  }

  /**
   * The owner's WithdrawTransfer, checked here: every offer of theirs to
   * `new_owner_id` dated at or before it is void from now on, whoever kept
   * it, and so is the open offer the pool holds (`offer`, checked to be the
   * owner's to that inbox), whatever date it carries.
   */
  async withdrawTransfer(req: InstanceServiceWithdrawTransferRequest): Promise<void> {
    const agent = this.agent;
    const config = this.claimedConfig();
    if (!INBOX_ID_PATTERN.test(req.newOwnerId))
      throw invalidArgument("new_owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
    const signature = await checkOwnerSignature(
      await this.ownerCheck(config),
      req.ownerId,
      "WithdrawTransfer",
      { newOwnerId: req.newOwnerId },
      req.signature,
    );
    let open: { nonce: string; offeredAt: number } | undefined;
    if (req.offer) {
      const offer = await this.ownersOffer(config, req.newOwnerId, req.offer);
      open = { nonce: offer.nonce, offeredAt: Number(req.offer.issuedAt) };
    }
    const next = {
      ...config,
      ...planWithdrawal(config, req.newOwnerId, Number(signature.issuedAt), Date.now() / 1000, open),
    };
    await agent.settings.setConfig(next);
    agent.log.info("transfer offer withdrawn", { newOwnerId: req.newOwnerId });
  }

  /**
   * The owner's new TransferAgent offer, told by the pool when it takes it:
   * checked here (the owner's, to `new_owner_id`, in its window), and from
   * then on the only offer it accepts, so an offer it replaced, kept by
   * anyone, cannot be completed.
   */
  async noteTransferOffer(req: NoteTransferOfferRequest): Promise<void> {
    const agent = this.agent;
    const config = this.claimedConfig();
    // Checked as an acceptance would check it, but for the offer it replaces.
    const plan = planTransfer(config.ownerId, req, Date.now() / 1000, { ...config, newestOffer: undefined });
    // Already that inbox's (the transfer went through): the offer is not this owner's.
    if (plan.done) throw permissionDenied("owner_id: not this agent's owner");
    const offer = await this.ownersOffer(config, req.newOwnerId, req.offer);
    const next = noteOffer(config, { nonce: offer.nonce, offeredAt: plan.offeredAt }, Date.now() / 1000);
    await agent.settings.setConfig({ ...config, ...next });
    agent.log.info("transfer offer noted", { newOwnerId: req.newOwnerId });
  }

  /** The owner's SetTrustLevel, checked here: their signature, once, in time, within the template's highest level. */
  async setTrustLevel(req: InstanceServiceSetTrustLevelRequest): Promise<TrustFile> {
    const agent = this.agent;
    const config = this.claimedConfig();
    if (req.ownerId !== config.ownerId) throw permissionDenied("owner_id: not this agent's owner");
    const want = checkLevelRequest(req.trustLevel, req.dailySpendLimitWei, agent.settings.templateMax());
    await checkOwnerSignature(
      await this.ownerCheck(config),
      req.ownerId,
      "SetTrustLevel",
      { trustLevel: want.level, dailySpendLimitWei: BigInt(want.dailySpendLimitWei) },
      req.signature,
    );
    return agent.toolbox.setLevel(want.level, want.dailySpendLimitWei, "set by the owner", true);
  }

  /** The owner's SetPermissions, checked here: their signature over the values with the defaults filled in, once, in time. */
  async setPermissions(req: InstanceServiceSetPermissionsRequest): Promise<ResolvedPermissions> {
    const config = this.claimedConfig();
    if (req.ownerId !== config.ownerId) throw permissionDenied("owner_id: not this agent's owner");
    const want = resolvePermissions(req.permissions);
    await checkOwnerSignature(await this.ownerCheck(config), req.ownerId, "SetPermissions", want, req.signature);
    return this.agent.toolbox.setPermissions(want);
  }

  /**
   * The owner's SetParticipation, checked here: their signature over the
   * mode and cooldown, once, in time. Said in the conversation, so that its
   * members know when it speaks. A pause is counted (docs/signals.md).
   */
  async setParticipation(req: InstanceServiceSetParticipationRequest): Promise<ResolvedParticipation> {
    const agent = this.agent;
    const config = this.claimedConfig();
    if (req.ownerId !== config.ownerId) throw permissionDenied("owner_id: not this agent's owner");
    const want = resolveParticipation(req.participation);
    // In a conversation it names, under a signed type of its own: a signature for the home never sets another.
    const where = req.conversationId ? agent.conversations.get(req.conversationId) : agent.conversations.home;
    if (!where?.id) throw notFound(`conversation_id: the agent is not in conversation ${req.conversationId}`);
    const check = await this.ownerCheck(config);
    if (req.conversationId) {
      const fields = { conversationId: where.id, ...want };
      await checkOwnerSignature(check, req.ownerId, "SetConversationParticipation", fields, req.signature);
    } else await checkOwnerSignature(check, req.ownerId, "SetParticipation", want, req.signature);
    const was = agent.settings.participationIn(where.id);
    await agent.settings.setParticipation(want, where.id);
    if (pausedNow(was, want)) agent.signals.count("pauses");
    agent.log.info("participation set", {
      mode: participationModeName(want.mode),
      cooldownSeconds: want.cooldownSeconds,
      home: !req.conversationId,
    });
    await where.group
      ?.sendText(`My owner changed when I speak here. ${describeParticipation(want)}`)
      .catch((err: unknown) => agent.log.warn("could not tell the conversation when it speaks", { err }));
    return want;
  }

  /** What checkOwnerSignature needs of it: its owner, the host's verifier, its spent nonces. */
  private ownerCheck(config: InstanceConfig): Promise<OwnerCheck> {
    return ownerCheckOf(this.agent, config);
  }

  /**
   * An owner's address-book call (tools/address-book/service.ts checks their
   * signature): between turns, so a turn's tool calls see the book before the
   * change or after it, never half.
   */
  async addressBookCall<T>(job: (access: AddressBookAccess) => Promise<T>): Promise<T> {
    const agent = this.agent;
    const config = agent.settings.config;
    const book = agent.toolbox.addressBook;
    if (!config || !book) throw failedPrecondition(`instance ${agent.id} has no owner: it is not claimed`);
    const owner = await this.ownerCheck(config);
    const sealingKey = agent.status.mustWallet().memorySealingKey();
    return agent.turns.run(() => job({ ...owner, book, sealingKey, log: agent.log }));
  }

  /**
   * An owner's answer to its questions from outside the conversation
   * (tools/approvals/service.ts checks their signature): not between turns,
   * since the turn that asked is the one waiting for it.
   */
  async approvalCall<T>(job: (access: ApprovalAccess) => Promise<T>): Promise<T> {
    const agent = this.agent;
    const owner = await this.ownerCheck(this.claimedConfig());
    return job({
      ...owner,
      waiting: () => agent.toolbox.waitingQuestions(),
      answer: (id, said) => agent.toolbox.answerSigned(id, said),
      log: agent.log,
    });
  }

  /**
   * An owner's step confirmed in Convos instead of signed
   * (tools/confirmations/): asked of the owner as a question is, and applied
   * here, on their yes there, through the same paths as the signed calls.
   */
  async confirmationCall<T>(job: (access: ConfirmationAccess) => Promise<T>): Promise<T> {
    const agent = this.agent;
    const config = this.claimedConfig();
    this.confirmations ??= new Confirmations({
      instanceId: agent.id,
      ownerId: () => agent.settings.config?.ownerId,
      ask: (statement) => agent.toolbox.askPrivately(statement),
      apply: (step) =>
        applyStep(step, {
          answerSigned: (id, said) => agent.toolbox.answerSigned(id, said),
          setLevel: (...a) => agent.toolbox.setLevel(...a),
          setPermissions: (p) => agent.toolbox.setPermissions(p),
          templateMax: () => agent.settings.templateMax(),
          currentLimitWei: () => agent.toolbox.snapshot?.dailySpendLimitWei ?? "0",
          listMemory: async (key, feedbackOnly) => {
            const memory = agent.memory.current;
            const ownerId = agent.settings.config?.ownerId;
            if (!memory || !ownerId) throw failedPrecondition(`instance ${agent.id} has no owner: it is not claimed`);
            return (await sealedListing(memory, ownerId, key, feedbackOnly, memberNames(agent))).sealed;
          },
        }),
      questionStatement: (id) => agent.toolbox.waitingQuestions().find((q) => q.id === id)?.statement,
      log: agent.log,
    });
    return job({
      ownerId: config.ownerId,
      templateMax: () => agent.settings.templateMax(),
      questionWaiting: (id) => agent.toolbox.waitingQuestions().some((q) => q.id === id),
      currentLimitWei: () => agent.toolbox.snapshot?.dailySpendLimitWei ?? "0",
      confirmations: this.confirmations,
    });
  }

  /**
   * An owner's memory call (memory/service.ts checks their signature):
   * between turns, so no turn learns while an import merges or a forget
   * deletes.
   */
  async memoryCall<T>(job: (access: MemoryAccess) => Promise<T>): Promise<T> {
    const agent = this.agent;
    const config = agent.settings.config;
    const memory = agent.memory.current;
    if (!config || !memory) throw failedPrecondition(`instance ${agent.id} has no owner: it is not claimed`);
    const owner = await this.ownerCheck(config);
    const resolver = await agent.deps.resolver();
    return agent.turns.run(() =>
      job({
        ...owner,
        inboxId: agent.status.inboxId,
        agentName: config.agentName,
        model: config.model,
        template: {
          templateId: config.templateId,
          creatorId: (config.template as { creatorId?: string }).creatorId ?? "",
          version: config.templateVersion,
          baseVersions: agent.settings.appliedBaseVersions.map(String),
        },
        userConfig: config.userConfig,
        wallet: agent.status.mustWallet(),
        memory,
        memberNames: memberNames(agent),
        saveMemory: () => agent.memory.save(memory),
        toolCredentials: async () => (await agent.credentials()) ?? {},
        conversationSummary: async () => {
          const group = agent.conversation.group;
          return summarizeConversation(
            { agentName: config.agentName, model: config.model, llm: agent.llm, log: agent.log },
            group ? await agent.conversation.history(group) : [],
            group ? (await group.members()).length : 0,
          );
        },
        setSharing: async (sharing) => {
          await agent.settings.setSharing(sharing);
          agent.deps.patterns?.wake(agent.self);
        },
        certificate: () => certificateOf(config, agent.status.inboxId, agent.deps.poolId),
        resolver,
        log: agent.log,
      }),
    );
  }
}

/** What checkOwnerSignature needs of `agent`: its owner, the host's verifier, its spent nonces. */
/** Members' names by conversation and inbox, as each conversation shows them: who taught what, in a memory listing. */
function memberNames(agent: Parts): Record<string, Readonly<Record<string, string>>> {
  return Object.fromEntries(agent.conversations.all().flatMap((c) => (c.id ? [[c.id, c.names]] : [])));
}

export async function ownerCheckOf(agent: Parts, config: InstanceConfig): Promise<OwnerCheck> {
  const nonces = await agent.nonces();
  return {
    instanceId: agent.id,
    ownerId: config.ownerId,
    verifier: await agent.deps.verifier(),
    spendNonce: (nonce) => nonces.spend(nonce, Date.now() / 1000 + OWNER_CALL_NONCE_KEEP_SECONDS),
  };
}
