// What an agent's conversation may spend on its model (docs/instance.md,
// "What a conversation may cost"): one per-minute budget of model calls, each
// completion taking one: a turn's first, each further round of its function
// results, and a learning call. The owner keeps a
// reserve that members cannot touch, and no member takes more than a share,
// so a flood from members ends in refusals (and, at most every ten minutes,
// one short notice) while the owner is still answered. Pure: the
// conversation keeps the calls of the last minute (its pace, plan.ts), and
// plan.ts asks here for a turn's first call; a turn's further rounds and
// learning's call are asked for when they are made (carry-out.ts).

import { PROMPT_LIMITS, type PromptLimits } from "../../model/caps.js";
import { ANSWER_WITHIN_MS } from "../turns/backlog.js";

/** Model calls one agent's conversation may cause in any minute, unless its host says otherwise. */
export const MODEL_CALLS_PER_MINUTE = 60;
const MINUTE_MS = 60_000;

/**
 * How the minute's budget is shared: a third kept for the owner, members
 * together the rest, one conversation's members three quarters of that once
 * the agent is in two or more (so a busy one leaves the others some), one
 * member half of members' part.
 */
export interface Shares {
  /** All calls, the owner's included. */
  total: number;
  /** Calls the owner's messages may use that no member's may. */
  ownerReserve: number;
  /** Calls members' messages (and outsiders' texts) may use together. */
  members: number;
  /** Calls the members of one conversation may use together (`members` while it is in one). */
  perConversation: number;
  /** Calls one member's messages may use. */
  perMember: number;
}

/** The shares of a budget of `perMinute` calls for an agent in `conversations` (at least one call each for members and a member). */
export function shares(perMinute: number, conversations = 1): Shares {
  const ownerReserve = Math.floor(perMinute / 3);
  const members = Math.max(1, perMinute - ownerReserve);
  const perConversation = conversations >= 2 ? Math.ceil((members * 3) / 4) : members;
  return { total: perMinute, ownerReserve, members, perConversation, perMember: Math.max(1, Math.ceil(members / 2)) };
}

/** A model call it made: when, for whose message (an inbox id, or an outsider's number), and in which conversation (none: the only one). */
export interface Spent {
  at: number;
  by: string;
  owner: boolean;
  conversation?: string | undefined;
}

/** Why a call was refused: the whole budget, members' part of it, their conversation's part, or this member's share. */
export type Refusal = "budget" | "members" | "conversation" | "member";

/**
 * Whether a model call for a message of `by` may be made at `now` (ms), given
 * the calls of the last minute; the calls to keep, this one among them when
 * it may. `perMinute` 0: no budget (nothing is kept, everything allowed).
 * `conversations`: how many the agent is in (its members' share, `shares`).
 */
export function spend(
  spent: readonly Spent[],
  call: { by: string; owner: boolean; conversation?: string | undefined },
  now: number,
  perMinute: number,
  conversations = 1,
): { allowed: true; spent: Spent[] } | { allowed: false; spent: Spent[]; refused: Refusal } {
  if (perMinute <= 0) return { allowed: true, spent: [] };
  const recent = spent.filter((s) => s.at > now - MINUTE_MS);
  const s = shares(perMinute, conversations);
  if (recent.length >= s.total) return { allowed: false, spent: recent, refused: "budget" };
  if (!call.owner) {
    if (recent.filter((r) => !r.owner).length >= s.members)
      return { allowed: false, spent: recent, refused: "members" };
    if (recent.filter((r) => !r.owner && r.conversation === call.conversation).length >= s.perConversation)
      return { allowed: false, spent: recent, refused: "conversation" };
    if (recent.filter((r) => r.by === call.by).length >= s.perMember)
      return { allowed: false, spent: recent, refused: "member" };
  }
  return { allowed: true, spent: [...recent, { at: now, ...call }] };
}

/**
 * The agent's one budget across its conversations: one list of the last
 * minute's calls, so that a call in one conversation counts in all of them.
 */
export class ModelBudget {
  /** The calls of the last minute, every conversation's: what plan.ts charges a message's answer to. */
  spent: readonly Spent[] = [];

  /** `conversations()`: how many the agent is in now (asked at each call, as it joins and leaves). */
  constructor(
    private readonly perMinute: () => number,
    readonly conversations: () => number = () => 1,
  ) {}

  /** Takes a call for `call` at `now` when the budget allows it; why not otherwise. */
  spend(
    call: { by: string; owner: boolean; conversation?: string | undefined },
    now: number,
  ): { allowed: true } | { allowed: false; refused: Refusal } {
    const r = spend(this.spent, call, now, this.perMinute(), this.conversations());
    this.spent = r.spent;
    return r.allowed ? { allowed: true } : { allowed: false, refused: r.refused };
  }
}

/** At most one busy notice in this long: a flood is told once, not answered with a flood. */
export const BUSY_NOTICE_EVERY_MS = 10 * MINUTE_MS;

/** What it says, without a model call, when it first refuses to answer for the budget. */
export const BUSY_NOTICE =
  "I'm getting more messages than I can answer right now, so I'm leaving some unanswered. I'll answer again in a minute.";

/** Whether a refused answer at `now` is told (BUSY_NOTICE), given when it last told one. */
export function noticeDue(lastNoticeAt: number | undefined, now: number): boolean {
  return lastNoticeAt === undefined || now - lastNoticeAt >= BUSY_NOTICE_EVERY_MS;
}

/** What one agent's conversation may spend on its model: the calls of a minute and the caps of a prompt. */
export interface LlmLimits extends PromptLimits {
  /** Model calls in any minute (each completion of an answer's turn, and learning); 0: no budget. */
  callsPerMinute: number;
  /** How long a member's message may wait for its turn and still be answered (turns/backlog.ts); 0: always answered. */
  answerWithinMs?: number | undefined;
}

/** The limits unless its host says otherwise. */
export const LLM_LIMITS: LlmLimits = {
  callsPerMinute: MODEL_CALLS_PER_MINUTE,
  answerWithinMs: ANSWER_WITHIN_MS,
  ...PROMPT_LIMITS,
};
