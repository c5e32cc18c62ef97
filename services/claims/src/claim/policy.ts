/**
 * Who may do what to an agent, and what an owner's request must carry,
 * decided pure: no database, no network. The handlers (service.ts,
 * owner-call.ts, withdrawal.ts, clone.ts) read the rows, ask these, then
 * act; the claim flow asks what a rolled-back claim leaves (rollback.ts).
 * One rule runs through them: a refusal that would tell a stranger that an
 * agent exists is NOT_FOUND, the answer for a missing one. What a claim
 * itself asks for is request.ts; who proves to be the owner, proof.ts.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  failedPrecondition,
  INBOX_ID_PATTERN,
  invalidArgument,
  notFound,
  permissionDenied,
  unauthenticated,
} from "@convos-pool/kit/content";
import type { Stage } from "./errors.js";
import type { Owned } from "./proof.js";
import { visibleTo } from "./request.js";

/** An agent's states while it has an owner who may act on it (crashed: its host lost it for now). */
export const LIVE_STATES: readonly string[] = ["claimed", "crashed"];

/** Whether an agent in `state` is live: its owner's to act on. */
export function isLive(state: string): boolean {
  return LIVE_STATES.includes(state);
}

/**
 * The signed-in caller's own live agent (a memory call, the activity log):
 * anyone else's, one not live and none at all are NOT_FOUND alike.
 */
export function callersLiveAgent<T extends { ownerId: string | null; state: string }>(
  instanceId: string,
  agent: T | undefined,
  caller: string,
): Owned<T> {
  if (!agent || agent.ownerId !== caller || !isLive(agent.state)) throw notFound(`instance ${instanceId}`);
  return { ...agent, ownerId: caller };
}

/** "My agents" is private: only its owner, signed in, lists it. */
export function checkOwnerListing(ownerId: string, caller: string | undefined): void {
  if (!INBOX_ID_PATTERN.test(ownerId))
    throw invalidArgument("owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
  if (caller === undefined) throw unauthenticated("sign in to list your agents");
  if (caller !== ownerId) throw permissionDenied("only the owner lists their agents");
}

/** An agent as GetInstance and the transfer read it: whose it is, and whom it is offered to. */
export interface Holding {
  ownerId: string | null;
  pendingTransfer?: { newOwnerId: string } | null | undefined;
}

/**
 * Who reads an agent: its owner, and the inbox it is offered to (who must
 * see whose it is to accept it); nobody reads one without an owner.
 */
export function readableBy(agent: Holding | undefined, caller: string): boolean {
  if (!agent || agent.ownerId === null) return false;
  return agent.ownerId === caller || agent.pendingTransfer?.newOwnerId === caller;
}

/**
 * An agent as a reader who is not its owner sees it (a template's creator on
 * their dashboard, the inbox it is offered to): without the names of its home
 * and of its other conversations, which only its owner, a member there, is told.
 */
export function shownTo<T extends { ownerId: string; conversationName: string; conversations: { name: string }[] }>(
  agent: T,
  caller: string,
): T {
  if (agent.ownerId === caller) return agent;
  return { ...agent, conversationName: "", conversations: agent.conversations.map((c) => ({ ...c, name: "" })) };
}

/** Whom an agent may be offered to: an inbox. */
export function checkNewOwner(newOwnerId: string): void {
  if (!INBOX_ID_PATTERN.test(newOwnerId))
    throw invalidArgument("new_owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
}

/** An owner offers the agent to someone else, never to themselves. */
export function checkTransferTo(ownerId: string, newOwnerId: string): void {
  if (newOwnerId === ownerId) throw invalidArgument("new_owner_id", "is already the agent's owner");
}

/**
 * Withdrawing an offer that is not there: the signature could name nothing,
 * so only the owner's session learns why (FAILED_PRECONDITION); anyone else
 * is told NOT_FOUND. The error to throw.
 */
export function noOpenOffer(instanceId: string, agent: Holding | undefined, caller: string | undefined): ConnectError {
  if (agent?.ownerId && caller === agent.ownerId)
    return failedPrecondition(`instance ${instanceId} has no open transfer offer`);
  return notFound(`instance ${instanceId}`);
}

/**
 * An offer to accept: the agent's owner and the open offer, when the caller
 * (a session, or none: the acceptance's signature proves who) is the inbox
 * it was made to; otherwise NOT_FOUND, whatever the reason.
 */
export function openOfferFor<T extends Holding>(
  instanceId: string,
  agent: T | undefined,
  caller: string | undefined,
): { agent: T; owner: string; offer: NonNullable<T["pendingTransfer"]> } {
  const offer = agent?.pendingTransfer;
  if (!agent || !offer || !agent.ownerId || (caller !== undefined && caller !== offer.newOwnerId))
    throw notFound(`instance ${instanceId}`);
  return { agent, owner: agent.ownerId, offer };
}

/**
 * A creator's dashboard (ListTemplateInstances): the template's creator only.
 * A template the caller may not see is NOT_FOUND, as a missing one; a public
 * one is anyone's to see, so someone else is told PERMISSION_DENIED.
 */
export function checkDashboardReader(templateId: string, template: Template, caller: string): void {
  if (!visibleTo(template, caller)) throw notFound(`template ${templateId}`);
  if (template.creatorId !== caller) throw permissionDenied("only the template's creator lists its instances");
}

/**
 * Who withdraws from an agent's wallet: its owner, even of a removed agent
 * (the owner is kept). None: NOT_FOUND; a session of another inbox:
 * PERMISSION_DENIED (the signature is checked after). The agent, owned.
 */
export function withdrawerOf<T extends Holding>(
  instanceId: string,
  agent: T | undefined,
  caller: string | undefined,
): Owned<T> {
  const ownerId = agent?.ownerId;
  if (!agent || !ownerId) throw notFound(`instance ${instanceId}`);
  if (caller !== undefined && caller !== ownerId)
    throw permissionDenied("only the agent's owner withdraws from its wallet");
  return { ...agent, ownerId };
}

/** A clone's parent as the clone needs it: live, with an owner and a template. */
export interface ParentAgent {
  id: string;
  state: string;
  ownerId: string | null;
  templateId: string | null;
}

/**
 * An owner clones only their own live agent (another's, or none: NOT_FOUND),
 * one running now (its host lost it: FAILED_PRECONDITION, try again), and
 * the clone runs its parent's template.
 */
export function checkCloneParent<P extends ParentAgent>(
  cloneFrom: string,
  parent: P | undefined,
  requester: string,
  templateId: string,
): P & { ownerId: string; templateId: string } {
  if (!parent || parent.ownerId !== requester || !isLive(parent.state) || !parent.templateId)
    throw notFound(`instance ${cloneFrom}`);
  if (parent.state !== "claimed")
    throw failedPrecondition(
      `clone_from: instance ${parent.id} is not running right now (its host lost it); try again when it is back`,
    );
  if (templateId !== parent.templateId)
    throw invalidArgument("template_id", `a clone runs its parent's template (${parent.templateId})`);
  return { ...parent, ownerId: requester, templateId: parent.templateId };
}

/**
 * Join failures an instance reports itself (docs/instance.md), and the
 * requester's cancel (its release ends the join): after them, a released
 * instance is fit for reuse.
 */
export const REPORTED_JOIN_FAILURES: readonly Code[] = [
  Code.InvalidArgument,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.DeadlineExceeded,
  Code.Canceled,
];

/**
 * What a rolled-back claim leaves its instance as (rollback.ts has the
 * stage-by-stage table): idle, fit for the next claim, only when nothing
 * of the claim can be left on it; else dead, and the pool replaces it.
 * `released`: the instance's Release answered (none asked before it was
 * contacted, at "provision"); `cause`: the failure.
 */
export function rolledBackTo(
  stage: Stage,
  o: { released: boolean; toolsReleased: boolean; cause: unknown },
): "idle" | "dead" {
  if (!o.toolsReleased) return "dead";
  if (stage === "provision") return "idle";
  if (stage === "configure") return o.released ? "idle" : "dead";
  if (stage === "join")
    return o.released && o.cause instanceof ConnectError && REPORTED_JOIN_FAILURES.includes(o.cause.code)
      ? "idle"
      : "dead";
  return "dead";
}
