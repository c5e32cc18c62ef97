// AgentMemoryService: an owner's control over what their agent knows
// (docs/memory.md). The claims service checks who asks and relays; the agent
// checks the owner's signature again itself and does the work. Sealed boxes
// pass through here unread: memory leaves the agent sealed to the key the
// owner signed for, and comes to it sealed to its own wallet-signed key.
//
// Every call is its owner's only: signed in as the owner of the live agent
// (anyone else, and a signature by anyone else: NOT_FOUND, as for a missing
// agent), and, but for GetMemoryKey, signed (owner_signature), whose nonce is
// spent here before the agent is asked, so a signature reaches it once.

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { invalidArgument, requirePresent } from "@convos-pool/kit/content";
import type { OperationFields, SignedOperation } from "@convos-pool/kit/signing";
import { bytesToHex, sha256 } from "viem";
import { ownersAgent, ownerSignedCall, recipientKey, type OwnerCallDeps } from "../claim/owner-call.js";
import { askAgent, type InstanceMemoryCall, type InstanceRuntime } from "../hosts/runtime.js";

/** At most this many entries forgotten, or shared, in one call (agent_memory_service.proto). */
const MAX_ENTRY_IDS = 100;

/** 1 to MAX_ENTRY_IDS ids, before anything is asked; each id's form is the agent's to check. */
function entryIdCount(ids: readonly string[]): void {
  if (ids.length === 0 || ids.length > MAX_ENTRY_IDS)
    throw invalidArgument("entry_ids", `1 to ${MAX_ENTRY_IDS} entry ids, not ${ids.length}`);
}

export interface AgentMemoryServiceDeps extends OwnerCallDeps {
  runtime: Pick<InstanceRuntime, "memory">;
}

export function createAgentMemoryService(deps: AgentMemoryServiceDeps): ServiceImpl<typeof AgentMemoryService> {
  const ownersAgentOf = ownersAgent(deps);
  const ownerSigned = ownerSignedCall(deps);

  /** The owner's signature, checked and its nonce spent; then the agent, asked. */
  async function signedCall(
    instanceId: string,
    ctx: HandlerContext,
    operation: SignedOperation,
    fields: OperationFields,
    signature: Signature | undefined,
  ): Promise<{ agent: InstanceMemoryCall; ownerId: string }> {
    const { ref, ownerId } = await ownerSigned(instanceId, ctx, operation, fields, signature);
    return { agent: deps.runtime.memory(ref), ownerId };
  }

  return {
    async exportMemory(req, ctx) {
      const key = recipientKey(req.recipientKey);
      const { agent, ownerId } = await signedCall(
        req.instanceId,
        ctx,
        "ExportMemory",
        { recipientKey: bytesToHex(key) },
        req.ownerSignature,
      );
      const res = await askAgent("the export", () =>
        agent.client.exportMemory({ ownerId, recipientKey: key, signature: req.ownerSignature }, agent.options),
      );
      return { sealed: res.sealed, counts: res.counts, secretsStripped: res.secretsStripped };
    },

    async getMemoryKey(req, ctx) {
      const { ref } = await ownersAgentOf(req.instanceId, ctx);
      const agent = deps.runtime.memory(ref);
      const res = await askAgent("its memory key", () => agent.client.getMemoryKey({}, agent.options));
      return { key: res.key, inboxId: ref.inboxId };
    },

    async importMemory(req, ctx) {
      const sealed = requirePresent("sealed", req.sealed);
      if (sealed.ciphertext.length === 0)
        throw invalidArgument("sealed.ciphertext", "required: an agent-memory file sealed to the agent's memory key");
      const { agent, ownerId } = await signedCall(
        req.instanceId,
        ctx,
        "ImportMemory",
        { sealedDigest: sha256(sealed.ciphertext) },
        req.ownerSignature,
      );
      const res = await askAgent("the import", () =>
        agent.client.importMemory({ ownerId, sealed, signature: req.ownerSignature }, agent.options),
      );
      return { added: res.added, duplicates: res.duplicates, skipped: res.skipped, secretsMissing: res.secretsMissing };
    },

    async listMemory(req, ctx) {
      const key = recipientKey(req.recipientKey);
      const fields = { recipientKey: bytesToHex(key), feedbackOnly: req.feedbackOnly };
      const { agent, ownerId } = await signedCall(req.instanceId, ctx, "ListMemory", fields, req.ownerSignature);
      const res = await askAgent("the listing", () =>
        agent.client.listMemory(
          { ownerId, recipientKey: key, feedbackOnly: req.feedbackOnly, signature: req.ownerSignature },
          agent.options,
        ),
      );
      return { sealed: res.sealed, counts: res.counts };
    },

    async forgetMemory(req, ctx) {
      entryIdCount(req.entryIds);
      const { agent, ownerId } = await signedCall(
        req.instanceId,
        ctx,
        "ForgetMemory",
        { entryIds: req.entryIds.join(",") },
        req.ownerSignature,
      );
      const res = await askAgent("forgetting", () =>
        agent.client.forgetMemory({ ownerId, entryIds: req.entryIds, signature: req.ownerSignature }, agent.options),
      );
      return { forgotten: res.forgotten, notFound: res.notFound };
    },

    async setPatternSharing(req, ctx) {
      const sharing = requirePresent("sharing", req.sharing);
      const fields = { offer: sharing.offer, adopt: sharing.adopt };
      const { agent, ownerId } = await signedCall(req.instanceId, ctx, "SetPatternSharing", fields, req.ownerSignature);
      const res = await askAgent("the sharing choice", () =>
        agent.client.setPatternSharing({ ownerId, sharing, signature: req.ownerSignature }, agent.options),
      );
      return { sharing: res.sharing };
    },

    async shareMemory(req, ctx) {
      entryIdCount(req.entryIds);
      const { agent, ownerId } = await signedCall(
        req.instanceId,
        ctx,
        "ShareMemory",
        { entryIds: req.entryIds.join(","), share: req.share },
        req.ownerSignature,
      );
      const res = await askAgent("sharing", () =>
        agent.client.shareMemory(
          { ownerId, entryIds: req.entryIds, share: req.share, signature: req.ownerSignature },
          agent.options,
        ),
      );
      return { changed: res.changed, notFound: res.notFound };
    },
  };
}
