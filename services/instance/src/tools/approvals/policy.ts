// An approval is bound to one action: the agent asks in a message of its own
// that states the action in full, and only its owner's reply to that message,
// or a 👍 or 👎 on it, answers. Right after it come the same words as XMTP
// `actions` (Approve, Decline) for clients that show buttons; the owner's
// tap (an `intent`) on those buttons answers too. A bare "ok" in the
// conversation, a reply to another message, a tap on another question's
// buttons, anyone else's answer: none approves anything. Pure; questions.ts
// holds the waiting questions, the conversation hands them the owner's
// replies, reactions and taps. The owner's name in it is cleaned as every
// shown name is (kit `cleanDisplayName`): a name of several lines could
// otherwise put a line of its own above the action.
// Where the owner chose (Permissions.approvals), or is not a member of the
// conversation (approvalPlace), the question goes to the owner's direct
// conversation with the agent instead, naming the
// conversation it is for, and that conversation reads only that the owner
// was asked (askedDirectly): amounts, addresses, a text's words stay between
// the two. The rules of an answer are the same there.

import { ApprovalPlace } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { cleanDisplayName } from "@convos-pool/kit/content";

/** How long a question waits for its answer; no answer in time is a no. */
export const APPROVAL_TIMEOUT_MS = 10 * 60_000;

/**
 * The owner's message that may answer a question: a text reply to a message,
 * a reaction on one, or a tap on a button (an intent: the id of the set of
 * buttons, and of the button).
 */
export type OwnerAnswer =
  | { kind: "reply"; to: string; text: string }
  | { kind: "reaction"; to: string; emoji: string }
  | { kind: "tap"; buttons: string; action: string };

/** A question waiting for its answer, once its message is sent. */
export interface AskedQuestion {
  /** The id of the message that asked: its buttons carry it too (approvalButtons). */
  id: string;
  /**
   * Someone else posted buttons with the same ids (a look-alike that an
   * intent cannot be told apart from): its buttons answer nothing any more,
   * its message still does.
   */
  copied: boolean;
}

const YES_WORDS = new Set(["yes", "y", "ok", "okay", "approve", "approved", "go ahead", "do it", "👍"]);
const NO_WORDS = new Set(["no", "n", "deny", "denied", "don't", "do not", "stop", "👎"]);

/** 👍 in any skin tone, or 👎. */
function reactionWord(emoji: string): "yes" | "no" | undefined {
  const bare = emoji.replace(/[\u{1F3FB}-\u{1F3FF}\uFE0F]/gu, "");
  return bare === "👍" ? "yes" : bare === "👎" ? "no" : undefined;
}

/** A reply's whole text as yes or no ("Yes.", "ok!", "no thanks" is not one): nothing else counts. */
export function replyWord(text: string): "yes" | "no" | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/[\s.!]+$/u, "");
  if (YES_WORDS.has(t)) return "yes";
  if (NO_WORDS.has(t)) return "no";
  return reactionWord(t);
}

/** What `answer` says of `question`; undefined when it is not an answer to it. */
export function approvalAnswer(question: AskedQuestion | undefined, answer: OwnerAnswer): "yes" | "no" | undefined {
  if (!question) return undefined;
  switch (answer.kind) {
    case "reply":
      return answer.to === question.id ? replyWord(answer.text) : undefined;
    case "reaction":
      return answer.to === question.id ? reactionWord(answer.emoji) : undefined;
    case "tap":
      if (question.copied || answer.buttons !== question.id) return undefined;
      return answer.action === approveId(question.id)
        ? "yes"
        : answer.action === declineId(question.id)
          ? "no"
          : undefined;
  }
}

/** Whether `answer` would answer a question whose message is the one it names: a yes or a no at all. */
export function answersSome(answer: OwnerAnswer): boolean {
  const id = answer.kind === "tap" ? answer.buttons : answer.to;
  return approvalAnswer({ id, copied: false }, answer) !== undefined;
}

const approveId = (question: string) => `approve:${question}`;
const declineId = (question: string) => `decline:${question}`;

/**
 * The question's buttons, as XMTP's `actions` carry them: the set's id is
 * the question's message id and each button's id names it too, so a tap
 * answers that question and no other; they expire when the question does.
 */
export interface ApprovalButtons {
  id: string;
  /** What a client shows above the buttons: the question and the action in full. */
  description: string;
  actions: { id: string; label: string; style: "primary" | "danger" }[];
  /** When the question stops waiting, ms since the epoch. */
  expiresAtMs: number;
}

export function approvalButtons(
  question: string,
  ownerName: string,
  statement: string,
  expiresAtMs: number,
  where: AskedIn = { kind: "conversation" },
): ApprovalButtons {
  return {
    id: question,
    description: `${mayI(ownerName, where)}\n\n${statement}`,
    actions: [
      { id: approveId(question), label: "Approve", style: "primary" },
      { id: declineId(question), label: "Decline", style: "danger" },
    ],
    expiresAtMs,
  };
}

/** Whether buttons someone else posted (their set's id and each button's) copy the ids of `question`'s. */
export function copiesButtons(question: string, ids: readonly string[]): boolean {
  const own = new Set([question, approveId(question), declineId(question)]);
  return ids.some((id) => own.has(id));
}

/** How the question addresses the owner: their name cleaned, "my owner" when none is left. */
export function addressOf(ownerName: string): string {
  return cleanDisplayName(ownerName) || "my owner";
}

/** Where a question is asked: in the conversation, or in the owner's direct conversation naming the one it is for. */
export type AskedIn = { kind: "conversation" } | { kind: "direct"; conversationName: string };

/**
 * Where a question for an act asked in a conversation goes
 * (docs/decisions.md, "Approvals are asked in the conversation the act was
 * asked in"): there, unless the owner chose their direct conversation, which
 * names it. Never another conversation: a group's name is said to the owner
 * alone. An owner who is not a member there answers from the pool's
 * approvals page.
 */
export function approvalPlace(choice: ApprovalPlace, conversationName: string): AskedIn {
  return choice === ApprovalPlace.DIRECT ? { kind: "direct", conversationName } : { kind: "conversation" };
}

/**
 * The question: the action in full, addressed to the owner, saying how to
 * answer and for how long; asked directly, it names the conversation it is
 * for (its name cleaned as a shown name is: members choose it).
 */
export function approvalQuestion(
  ownerName: string,
  statement: string,
  timeoutMs: number,
  where: AskedIn = { kind: "conversation" },
): string {
  const minutes = Math.max(1, Math.round(timeoutMs / 60_000));
  return [
    mayI(ownerName, where),
    "",
    statement,
    "",
    `Reply to this message with yes or no, or react 👍 or 👎 (within ${minutes} minute${minutes === 1 ? "" : "s"}). Nothing else approves it.`,
  ].join("\n");
}

/** "Saul, may I do this?"; asked directly, "Saul, may I do this in “Weekend away”?". */
function mayI(ownerName: string, where: AskedIn): string {
  const there = where.kind === "direct" ? ` in ${conversationCalled(where.conversationName)}` : "";
  return `${addressOf(ownerName)}, may I do this${there}?`;
}

/** “Weekend away”, or "our conversation" when it has no name left once cleaned. */
export function conversationCalled(name: string): string {
  const clean = cleanDisplayName(name);
  return clean ? `“${clean}”` : "our conversation";
}

/** What the conversation reads when its owner is asked directly: that they were asked, and nothing of the act. */
export function askedDirectly(ownerName: string): string {
  return `I've asked ${addressOf(ownerName)} in our direct conversation; I'll go on once they answer.`;
}

/** The owner wrote in the direct conversation, but answered no question: how to answer one. */
export const HOW_TO_ANSWER_DIRECTLY =
  "To answer, reply to my question with yes or no, or react 👍 or 👎 on it: that way I know which one you mean.";
