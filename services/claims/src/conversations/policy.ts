/**
 * One agent in several conversations, the pool's rules
 * (docs/claims.md, "Adding an agent to a conversation"): the fields of the
 * two calls, the cap on an agent's conversations, which conversation is
 * left and which becomes the home, and how a stale addition is settled. Pure:
 * no database, no host; flow.ts carries the decisions out.
 */
import { ConnectError, Code } from "@connectrpc/connect";
import type {
  AddToConversationRequest,
  RemoveFromConversationRequest,
  SetParticipationRequest,
} from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AgentConversationState, type ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  badRequest,
  checkAll,
  failedPreconditionOn,
  refuseViolations,
  resolveParticipation,
  type ResolvedParticipation,
} from "@convos-pool/kit/content";
import { limitExceeded } from "@convos-pool/kit/server";
import {
  additionViolations,
  checkConversationId,
  checkInstanceId,
  checkInvite,
  participationInViolations,
  signedConversationTools,
} from "@convos-pool/kit/signing";

/** The name of the cap (POOL_LIMITS, docs/limits.md). */
export const CONVERSATIONS_LIMIT = "agents.conversations";

/** An addition's fields, checked, with what the owner signs filled in (participation's and tools' defaults). */
export interface AdditionAsked {
  instanceId: string;
  /** Trimmed: the signature covers it trimmed. */
  invite: string;
  participation: ResolvedParticipation;
  tools: ConversationTools;
  confirmSecondAgent: boolean;
}

/** An addition, every bad field at once (the kit's additionViolations, which REST's body runs too). */
export function checkAddition(req: AddToConversationRequest): AdditionAsked {
  refuseViolations(additionViolations(req));
  return {
    instanceId: req.instanceId,
    invite: checkInvite(req.conversationInvite),
    participation: resolveParticipation(req.participation),
    tools: signedConversationTools(req.tools),
    confirmSecondAgent: req.confirmSecondAgent,
  };
}

export function checkRemoval(req: RemoveFromConversationRequest): { instanceId: string; conversationId: string } {
  checkAll(
    () => checkInstanceId(req.instanceId),
    () => checkConversationId(req.conversationId),
  );
  return { instanceId: req.instanceId, conversationId: req.conversationId };
}

/** A participation in one named conversation, checked, with what the owner signs filled in (the defaults). */
export interface ParticipationAsked {
  instanceId: string;
  conversationId: string;
  participation: ResolvedParticipation;
}

/** SetParticipation with a conversation_id (an empty one is the home's, claim/service.ts). */
export function checkParticipationIn(req: SetParticipationRequest): ParticipationAsked {
  refuseViolations(participationInViolations(req));
  return {
    instanceId: req.instanceId,
    conversationId: req.conversationId,
    participation: resolveParticipation(req.participation),
  };
}

/** One row of agent_conversations, as the rules read it. */
export interface ConversationRow {
  addId: string;
  conversationId: string;
  conversationKey: string | null;
  home: boolean;
  state: "joining" | "joined" | "leaving" | "left";
  joinedAt: Date | null;
}

/** Only a running agent joins: a crashed one is coming back and cannot be asked now. */
export function checkRunning(state: string): void {
  if (state !== "claimed") throw notRunning();
}

export function notRunning(): ConnectError {
  return new ConnectError("the agent is not running now; try again once it is back", Code.FailedPrecondition);
}

/**
 * Refuses an addition to a conversation the agent is in (by the invite's
 * conversation, `key`), and any addition while another of the agent is
 * joining: one at a time, so that a stale one is settled against its host
 * without guessing which invite a new conversation came from (settleStale).
 * FAILED_PRECONDITION naming conversation_invite.
 */
export function checkNotThere(rows: readonly ConversationRow[], key: string): void {
  const joining = rows.find((r) => r.state === "joining");
  if (joining) {
    throw failedPreconditionOn(
      "conversation_invite",
      joining.conversationKey === key
        ? "the agent is being added to this conversation already; read the agent"
        : "the agent is being added to another conversation; try again once it is in",
    );
  }
  const there = rows.find((r) => r.state !== "left" && r.conversationKey === key);
  if (there) {
    throw failedPreconditionOn(
      "conversation_invite",
      `the agent is in this conversation already (${there.conversationId})`,
    );
  }
}

/**
 * Refuses an addition past the cap: the agent's conversations not left (the
 * home and those joining included) must be fewer than `limit`; none: no cap.
 */
export function checkConversationCap(rows: readonly ConversationRow[], limit: number | undefined): void {
  if (limit === undefined) return;
  const held = rows.filter((r) => r.state !== "left").length;
  if (held < limit) return;
  throw limitExceeded(
    CONVERSATIONS_LIMIT,
    `the agent is in ${held} conversations, the most one agent may be in (${limit}); remove it from one first`,
  );
}

/** What a removal does: the conversation's row left, and the row made the home in its place when it was the home. */
export interface RemovalPlan {
  leaving: ConversationRow;
  newHome: ConversationRow | undefined;
}

/**
 * The removal of `conversationId`: a conversation the agent is in (else
 * NOT_FOUND naming conversation_id), never its last (FAILED_PRECONDITION
 * naming conversation_id: RemoveAgent ends the agent). Leaving the home
 * makes the oldest other joined conversation the home (nextHome).
 */
export function planRemoval(rows: readonly ConversationRow[], conversationId: string): RemovalPlan {
  const joined = rows.filter((r) => r.state === "joined");
  const leaving = joined.find((r) => r.conversationId === conversationId);
  if (!leaving) throw notIn(conversationId);
  const rest = joined.filter((r) => r !== leaving);
  if (rest.length === 0) {
    throw failedPreconditionOn(
      "conversation_id",
      "is the agent's last conversation: remove the agent instead (RemoveAgent)",
    );
  }
  return { leaving, newHome: leaving.home ? nextHome(rest) : undefined };
}

/**
 * The conversation whose participation is set: one the agent is in now
 * (joined; the home too, by its id), else NOT_FOUND naming conversation_id.
 */
export function participationTarget(rows: readonly ConversationRow[], conversationId: string): ConversationRow {
  const there = rows.find((r) => r.state === "joined" && r.conversationId === conversationId);
  if (!there) throw notIn(conversationId);
  return there;
}

/** NOT_FOUND naming conversation_id: the agent is not in that conversation (the agent's own answer says the same). */
export function notIn(conversationId: string): ConnectError {
  return new ConnectError(
    `conversation_id: the agent is not in conversation ${conversationId}`,
    Code.NotFound,
    undefined,
    [badRequest([{ field: "conversation_id", description: "not one of the agent's conversations" }])],
  );
}

/** The home after the home is left: the oldest joined, then the smallest group id (the agent applies the same rule). */
export function nextHome<T extends Pick<ConversationRow, "conversationId" | "joinedAt">>(
  rows: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const r of rows) {
    const at = r.joinedAt?.getTime() ?? Number.POSITIVE_INFINITY;
    const bestAt = best?.joinedAt?.getTime() ?? Number.POSITIVE_INFINITY;
    if (!best || at < bestAt || (at === bestAt && r.conversationId < best.conversationId)) best = r;
  }
  return best;
}

/** How a stale addition (its process stopped renewing it) ends: in, with the group its host lists; never joined; or undecided. */
export type Settlement = { kind: "joined"; conversationId: string } | { kind: "drop" } | { kind: "wait" };

/**
 * A stale addition against what the agent's host lists. The host does not
 * say which invite a conversation came from; an agent joins one addition at
 * a time (checkNotThere), so the one joined conversation the pool does not
 * know (no joined or leaving row) is this addition's. None: it never joined
 * (so too when the host does not run the agent, `hosted` undefined). More
 * than one: the pool's rows and the agent disagree otherwise, and nothing is
 * guessed (it waits, and the sweep says so).
 */
export function settleStale(
  known: readonly ConversationRow[],
  hosted: readonly { conversationId: string; state: AgentConversationState }[] | undefined,
): Settlement {
  const knownIds = new Set(
    known.filter((r) => r.state === "joined" || r.state === "leaving").map((r) => r.conversationId),
  );
  const unknown = (hosted ?? []).filter(
    (c) => c.state === AgentConversationState.JOINED && c.conversationId !== "" && !knownIds.has(c.conversationId),
  );
  const [only, ...more] = unknown;
  if (!only) return { kind: "drop" };
  return more.length === 0 ? { kind: "joined", conversationId: only.conversationId } : { kind: "wait" };
}
