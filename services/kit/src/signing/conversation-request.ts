// What an addition to a conversation (AddToConversation) and a participation
// in a named one (SetParticipation with a conversation_id) must hold, the
// pure part: every field at once, with its field (docs/claims.md, "Adding an
// agent to a conversation"). The claims service refuses with these before
// anything is read; the gateway's REST face runs the same ones when it
// already refuses a field it cannot read (a mode or tools word it has no
// value for), so that both faces name the same fields. Here, not in content,
// because an addition's tools are checked as they are signed.
import type { ConversationTools, ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { BARE_CONVERSATION_ID, INSTANCE_ID_PATTERN, INVITE_NOT_ID } from "../content/contract.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "../content/errors.js";
import { resolveParticipation } from "../content/participation.js";
import { signedConversationTools } from "./fields.js";

/** An XMTP group id: hex, as the agent names its folders by it. */
const CONVERSATION_ID_PATTERN = /^[0-9a-f]{16,128}$/;

/** The participation as a request carries it: either field may be left out (its default). */
type AskedParticipation = { mode?: ParticipationMode; cooldownSeconds?: number } | undefined;

export function checkInstanceId(id: string): string {
  if (!id) throw invalidArgument("instance_id", "is required");
  if (!INSTANCE_ID_PATTERN.test(id)) throw invalidArgument("instance_id", "must be an instance id (inst_…)");
  return id;
}

export function checkConversationId(id: string): string {
  if (!id) throw invalidArgument("conversation_id", "is required: one of the agent's conversations");
  if (!CONVERSATION_ID_PATTERN.test(id))
    throw invalidArgument("conversation_id", "must be an XMTP group id (16 to 128 lower-case hex characters)");
  return id;
}

/** An addition's invite, trimmed (the signature covers it trimmed): required, and no bare conversation id. */
export function checkInvite(conversationInvite: string): string {
  const invite = conversationInvite.trim();
  if (!invite) throw invalidArgument("conversation_invite", "is required: the Convos invite of the conversation");
  // A group id names a conversation but lets nobody in.
  if (BARE_CONVERSATION_ID.test(invite)) throw invalidArgument("conversation_invite", INVITE_NOT_ID);
  return invite;
}

/** What is wrong with an addition to a conversation, every field at once. */
export function additionViolations(req: {
  instanceId: string;
  conversationInvite: string;
  participation?: AskedParticipation;
  tools: ConversationTools;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkInstanceId(req.instanceId),
    () => checkInvite(req.conversationInvite),
    () => resolveParticipation(req.participation),
    () => signedConversationTools(req.tools),
  );
}

/** What is wrong with a participation in one named conversation, every field at once. */
export function participationInViolations(req: {
  instanceId: string;
  conversationId: string;
  participation?: AskedParticipation;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkInstanceId(req.instanceId),
    () => checkConversationId(req.conversationId),
    () => resolveParticipation(req.participation),
  );
}
