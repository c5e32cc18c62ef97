/**
 * ClaimService's calls of one agent in several conversations
 * (AddToConversation, RemoveFromConversation, and SetParticipation with a
 * conversation_id), composed into claim/service.ts: the signed-in caller
 * passed on, the rest is flow.ts's.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { callerInboxId } from "@convos-pool/kit/server";
import type { ConversationFlow } from "./flow.js";

export type ConversationCalls = Pick<
  ServiceImpl<typeof ClaimService>,
  "addToConversation" | "removeFromConversation"
> & {
  /** SetParticipation of a request with a conversation_id; claim/service.ts sends only those here. */
  setParticipationIn: ServiceImpl<typeof ClaimService>["setParticipation"];
};

export function createConversationService(
  flow: Pick<ConversationFlow, "add" | "remove" | "setParticipation">,
): ConversationCalls {
  return {
    addToConversation: (req, ctx) => flow.add(req, callerInboxId(ctx)),
    removeFromConversation: (req, ctx) => flow.remove(req, callerInboxId(ctx)),
    setParticipationIn: (req, ctx) => flow.setParticipation(req, callerInboxId(ctx)),
  };
}
