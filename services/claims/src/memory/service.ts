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

import type { ServiceImpl } from "@connectrpc/connect";
import type { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { refuseViolations, requirePresent } from "@convos-pool/kit/content";
import { bytesToHex, sha256 } from "viem";
import { ownersAgent, ownerSignedRelay, type OwnerCallDeps } from "../claim/owner-call.js";
import { askAgent, type InstanceRuntime } from "../hosts/runtime.js";
import { idsViolations, recipientKeyViolations, requireSealed } from "./policy.js";

const entryIds = (ids: readonly string[]) => idsViolations("entry_ids", ids, "entry ids");

export interface AgentMemoryServiceDeps extends OwnerCallDeps {
  runtime: Pick<InstanceRuntime, "memory">;
}

export function createAgentMemoryService(deps: AgentMemoryServiceDeps): ServiceImpl<typeof AgentMemoryService> {
  const ownersAgentOf = ownersAgent(deps);
  const relay = ownerSignedRelay(deps, (ref) => deps.runtime.memory(ref));

  return {
    async exportMemory(req, ctx) {
      refuseViolations(recipientKeyViolations(req.recipientKey));
      const key = req.recipientKey;
      const signed = { operation: "ExportMemory", fields: { recipientKey: bytesToHex(key) } } as const;
      const res = await relay(req, ctx, signed, "the export", (agent, ownerId) =>
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
      const sealed = requireSealed(req.sealed, "an agent-memory file sealed to the agent's memory key");
      const signed = { operation: "ImportMemory", fields: { sealedDigest: sha256(sealed.ciphertext) } } as const;
      const res = await relay(req, ctx, signed, "the import", (agent, ownerId) =>
        agent.client.importMemory({ ownerId, sealed, signature: req.ownerSignature }, agent.options),
      );
      return { added: res.added, duplicates: res.duplicates, skipped: res.skipped, secretsMissing: res.secretsMissing };
    },

    async listMemory(req, ctx) {
      refuseViolations(recipientKeyViolations(req.recipientKey));
      const key = req.recipientKey;
      const fields = { recipientKey: bytesToHex(key), feedbackOnly: req.feedbackOnly };
      const res = await relay(req, ctx, { operation: "ListMemory", fields }, "the listing", (agent, ownerId) =>
        agent.client.listMemory(
          { ownerId, recipientKey: key, feedbackOnly: req.feedbackOnly, signature: req.ownerSignature },
          agent.options,
        ),
      );
      return { sealed: res.sealed, counts: res.counts };
    },

    async forgetMemory(req, ctx) {
      refuseViolations(entryIds(req.entryIds));
      const signed = { operation: "ForgetMemory", fields: { entryIds: req.entryIds.join(",") } } as const;
      const res = await relay(req, ctx, signed, "forgetting", (agent, ownerId) =>
        agent.client.forgetMemory({ ownerId, entryIds: req.entryIds, signature: req.ownerSignature }, agent.options),
      );
      return { forgotten: res.forgotten, notFound: res.notFound };
    },

    async setPatternSharing(req, ctx) {
      const sharing = requirePresent("sharing", req.sharing);
      const fields = { offer: sharing.offer, adopt: sharing.adopt };
      const res = await relay(
        req,
        ctx,
        { operation: "SetPatternSharing", fields },
        "the sharing choice",
        (agent, ownerId) =>
          agent.client.setPatternSharing({ ownerId, sharing, signature: req.ownerSignature }, agent.options),
      );
      return { sharing: res.sharing };
    },

    async shareMemory(req, ctx) {
      refuseViolations(entryIds(req.entryIds));
      const fields = { entryIds: req.entryIds.join(","), share: req.share };
      const res = await relay(req, ctx, { operation: "ShareMemory", fields }, "sharing", (agent, ownerId) =>
        agent.client.shareMemory(
          { ownerId, entryIds: req.entryIds, share: req.share, signature: req.ownerSignature },
          agent.options,
        ),
      );
      return { changed: res.changed, notFound: res.notFound };
    },
  };
}
