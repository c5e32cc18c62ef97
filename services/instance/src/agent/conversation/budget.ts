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

/** Model calls one agent's conversation may cause in any minute, unless its host says otherwise. */
export const MODEL_CALLS_PER_MINUTE = 60;
const MINUTE_MS = 60_000;

/** How the minute's budget is shared: a third kept for the owner, members together the rest, one member half of that. */
export interface Shares {
  /** All calls, the owner's included. */
  total: number;
  /** Calls the owner's messages may use that no member's may. */
  ownerReserve: number;
  /** Calls members' messages (and outsiders' texts) may use together. */
  members: number;
  /** Calls one member's messages may use. */
  perMember: number;
}

/** The shares of a budget of `perMinute` calls (at least one call each for members and a member). */
export function shares(perMinute: number): Shares {
  const ownerReserve = Math.floor(perMinute / 3);
  const members = Math.max(1, perMinute - ownerReserve);
  return { total: perMinute, ownerReserve, members, perMember: Math.max(1, Math.ceil(members / 2)) };
}

/** A model call it made: when, and for whose message (an inbox id, or an outsider's number). */
export interface Spent {
  at: number;
  by: string;
  owner: boolean;
}

/** Why a call was refused: the whole budget, members' part of it, or this member's share. */
export type Refusal = "budget" | "members" | "member";

/**
 * Whether a model call for a message of `by` may be made at `now` (ms), given
 * the calls of the last minute; the calls to keep, this one among them when
 * it may. `perMinute` 0: no budget (nothing is kept, everything allowed).
 */
export function spend(
  spent: readonly Spent[],
  call: { by: string; owner: boolean },
  now: number,
  perMinute: number,
): { allowed: true; spent: Spent[] } | { allowed: false; spent: Spent[]; refused: Refusal } {
  if (perMinute <= 0) return { allowed: true, spent: [] };
  const recent = spent.filter((s) => s.at > now - MINUTE_MS);
  const s = shares(perMinute);
  if (recent.length >= s.total) return { allowed: false, spent: recent, refused: "budget" };
  if (!call.owner) {
    if (recent.filter((r) => !r.owner).length >= s.members)
      return { allowed: false, spent: recent, refused: "members" };
    if (recent.filter((r) => r.by === call.by).length >= s.perMember)
      return { allowed: false, spent: recent, refused: "member" };
  }
  return { allowed: true, spent: [...recent, { at: now, ...call }] };
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
}

/** The limits unless its host says otherwise. */
export const LLM_LIMITS: LlmLimits = { callsPerMinute: MODEL_CALLS_PER_MINUTE, ...PROMPT_LIMITS };
