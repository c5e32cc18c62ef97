// Adding the agent to another conversation, and taking it out of one
// (docs/design/one-agent-many-conversations.md, "Add and leave, on the
// agent"): what to do, decided here from the request and where the agent is,
// before anything is joined or written. The owner's signature is checked by
// the caller with the fields planned here (platform/owner-signature.ts): the
// agent joins only where its owner signed, whatever the pool says, because
// what the owner taught it is read in every conversation it is in.

import type {
  AddConversationRequest,
  ConversationAddition,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { failedPrecondition, failedPreconditionOn, invalidArgument, notFound } from "@convos-pool/kit/content";
import { addToConversationFields, inviteHash, type OperationFields } from "@convos-pool/kit/signing";

/** The most conversations one agent is in: each is a group it streams, a profile and a statement it keeps. */
export const MAX_CONVERSATIONS = 10;

/** A conversation the agent is in, as conversations.json lists it. */
export interface HeldConversation {
  conversationId: string;
  /** keccak256 of the invite it joined with; none for one joined before it was kept. */
  inviteHash?: string | undefined;
  joinedAt: string;
}

export interface AgentNow {
  claimed: boolean;
  home: string | undefined;
  conversations: readonly HeldConversation[];
}

export type AddPlan =
  /** Already in the conversation of that invite: answered with its id, nothing joined or spent. */
  | { kind: "in"; conversationId: string }
  /** Join with this invite once the owner's signature over `fields` (in `addition`) checks out. */
  | { kind: "join"; invite: string; ownerId: string; fields: OperationFields; addition: ConversationAddition };

export function planAdd(req: AddConversationRequest, agent: AgentNow): AddPlan {
  const invite = req.conversationInvite.trim();
  if (!invite) throw invalidArgument("conversation_invite", "is required");
  const auth = req.authorization;
  if (!auth?.signature) throw invalidArgument("authorization.signature", "is required: the owner signs each addition");
  if (!auth.ownerId) throw invalidArgument("authorization.owner_id", "is required");
  if (!agent.claimed) throw failedPrecondition("the agent is in no conversation yet: claim it first");
  const hash = inviteHash(invite);
  const held = agent.conversations.find((c) => c.inviteHash === hash);
  if (held) return { kind: "in", conversationId: held.conversationId };
  if (agent.conversations.length >= MAX_CONVERSATIONS) {
    throw failedPreconditionOn("conversation_invite", `the agent is in ${MAX_CONVERSATIONS} conversations already`);
  }
  // The owner and the instance are the verifier's to add (checkOwnerSignature): this agent's own, never the request's.
  const {
    inboxId: _owner,
    instanceId: _instance,
    ...fields
  } = addToConversationFields({
    ownerId: auth.ownerId,
    instanceId: "",
    conversationInvite: invite,
    participation: auth.participation,
    tools: auth.tools,
    secondAgent: auth.secondAgent,
  });
  return { kind: "join", invite, ownerId: auth.ownerId, fields, addition: auth };
}

export interface LeavePlan {
  conversationId: string;
  /** The home once it has left: the same unless it leaves its home. */
  home: string;
}

export function planLeave(conversationId: string, agent: AgentNow): LeavePlan {
  if (!conversationId) throw invalidArgument("conversation_id", "is required");
  if (!agent.conversations.some((c) => c.conversationId === conversationId)) {
    throw notFound(`conversation_id: the agent is not in conversation ${conversationId}`);
  }
  const rest = agent.conversations.filter((c) => c.conversationId !== conversationId);
  const home = agent.home === conversationId || agent.home === undefined ? nextHome(rest) : agent.home;
  if (home === undefined) {
    throw failedPreconditionOn("conversation_id", "is the agent's last conversation: remove the agent instead");
  }
  return { conversationId, home };
}

/** The home after the home is left: the oldest joined, then the smallest id (claims applies the same rule). */
export function nextHome(conversations: readonly HeldConversation[]): string | undefined {
  let best: HeldConversation | undefined;
  for (const c of conversations) {
    if (
      !best ||
      c.joinedAt < best.joinedAt ||
      (c.joinedAt === best.joinedAt && c.conversationId < best.conversationId)
    ) {
      best = c;
    }
  }
  return best?.conversationId;
}
