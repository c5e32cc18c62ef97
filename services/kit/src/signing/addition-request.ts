// What is wrong with an addition of an agent to a conversation
// (AddToConversation), the pure part, every violation named at once with
// its field: the agent, the invite and what the owner signs of it (the
// participation and tools there, fields.ts). The claims service refuses with
// these before anything is read; the gateway's REST face runs the same ones
// when it already refuses a word it does not know, so that both faces name
// the same fields (docs/rest.md, "One contract, every face").
import type { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { BARE_CONVERSATION_ID, INVITE_NOT_ID } from "../content/contract.js";
import { checkInstanceId } from "../content/conversation-request.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "../content/errors.js";
import { resolveParticipation, type ResolvedParticipation } from "../content/participation.js";
import { signedConversationTools } from "./fields.js";

export function additionViolations(req: {
  instanceId: string;
  conversationInvite: string;
  participation?: Partial<ResolvedParticipation> | undefined;
  tools: ConversationTools;
}): FieldViolationInfo[] {
  const invite = req.conversationInvite.trim();
  return violationsOf(
    () => checkInstanceId(req.instanceId),
    () => {
      if (!invite) throw invalidArgument("conversation_invite", "is required: the Convos invite of the conversation");
      // A group id names a conversation but lets nobody in (REST's body refuses it the same).
      if (BARE_CONVERSATION_ID.test(invite)) throw invalidArgument("conversation_invite", INVITE_NOT_ID);
    },
    () => resolveParticipation(req.participation),
    () => signedConversationTools(req.tools),
  );
}
