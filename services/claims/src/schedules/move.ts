/**
 * Moving an item to another local time of day (ScheduleService.MoveSchedule,
 * docs/schedules.md "Moving an item"), pure: who may, what the request must
 * hold, and where the item fires after. The owner's alone. A rule keeps its
 * days: its start keeps its local day at the new time, and the occurrence it
 * waits for moves to the new time on that occurrence's own day, so a routine
 * done today and moved later does not fire twice today; when that is past,
 * the next one. A one-time item moves on its day, or to the day given.
 * No I/O and no clock: `now` is given.
 */
import type { FieldViolationInfo } from "@convos-pool/kit/content";
import { routineClock } from "@convos-pool/kit/content";
import { instantOf, knownZone, nextOccurrences, wallClock } from "@convos-pool/kit/time";
import { type Item, PAST_GRACE_MS, sees, type Viewer } from "./policy.js";

/** What a move asks for: "HH:MM", and "YYYY-MM-DD" or empty. */
export interface MoveAsk {
  time: string;
  date: string;
}

export type MovePlan =
  | { kind: "refuse"; violations: FieldViolationInfo[] }
  /** Nothing left to fire: a one-time item done, a rule past its end. */
  | { kind: "none-left" }
  | { kind: "move"; startsAt: number; nextAt: number };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A rule whose hours are its own: a time of day does not say when it comes. */
const OWN_HOURS = /(^|;)\s*(BYHOUR|BYMINUTE|BYSECOND)\s*=|(^|;)\s*FREQ\s*=\s*(HOURLY|MINUTELY|SECONDLY)/i;

/** Why the viewer may not move the item (undefined: they may): the owner's alone; one a member cannot see is not found. */
export function moveRefusal(viewer: Viewer, item: Pick<Item, "conversationId">): "not-found" | "denied" | undefined {
  if (!sees(viewer, item)) return "not-found";
  return viewer.role === "owner" ? undefined : "denied";
}

function dateOf(date: string): { year: number; month: number; day: number } | undefined {
  const m = DATE.exec(date);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day ? { year, month, day } : undefined;
}

/** The faults of the request itself, each named by its field, before any item is read. */
export function moveViolations(ask: MoveAsk): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  if (!routineClock(ask.time))
    out.push({ field: "time", description: 'a local time "HH:MM" on a 24-hour clock, like "08:30"' });
  if (ask.date !== "" && !dateOf(ask.date))
    out.push({ field: "date", description: 'a local day "YYYY-MM-DD", like "2026-12-24", or empty' });
  return out;
}

/** Where `item` fires once moved as `ask` says, as of `now`. */
export function planMove(
  item: Pick<Item, "startsAt" | "rrule" | "timeZone" | "nextAt">,
  ask: MoveAsk,
  now: number,
): MovePlan {
  const refuse = (field: string, description: string): MovePlan => ({
    kind: "refuse",
    violations: [{ field, description }],
  });
  const faults = moveViolations(ask);
  if (faults.length > 0) return { kind: "refuse", violations: faults };
  if (item.nextAt === null) return { kind: "none-left" };
  const clock = routineClock(ask.time) as { hour: number; minute: number };
  const zone = knownZone(item.timeZone) ?? item.timeZone;
  const at = (instant: number, day?: { year: number; month: number; day: number }) =>
    instantOf(
      wallClock(instant, zone).with({ ...day, hour: clock.hour, minute: clock.minute, second: 0, millisecond: 0 }),
      zone,
    );
  const rule = item.rrule.trim();
  if (rule === "") {
    const startsAt = at(item.nextAt, ask.date === "" ? undefined : dateOf(ask.date));
    if (startsAt < now - PAST_GRACE_MS) return refuse("time", "is in the past: a time still to come");
    return { kind: "move", startsAt, nextAt: Math.max(startsAt, now) };
  }
  if (ask.date !== "") return refuse("date", "a repeating item keeps its days: only its time of day moves");
  if (OWN_HOURS.test(rule))
    return refuse("time", "its rule says its own hours or comes more than once a day: it has no one time of day");
  const startsAt = at(item.startsAt);
  // The waited-for occurrence's day, from its first instant: it moves within that day, or on.
  const dayBegins = instantOf(
    wallClock(item.nextAt, zone).with({ hour: 0, minute: 0, second: 0, millisecond: 0 }),
    zone,
  );
  const [nextAt] = nextOccurrences({ startsAt, rrule: rule, zone }, Math.max(now, dayBegins - 1), 1);
  return nextAt === undefined ? { kind: "none-left" } : { kind: "move", startsAt, nextAt };
}
