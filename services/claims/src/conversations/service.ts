/**
 * ClaimService's calls of one agent in several conversations
 * (AddToConversation, RemoveFromConversation), composed into
 * claim/service.ts: the signed-in caller passed on, the rest is flow.ts's.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { callerInboxId } from "@convos-pool/kit/server";
import type { ConversationFlow } from "./flow.js";

export type ConversationCalls = Pick<ServiceImpl<typeof ClaimService>, "addToConversation" | "removeFromConversation">;

export function createConversationService(flow: Pick<ConversationFlow, "add" | "remove">): ConversationCalls {
  return {
    addToConversation: (req, ctx) => flow.add(req, callerInboxId(ctx)),
    removeFromConversation: (req, ctx) => flow.remove(req, callerInboxId(ctx)),
  };
}
