/**
 * Schedules' decisions, pure (docs/schedules.md): what a host may ask for on
 * behalf of a person (every bad field at once, each named), how many may
 * wait, who sees and changes which item, and what a firing does. No I/O and
 * no clock of its own: `now` is always given. The times themselves (a rule's
 * occurrences, a zone's name) are the kit's (`@convos-pool/kit/time`).
 */
import type { FieldViolationInfo } from "@convos-pool/kit/content";
import { knownZone, MIN_MINUTES_BETWEEN, nextOccurrences } from "@convos-pool/kit/time";

/** A rule may not come more often than this: every 15 minutes at most. */
export const MIN_MINUTES_BETWEEN_FIRINGS = MIN_MINUTES_BETWEEN;
/** Items waiting (with a next occurrence, not paused or paused) in one conversation of an agent, at most. */
export const MAX_PENDING_PER_CONVERSATION = 50;
/** Items one person has waiting in one conversation of an agent, at most. */
export const MAX_PENDING_PER_PERSON = 10;
export const MAX_TEXT_CHARS = 1000;
export const MAX_PAYLOAD_BYTES = 4096;
/** A start this far behind `now` still counts as now: the time the asking took. */
export const PAST_GRACE_MS = 60_000;
/** Occurrences read to find the fewest minutes between two. */
const GAPS_READ = 50;

export type ScheduleKindName = "reminder" | "routine" | "act";
export type AskerRole = "owner" | "member";
/** Why an item is paused. */
export type PauseReason = "asked" | "released" | "transferred" | "left";

/** What a host asks for, read from the request (ScheduleSpec); an unspecified kind is undefined. */
export interface ScheduleAsk {
  kind: ScheduleKindName | undefined;
  text: string;
  /** Epoch ms; undefined when the request left it out. */
  startsAt: number | undefined;
  rrule: string;
  timeZone: string;
  payload: Uint8Array;
}

/** One item as the service keeps it. */
export interface Item {
  id: string;
  instanceId: string;
  conversationId: string;
  askedBy: string;
  askedByRole: AskerRole;
  kind: ScheduleKindName;
  text: string;
  startsAt: number;
  rrule: string;
  timeZone: string;
  /** Epoch ms; null once no occurrence is left. */
  nextAt: number | null;
  pause: PauseReason | null;
  payload: Uint8Array;
  createdAt: number;
}

/** Who asks to see or change items: the agent's owner, or a member of one conversation. */
export type Viewer = { role: "owner"; inboxId: string } | { role: "member"; inboxId: string; conversationId: string };

/** The owner by the service's own record; anyone else a host speaks for is a member. */
export function roleOf(inboxId: string, ownerId: string | null): AskerRole {
  return ownerId !== null && inboxId === ownerId ? "owner" : "member";
}

/**
 * Every fault of an ask, each named by its field under `spec.`: a kind left
 * out or an act asked by a member, text empty or too long, a start left out
 * or past, a zone unknown, a rule unreadable, more often than every 15
 * minutes or with no occurrence to come, a payload too big.
 */
export function askViolations(ask: ScheduleAsk, role: AskerRole, now: number): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  const v = (field: string, description: string) => out.push({ field: `spec.${field}`, description });
  if (ask.kind === undefined) v("kind", "required: reminder, routine or act");
  else if (ask.kind === "act" && role !== "owner")
    v("kind", "a scheduled act is the owner's alone; members may set reminders and routines");
  const text = ask.text.trim();
  if (text === "") v("text", "required: what to post, or the instruction");
  else if ([...ask.text].length > MAX_TEXT_CHARS)
    v("text", `${[...ask.text].length} characters, at most ${MAX_TEXT_CHARS}`);
  if (ask.payload.length > MAX_PAYLOAD_BYTES) v("payload", `${ask.payload.length} bytes, at most ${MAX_PAYLOAD_BYTES}`);
  const zone = knownZone(ask.timeZone);
  if (!zone) v("time_zone", `"${ask.timeZone.slice(0, 60)}" is not an IANA time zone (like Europe/Paris)`);
  if (ask.startsAt === undefined) {
    v("starts_at", "required: the first (or only) occurrence");
    return out;
  }
  const rule = ask.rrule.trim();
  if (rule === "") {
    if (ask.startsAt < now - PAST_GRACE_MS) v("starts_at", "is in the past: a time still to come");
    return out;
  }
  if (!zone) return out;
  const when = { startsAt: ask.startsAt, rrule: rule, zone };
  const first = nextOccurrences(when, ask.startsAt - 1, GAPS_READ);
  if (first.length === 0) {
    v("rrule", "not an RFC 5545 RRULE with an occurrence (FREQ=WEEKLY;BYDAY=MO)");
    return out;
  }
  const fewest = fewestMinutes(first);
  if (fewest !== undefined && fewest < MIN_MINUTES_BETWEEN_FIRINGS)
    v("rrule", `comes every ${fewest} minutes; at most every ${MIN_MINUTES_BETWEEN_FIRINGS} minutes`);
  else if (nextOccurrences(when, now - PAST_GRACE_MS, 1).length === 0) v("rrule", "has no occurrence still to come");
  return out;
}

function fewestMinutes(instants: number[]): number | undefined {
  let fewest: number | undefined;
  instants.reduce((before, at) => {
    const minutes = Math.round((at - before) / 60_000);
    fewest = fewest === undefined ? minutes : Math.min(fewest, minutes);
    return at;
  });
  return fewest;
}

/** What waits already in the conversation, and of the person asking, before this ask. */
export interface PendingCounts {
  conversation: number;
  person: number;
}

/** One more item past a limit: named by the field that names the conversation or the person. */
export function pendingViolations(counts: PendingCounts): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  if (counts.conversation >= MAX_PENDING_PER_CONVERSATION)
    out.push({
      field: "on_behalf.conversation_id",
      description: `already ${counts.conversation} items waiting in this conversation, at most ${MAX_PENDING_PER_CONVERSATION}: cancel one first`,
    });
  if (counts.person >= MAX_PENDING_PER_PERSON)
    out.push({
      field: "on_behalf.inbox_id",
      description: `already ${counts.person} items of theirs waiting in this conversation, at most ${MAX_PENDING_PER_PERSON}: cancel one first`,
    });
  return out;
}

/** The first occurrence of a new item: its start (a start within the grace fires at once). */
export function firstOccurrence(
  ask: { startsAt: number; rrule: string; timeZone: string },
  now: number,
): number | null {
  if (ask.rrule.trim() === "") return Math.max(ask.startsAt, now);
  const zone = knownZone(ask.timeZone) ?? ask.timeZone;
  return nextOccurrences({ startsAt: ask.startsAt, rrule: ask.rrule, zone }, now - PAST_GRACE_MS, 1)[0] ?? null;
}

/** The occurrence after `after`, strictly; null when the item has none left. */
export function occurrenceAfter(item: Pick<Item, "startsAt" | "rrule" | "timeZone">, after: number): number | null {
  if (item.rrule.trim() === "") return null;
  const zone = knownZone(item.timeZone) ?? item.timeZone;
  return nextOccurrences({ startsAt: item.startsAt, rrule: item.rrule, zone }, after, 1)[0] ?? null;
}

/** Whether the viewer sees the item: the owner every one, a member their conversation's. */
export function sees(viewer: Viewer, item: Pick<Item, "conversationId">): boolean {
  return viewer.role === "owner" || viewer.conversationId === item.conversationId;
}

/**
 * Why the viewer may not pause, resume or cancel the item (undefined: they
 * may). A member changes only what they asked for in their conversation, and
 * never resumes what a release, a transfer or a departure paused: that waits
 * for the owner's yes.
 */
export function changeRefusal(
  viewer: Viewer,
  item: Pick<Item, "conversationId" | "askedBy" | "pause">,
  change: "pause" | "resume" | "cancel",
): "not-found" | "denied" | undefined {
  if (!sees(viewer, item)) return "not-found";
  if (viewer.role === "owner") return undefined;
  if (item.askedBy !== viewer.inboxId) return "denied";
  if (change === "resume" && item.pause !== null && item.pause !== "asked") return "denied";
  return undefined;
}

/** A firing's id: the item and the occurrence's instant in RFC 3339, UTC, whole seconds. */
export function firingId(itemId: string, occurrenceAt: number): string {
  return `${itemId}@${new Date(Math.floor(occurrenceAt / 1000) * 1000).toISOString().replace(".000Z", "Z")}`;
}

/** What a due job does with its item, as the item stands when the job runs. */
export type FiringPlan =
  /** Cancelled, paused, or moved on since the job was set: nothing. */
  | { kind: "drop"; why: string }
  /** Deliver `firingId` to the agent's host, then wait for `next` (null: the item is done). */
  | { kind: "deliver"; firingId: string; next: number | null };

/**
 * The firing of `occurrenceAt` for `item` (undefined: cancelled). A firing
 * delivered late does not bring the occurrences it missed in a burst: the
 * next is the first after both the occurrence and `now`.
 */
export function planFiring(item: Item | undefined, occurrenceAt: number, now: number): FiringPlan {
  if (!item) return { kind: "drop", why: "cancelled" };
  if (item.pause !== null) return { kind: "drop", why: `paused (${item.pause})` };
  if (item.nextAt !== occurrenceAt) return { kind: "drop", why: "not its next occurrence any more" };
  return {
    kind: "deliver",
    firingId: firingId(item.id, occurrenceAt),
    next: occurrenceAfter(item, Math.max(occurrenceAt, now)),
  };
}

/** Where a resumed item fires next: its first occurrence from now (a missed one is skipped). */
export function resumeAt(item: Pick<Item, "startsAt" | "rrule" | "timeZone" | "nextAt">, now: number): number | null {
  if (item.rrule.trim() === "") return item.nextAt === null ? null : Math.max(item.startsAt, now);
  return occurrenceAfter(item, now);
}

/**
 * Why a host may not speak for the agent (undefined: it may): the hosts'
 * shared credential, an agent placed elsewhere (but for the host a move is
 * restoring it on), an agent not claimed. As the payment signer decides,
 * the host is checked first, so a host learns nothing of another's agent.
 */
export function hostRefusal(
  place: { state: string; hostUrl: string; movingTo: string | null } | undefined,
  callerHost: string | undefined,
): "shared-credential" | "not-found" | "elsewhere" | "not-claimed" | undefined {
  if (callerHost === undefined) return "shared-credential";
  if (!place) return "not-found";
  if (place.hostUrl !== callerHost && place.movingTo !== callerHost) return "elsewhere";
  if (place.state !== "claimed" && place.state !== "crashed") return "not-claimed";
  return undefined;
}
