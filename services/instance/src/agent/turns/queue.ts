// Whose turn comes next (docs/instance.md, "Whose turn comes next"): the
// owner's before any member's (in any conversation), a member's before any
// outsider's, in the order they came within each, members' conversations
// taking turns; and how many may wait, so that nobody (and no conversation)
// can fill the queue ahead of the owner or of the others. Pure: the
// agent's turns (serial.ts Turns) keep what waits and ask here; a test
// checks it in memory (queue.test.ts).
//
// What this is not: the model budget (budget.ts says whether a turn, once
// it starts, may call the model), nor who is answered at all (policy.ts).

/**
 * Who a job waits for. owner: the owner's messages, and the agent's own work
 * between turns (an owner's memory call, a summary taken in, a mail notice):
 * first. member: anyone else in the conversation, agents included. outsider:
 * a text to its number: last.
 */
export type Standing = "owner" | "member" | "outsider";

const ORDER: Record<Standing, number> = { owner: 0, member: 1, outsider: 2 };

/** A job waiting for its turn, as the queue's policy reads it. */
export interface Waiter {
  standing: Standing;
  /** Whose: an inbox id, an outsider's number ("" for the agent's own work). */
  sender: string;
  /**
   * Whether it counts against its sender's share: a message that may become
   * a turn (a member's text, an outsider's text). A reaction, a profile, a
   * catch-up's older message (learned from, never answered) is quick and
   * does not.
   */
  counted: boolean;
  /** The conversation it came in (none: the agent's only one, or work of no conversation). */
  conversation?: string;
}

/** A member's messages that may wait at once; past it, one more is dropped (with a notice). */
export const MEMBER_TURNS_WAITING = 3;

/** Members' messages of one conversation that may wait at once, all its members together: a flood in one leaves room for the others. */
export const CONVERSATION_TURNS_WAITING = 12;

/** Texts to its number that may wait at once, all outsiders together: numbers cost little, so none has a share of its own. */
export const OUTSIDER_TURNS_WAITING = 3;

/** Whether `w` may join `waiting` (the jobs not started yet): within its sender's share, or not counted. */
export function admits(waiting: readonly Waiter[], w: Waiter): boolean {
  if (!w.counted || w.standing === "owner") return true;
  if (w.standing === "outsider")
    return waiting.filter((x) => x.counted && x.standing === "outsider").length < OUTSIDER_TURNS_WAITING;
  const members = waiting.filter((x) => x.counted && x.standing === "member" && x.conversation === w.conversation);
  return (
    members.length < CONVERSATION_TURNS_WAITING &&
    members.filter((x) => x.sender === w.sender).length < MEMBER_TURNS_WAITING
  );
}

/**
 * The index in `waiting` (oldest first) of the job that goes next; -1 when
 * none waits. The owner's oldest, in any conversation; then a member's, of
 * the conversation whose last member turn started longest ago
 * (`memberStarted`: when, by conversation; never started goes first), the
 * oldest there; then the oldest outsider's.
 */
export function nextUp(
  waiting: readonly Waiter[],
  memberStarted: ReadonlyMap<string | undefined, number> = new Map(),
): number {
  let best = -1;
  let bestOrder = Number.POSITIVE_INFINITY;
  let bestStarted = Number.POSITIVE_INFINITY;
  for (const [i, w] of waiting.entries()) {
    const order = ORDER[w.standing];
    const started = w.standing === "member" ? (memberStarted.get(w.conversation) ?? Number.NEGATIVE_INFINITY) : 0;
    if (order > bestOrder || (order === bestOrder && started >= bestStarted)) continue;
    best = i;
    bestOrder = order;
    bestStarted = started;
  }
  return best;
}

/** The standing of a message from `sender`: its owner's, or its own, first; anyone else's as a member's. */
export function standingOf(sender: string, who: { self: string; ownerId: string | undefined }): Standing {
  return sender === who.self || (who.ownerId !== undefined && sender === who.ownerId) ? "owner" : "member";
}

/** What it says, in reply to the message it drops, when a member's share is full (at most every BUSY_NOTICE_EVERY_MS a member). */
export const TOO_MANY_WAITING = `I already have ${MEMBER_TURNS_WAITING} of your messages waiting, so I'm leaving this one unanswered. Send it again once I have answered those.`;

/** What it says in its conversation when texts to its number come faster than it answers them (at most every BUSY_NOTICE_EVERY_MS). */
export const TEXTS_DROPPED =
  "Texts to my number are coming in faster than I can answer them, so I'm leaving some of them unread.";
