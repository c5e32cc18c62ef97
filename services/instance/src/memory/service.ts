// InstanceMemoryService: the agent's side of its owner's memory calls
// (docs/memory.md). The claims service relays them; the agent trusts only the
// owner's signature, which it checks itself as it does SetTrustLevel: the
// owner's inbox, this instance, in time, and a nonce never used before.
// Memory leaves only sealed to the key the owner signed for, and comes in
// only sealed to the agent's own memory key; logs carry counts and kinds.
// What it exports carries its seal (memory/seal.ts), and what it imports
// keeps who taught it only when the file's seal holds for its owner. The
// owner marks entries to use in all the agent's conversations (ShareMemory)
// by id, from the listing, which says where each is read.

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  memoryKeyMessage,
  sealTo,
  x25519PublicKey,
  type InboxResolver,
  type OperationFields,
  type SignedOperation,
} from "@convos-pool/kit/signing";
import { invalidArgument, requirePresent } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { AgentCertificate } from "@convos-pool/gen/convos/pool/v1/certificate_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import { bytesToHex, sha256 } from "viem";
import {
  buildMemoryFile,
  countEntries,
  mergeMemoryFile,
  parseMemoryFile,
  type AgentMemoryFile,
  type ConversationSummary,
  type EntryCounts,
} from "./file.js";
import { checkSeal, planSeal } from "./seal.js";
import { markShared, teacherNames } from "./provenance.js";
import type { Memory, MemoryEntry } from "./store.js";
import { isShared, portable } from "./walls.js";
import { checkOwnerSignature, type OwnerCheck } from "../platform/owner-signature.js";
import { idList, openSealedToAgent, recipientKey } from "../platform/sealed-calls.js";
import type { PatternSharing } from "./sharing.js";
import type { InstanceWallet } from "../platform/keys.js";

/** At most this many entries forgotten, or shared, in one call (memory.proto). */
export const MAX_FORGET_IDS = 100;
const ENTRY_ID_PATTERN = /^mem_[0-9a-f]{12}$/;

/** What a claimed agent lends its owner's memory calls (Agent.memoryCall). */
export interface MemoryAccess extends OwnerCheck {
  inboxId: string;
  agentName: string;
  model: string;
  template: AgentMemoryFile["template"];
  userConfig: Record<string, string>;
  wallet: InstanceWallet;
  memory: Memory;
  /** Members' names by conversation and inbox, as shown there: who taught what, named in the listing. */
  memberNames: Readonly<Record<string, Readonly<Record<string, string>>>>;
  saveMemory(): Promise<void>;
  toolCredentials(): Promise<Record<string, Record<string, string>>>;
  /** What the conversation was about, for an export (the agent's model makes it: model/conversation-summary.ts). */
  conversationSummary(): Promise<ConversationSummary>;
  setSharing(sharing: PatternSharing): Promise<void>;
  /** Its birth certificate (agent/face/profile.ts certificateOf): what its seal on an export shows. */
  certificate(): AgentCertificate;
  /** Whose wallets are whose on the XMTP network: what a seal's signature is checked against. */
  resolver: InboxResolver;
  log: Logger;
}

/** An agent that runs memory calls one at a time with its other calls, between turns. */
export interface MemoryHolder {
  memoryCall<T>(job: (access: MemoryAccess) => Promise<T>): Promise<T>;
}

export function createInstanceMemoryService(
  pick: (ctx: HandlerContext) => MemoryHolder,
): ServiceImpl<typeof InstanceMemoryService> {
  /** The owner's call, one at a time with the agent's others: their signature over `fields` checked, then `job`. */
  function ownerCall<T>(
    ctx: HandlerContext,
    req: { ownerId: string; signature?: Signature | undefined },
    operation: SignedOperation,
    fields: OperationFields,
    job: (access: MemoryAccess) => Promise<T>,
  ): Promise<T> {
    return pick(ctx).memoryCall(async (a) => {
      await checkOwnerSignature(a, req.ownerId, operation, fields, req.signature);
      return job(a);
    });
  }

  return {
    async exportMemory(req, ctx) {
      const recipient = recipientKey(req.recipientKey);
      return ownerCall(ctx, req, "ExportMemory", { recipientKey: bytesToHex(recipient) }, async (a) => {
        const conversationSummary = await a.conversationSummary();
        const unsealed = buildMemoryFile({
          agent: { instanceId: a.instanceId, inboxId: a.inboxId, name: a.agentName },
          template: a.template,
          entries: a.memory.entries,
          conversationSummary,
          toolCredentials: await a.toolCredentials(),
          userConfig: a.userConfig,
        });
        // Sealed by its own wallet: an agent of this owner keeps who taught each entry on import.
        const { unsigned, message } = planSeal(unsealed, a.ownerId, a.inboxId, a.certificate());
        const file = { ...unsealed, seal: { ...unsigned, signature: await a.wallet.account.signMessage({ message }) } };
        const plaintext = new TextEncoder().encode(JSON.stringify(file, null, 2));
        const sealed = await sealTo(recipient, plaintext);
        const counts = countEntries(a.memory.entries);
        a.log.info("memory exported", {
          kinds: countsText(counts),
          stripped: file.secrets.length,
          summaryVia: conversationSummary.via,
          bytes: plaintext.byteLength,
        });
        return { sealed, counts, secretsStripped: file.secrets.length };
      });
    },

    async getMemoryKey(_req, ctx) {
      return pick(ctx).memoryCall(async (a) => {
        const publicKey = x25519PublicKey(a.wallet.memorySealingKey());
        const keySignature = await a.wallet.account.signMessage({ message: memoryKeyMessage(a.instanceId, publicKey) });
        return { key: { publicKey, agentAddress: a.wallet.address, keySignature } };
      });
    },

    async importMemory(req, ctx) {
      const sealed = requirePresent("sealed", req.sealed);
      return ownerCall(ctx, req, "ImportMemory", { sealedDigest: sha256(sealed.ciphertext) }, async (a) => {
        const file = parseMemoryFile(await openSealedToAgent(a.wallet.memorySealingKey(), sealed));
        const seal = await checkSeal(file, a.ownerId, { resolver: a.resolver, verifier: a.verifier });
        const report = mergeMemoryFile(a.memory, file, {
          ownerId: a.ownerId,
          ...(seal.held ? { sealedBy: seal.inboxId } : {}),
        });
        const addedTotal = report.added.training + report.added.personalization + report.added.credentials;
        if (addedTotal > 0) await a.saveMemory();
        a.log.info("memory imported", {
          added: countsText(report.added),
          duplicates: report.duplicates,
          skipped: report.skipped,
          missing: report.secretsMissing.length,
          // Whose word it is: the owner's own export, or nobody's, and why.
          seal: seal.held ? "held" : seal.reason,
        });
        return report;
      });
    },

    async listMemory(req, ctx) {
      const recipient = recipientKey(req.recipientKey);
      return ownerCall(
        ctx,
        req,
        "ListMemory",
        { recipientKey: bytesToHex(recipient), feedbackOnly: req.feedbackOnly },
        async (a) => {
          const { sealed, counts } = await sealedListing(
            a.memory,
            a.ownerId,
            recipient,
            req.feedbackOnly,
            a.memberNames,
          );
          a.log.info("memory listed", { kinds: countsText(counts), feedbackOnly: req.feedbackOnly });
          return { sealed, counts };
        },
      );
    },

    async forgetMemory(req, ctx) {
      const ids = entryIds(req.entryIds);
      return ownerCall(ctx, req, "ForgetMemory", { entryIds: ids.join(",") }, async (a) => {
        const found = new Set(a.memory.remove(ids).map((e) => e.id));
        const forgotten = found.size;
        if (forgotten > 0) await a.saveMemory();
        const notFound = ids.filter((id) => !found.has(id));
        a.log.info("memory forgotten", { forgotten, notFound: notFound.length });
        return { forgotten, notFound };
      });
    },

    async setPatternSharing(req, ctx) {
      const sharing = requirePresent("sharing", req.sharing);
      return ownerCall(ctx, req, "SetPatternSharing", { offer: sharing.offer, adopt: sharing.adopt }, async (a) => {
        await a.setSharing({ offer: sharing.offer, adopt: sharing.adopt, setAt: new Date().toISOString() });
        a.log.info("pattern sharing set", { offer: sharing.offer, adopt: sharing.adopt });
        return { sharing: { offer: sharing.offer, adopt: sharing.adopt } };
      });
    },

    async shareMemory(req, ctx) {
      const ids = entryIds(req.entryIds);
      return ownerCall(ctx, req, "ShareMemory", { entryIds: ids.join(","), share: req.share }, async (a) => {
        const byId = new Map(a.memory.entries.map((e) => [e.id, e]));
        // Only the owner learns which ids are feedback (after the signature): feedback stays where its answer was.
        const feedback = req.share ? ids.findIndex((id) => byId.get(id)?.feedback) : -1;
        if (feedback >= 0)
          throw invalidArgument(
            `entry_ids[${feedback}]`,
            "is feedback on an answer: it stays in the conversation of that answer",
          );
        const found = [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
        const changed = markShared(found, req.share, a.ownerId).length;
        if (changed > 0) await a.saveMemory();
        const notFound = ids.filter((id) => !byId.has(id));
        a.log.info(req.share ? "memory shared" : "memory unshared", { changed, notFound: notFound.length });
        return { changed, notFound };
      });
    },
  };
}

/**
 * An entry as its owner's listing shows it: as kept (its `conversationId`:
 * where it was learned; none for what came from no conversation, read in
 * the home), with `shared` (the owner marked it "use this in all my
 * conversations") and `everywhere` (every conversation of the agent reads
 * it: shared, the owner's own, or an adopted lesson; memory/walls.ts).
 */
/**
 * The memory as ListMemory lists it (all of it, or the feedback only), with
 * the names its teachers go by where they taught (`names`: by conversation
 * and inbox; provenance.ts teacherNames), sealed to `recipient`: for the
 * owner's signed call, and for a listing the owner confirmed in Convos
 * (tools/confirmations/).
 */
export async function sealedListing(
  memory: Memory,
  ownerId: string,
  recipient: Uint8Array,
  feedbackOnly: boolean,
  names: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
) {
  const entries = feedbackOnly ? memory.entries.filter((e) => e.feedback) : memory.entries;
  const listed = entries.map((e) => listedEntry(e, ownerId));
  const body = { entries: listed, names: teacherNames(entries, names) };
  const sealed = await sealTo(recipient, new TextEncoder().encode(JSON.stringify(body)));
  return { sealed, counts: countEntries(entries) };
}

export function listedEntry(e: MemoryEntry, ownerId: string): MemoryEntry & { shared: boolean; everywhere: boolean } {
  return { ...e, shared: isShared(e, ownerId), everywhere: portable(e, ownerId) };
}

/** Counts as one text: the log redacts any field named like "credentials", counts too. */
function countsText(c: EntryCounts): string {
  return Object.entries(c)
    .map(([k, n]) => `${k}=${n}`)
    .join(" ");
}

function entryIds(ids: string[]): string[] {
  return idList("entry_ids", ids, MAX_FORGET_IDS, ENTRY_ID_PATTERN, 'an entry id ("mem_" and 12 hex characters)');
}
