// An agent's reminders, routines and scheduled acts in its owner's words
// (docs/web.md, "Reminders"; docs/schedules.md): what, when next (where the
// reader is and in the item's own zone), how often, who asked, paused or not,
// and which changes the page offers, from items shaped as ListSchedules
// returns them, grouped under the agent's conversations. Pure: no call is
// made, and the clock and the reader's zone are given.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  ScheduleKind,
  SchedulePause,
  type ScheduleItem,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { clockWords, dayWords, howOften } from "@convos-pool/kit/time";
import { short } from "../words/format";
import { dateTime, type Reader } from "../words/words";

/** A conversation as the agent's record names it (`Instance.conversations`). */
export interface NamedConversation {
  conversationId: string;
  name: string;
}

/** What the page may do to an item. */
export type ReminderAction = "pause" | "resume" | "cancel";

/** One item as a line of the section. */
export interface ReminderLine {
  id: string;
  kind: string;
  what: string;
  next: string;
  often: string;
  askedBy: string;
  state: string;
  paused: boolean;
  actions: ReminderAction[];
  /** Its time of day in its own zone, "HH:MM", where the owner may move it; undefined where it cannot be moved. */
  moveFrom: string | undefined;
}

/** The items of one conversation, under its name. */
export interface ReminderGroup {
  conversationId: string;
  name: string;
  lines: ReminderLine[];
}

const KIND_WORDS: Record<ScheduleKind, string> = {
  [ScheduleKind.UNSPECIFIED]: "item",
  [ScheduleKind.REMINDER]: "reminder",
  [ScheduleKind.ROUTINE]: "routine",
  [ScheduleKind.ACT]: "scheduled act",
};

const PAUSE_WORDS: Record<SchedulePause, string> = {
  [SchedulePause.UNSPECIFIED]: "paused",
  [SchedulePause.ASKED]: "paused",
  [SchedulePause.RELEASED]: "paused when the agent was released: it waits for its owner's resume",
  [SchedulePause.TRANSFERRED]: "paused when the agent changed owner: it waits for your resume",
  [SchedulePause.LEFT]: "paused: the agent is no longer in this conversation",
};

const ms = (t: Timestamp | undefined) => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : undefined);

/** The reader's zone: the browser's unless a test gives one. */
const readerZone = (r: Reader) => r.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The item's moment in its zone as the agent says it: "tomorrow at 9:00 (Europe/Paris)". */
function inItsZone(at: number, now: number, zone: string): string {
  try {
    return `${dayWords(at, now, zone)} at ${clockWords(at, zone)} (${zone})`;
  } catch {
    // A zone this browser's Temporal does not know: the reader's clock alone is still right.
    return zone;
  }
}

/**
 * When it fires next, where the reader is and, when that zone is another, in
 * the item's own zone, the one the agent keeps it by: "tomorrow, 08:00; tomorrow at 9:00 (Europe/Paris)".
 */
export function nextWords(item: ScheduleItem, r: Reader = {}): string {
  const at = ms(item.nextAt);
  if (at === undefined) return "nothing still to come";
  const now = (r.now ?? new Date()).getTime();
  const here = dateTime(new Date(at), r);
  if (readerZone(r) === item.timeZone) return `${here} (${item.timeZone})`;
  return `${here} your time; ${inItsZone(at, now, item.timeZone)}`;
}

/** How often, as the agent shows it back: "once", "every Monday at 9:00", "every 30 minutes". */
export function oftenWords(item: ScheduleItem): string {
  if (item.rrule.trim() === "") return "once";
  const startsAt = ms(item.startsAt) ?? 0;
  try {
    const often = howOften({ startsAt, rrule: item.rrule, zone: item.timeZone });
    // A rule by the clock keeps its time of day; one of minutes or hours has none of its own.
    return /minute|hour|once/.test(often) ? often : `${often} at ${clockWords(startsAt, item.timeZone)}`;
  } catch {
    return "on a rule of its own";
  }
}

/**
 * Who asked, as the page names people elsewhere: "you", "the template" for a
 * routine the agent keeps for its template (asked on its own behalf:
 * docs/templates.md, "Routines"), else the role and the short inbox.
 */
export function askedByWords(item: ScheduleItem, viewer: string | undefined, agentInboxId?: string): string {
  if (viewer && item.askedByInboxId === viewer) return "you";
  if (item.askedByRole === ScheduleAskerRole.TEMPLATE || (agentInboxId && item.askedByInboxId === agentInboxId))
    return "the template";
  const who = short(item.askedByInboxId);
  return item.askedByRole === ScheduleAskerRole.OWNER ? `the owner, ${who}` : `a member, ${who}`;
}

/** Active, paused and why, or "done" once nothing is left to fire. */
export function stateWords(item: ScheduleItem): string {
  if (item.paused) return PAUSE_WORDS[item.pause] ?? PAUSE_WORDS[SchedulePause.UNSPECIFIED];
  return item.nextAt ? "active" : "done";
}

/**
 * What the owner may do to it: cancel always; pause one still to come; resume
 * a paused one that could fire again (a one-time item whose moment passed
 * while paused has none, and the pool would refuse it).
 */
export function actionsFor(item: ScheduleItem, now: number): ReminderAction[] {
  const next = ms(item.nextAt);
  if (!item.paused) return next === undefined ? ["cancel"] : ["pause", "cancel"];
  const again = item.rrule.trim() !== "" || (next !== undefined && next > now);
  return again ? ["resume", "cancel"] : ["cancel"];
}

/** A rule whose hours are its own, or more than once a day: it has no one time of day to move. */
const OWN_HOURS = /(^|;)\s*(BYHOUR|BYMINUTE|BYSECOND)\s*=|(^|;)\s*FREQ\s*=\s*(HOURLY|MINUTELY|SECONDLY)/i;

/**
 * Where a move starts: the item's next time of day in its own zone, "HH:MM"
 * (the pool moves it in that zone: MoveSchedule); undefined when nothing is
 * left to come or its rule has no one time of day (the pool would refuse).
 */
export function moveFrom(item: ScheduleItem): string | undefined {
  const next = ms(item.nextAt);
  if (next === undefined || OWN_HOURS.test(item.rrule)) return undefined;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: item.timeZone || "UTC",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(next);
}

/** A move as the page sends it: the time the owner chose, and a one-time item's day when one was chosen. */
export function moveAsk(time: string, date = ""): { time: string; date: string } {
  return { time: time.trim(), date: date.trim() };
}

export function reminderLine(
  item: ScheduleItem,
  viewer: string | undefined,
  r: Reader = {},
  agentInboxId?: string,
): ReminderLine {
  return {
    id: item.id,
    kind: KIND_WORDS[item.kind] ?? KIND_WORDS[ScheduleKind.UNSPECIFIED],
    what: item.text,
    next: nextWords(item, r),
    often: oftenWords(item),
    askedBy: askedByWords(item, viewer, agentInboxId),
    state: stateWords(item),
    paused: item.paused,
    actions: actionsFor(item, (r.now ?? new Date()).getTime()),
    moveFrom: moveFrom(item),
  };
}

/**
 * The items under the agent's conversations, in the record's order and each
 * in the listing's order (soonest first); a conversation with none is left
 * out, and one the record no longer names (the agent left it) comes last,
 * under its short id.
 */
export function reminderGroups(
  items: readonly ScheduleItem[],
  conversations: readonly NamedConversation[],
  viewer: string | undefined,
  r: Reader = {},
  agentInboxId?: string,
): ReminderGroup[] {
  const known = conversations.map((c) => c.conversationId);
  const ids = [...known, ...new Set(items.map((i) => i.conversationId).filter((id) => !known.includes(id)))];
  return ids
    .map((id) => ({
      conversationId: id,
      name: conversations.find((c) => c.conversationId === id)?.name.trim() || `conversation ${short(id)}`,
      lines: items.filter((i) => i.conversationId === id).map((i) => reminderLine(i, viewer, r, agentInboxId)),
    }))
    .filter((g) => g.lines.length > 0);
}

/** What the section says when the agent keeps nothing: how to ask it for one. */
export function emptyWords(agentName: string): string {
  const name = agentName.trim() || "the agent";
  return `It keeps no reminders or routines yet. Ask it in the conversation, as "${name}, remind us Friday at 6 to book the table" or "${name}, every Monday at 9 post the week's plan": it shows back what it understood and keeps it.`;
}
