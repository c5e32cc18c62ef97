/**
 * ClaimService's calls of one agent in several conversations
 * (AddToConversation, RemoveFromConversation, and SetParticipation with a
 * conversation_id): the signed-in caller passed on, the rest is flow.ts's.
 * The server hands them to claim/service.ts (ConversationCalls), a floor
 * below this one, which never imports them.
 */
import { callerInboxId } from "@convos-pool/kit/server";
import type { ConversationCalls } from "../claim/service.js";
import type { ConversationFlow } from "./flow.js";

export function createConversationService(
  flow: Pick<ConversationFlow, "add" | "remove" | "setParticipation">,
): ConversationCalls {
  return {
    addToConversation: (req, ctx) => flow.add(req, callerInboxId(ctx)),
    removeFromConversation: (req, ctx) => flow.remove(req, callerInboxId(ctx)),
    setParticipationIn: (req, ctx) => flow.setParticipation(req, callerInboxId(ctx)),
  };
}
