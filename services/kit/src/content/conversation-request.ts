// What is wrong with a participation in one of an agent's named
// conversations (SetParticipation with a conversation_id), the pure part,
// every violation named at once with its field. The claims service refuses
// with these before anything is read; the gateway's REST face runs the same
// ones when it already refuses a mode word it does not know, so that both
// faces name the same fields (docs/rest.md, "One contract, every face").
import { INSTANCE_ID_PATTERN } from "./contract.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "./errors.js";
import { resolveParticipation, type ResolvedParticipation } from "./participation.js";

/** An XMTP group id: hex, as the agent names its folders by it. */
export const CONVERSATION_ID_PATTERN = /^[0-9a-f]{16,128}$/;

export function checkConversationId(id: string): string {
  if (!id) throw invalidArgument("conversation_id", "is required: one of the agent's conversations");
  if (!CONVERSATION_ID_PATTERN.test(id))
    throw invalidArgument("conversation_id", "must be an XMTP group id (16 to 128 lower-case hex characters)");
  return id;
}

export function checkInstanceId(id: string): string {
  if (!id) throw invalidArgument("instance_id", "is required");
  if (!INSTANCE_ID_PATTERN.test(id)) throw invalidArgument("instance_id", "must be an instance id (inst_…)");
  return id;
}

/** SetParticipation in a named conversation: the agent, the conversation and the participation, every fault at once. */
export function participationInViolations(req: {
  instanceId: string;
  conversationId: string;
  participation?: Partial<ResolvedParticipation> | undefined;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkInstanceId(req.instanceId),
    () => checkConversationId(req.conversationId),
    () => resolveParticipation(req.participation),
  );
}
