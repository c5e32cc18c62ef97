// The routines a template declares (docs/templates.md, "Routines"): "every
// Monday at 9:00: post the week's plan", kept by each of its agents in each
// conversation as an item of its schedules (docs/schedules.md), at the local
// time of the conversation's zone. Pure: the JSON form and its proto, the
// checks the templates service runs (every fault at once, each naming its
// field), and the words the store shows.
import { create } from "@bufbuild/protobuf";
import { TemplateRoutineSchema, type TemplateRoutine } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { howOften } from "../time/describe.js";
import {
  fewestMinutesBetween,
  instantOf,
  MIN_MINUTES_BETWEEN,
  nextOccurrences,
  RRule,
  ruleOptions,
  wallClock,
} from "../time/rule.js";
import { type FieldViolationInfo, refuseViolations } from "./errors.js";

export const ROUTINE_LIMITS = {
  /** Few enough to stay well under what one asker may keep waiting in a conversation (10, docs/schedules.md). */
  routines: 5,
  id: 40,
  name: 80,
  /** As a schedule item's text (docs/schedules.md). */
  instruction: 1000,
} as const;

/** A routine in content JSON: strings as sent, `checkRoutines` says what they are. */
export interface RoutineJson {
  id: string;
  name: string;
  rrule: string;
  /** "HH:MM", 24-hour, the conversation's local time. */
  time: string;
  instruction: string;
}

export const ROUTINE_FIELDS = ["id", "name", "rrule", "time", "instruction"] as const;

const ROUTINE_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Parts a template's rule may not have: when it ends or starts is each conversation's, its time is `time`. */
const REFUSED_PARTS: Record<string, string> = {
  UNTIL: "repeats for as long as the agent is in the conversation: leave UNTIL out",
  COUNT: "repeats for as long as the agent is in the conversation: leave COUNT out",
  DTSTART: "starts when an agent joins a conversation: leave DTSTART out",
  TZID: "follows each conversation's time zone: leave TZID out",
  BYHOUR: 'has its time in `time` ("09:00"): leave BYHOUR out',
  BYMINUTE: 'has its time in `time` ("09:00"): leave BYMINUTE out',
  BYSECOND: 'has its time in `time` ("09:00"): leave BYSECOND out',
};
/** A fixed day to read rules from: a check must not depend on the day it runs. A Monday, in UTC. */
const READ_FROM = Date.UTC(2026, 0, 5);

export const routineToJson = (r: TemplateRoutine): RoutineJson => ({
  id: r.id,
  name: r.name,
  rrule: r.rrule,
  time: r.time,
  instruction: r.instruction,
});

export const routineFromJson = (j: RoutineJson): TemplateRoutine =>
  create(TemplateRoutineSchema, { id: j.id, name: j.name, rrule: j.rrule, time: j.time, instruction: j.instruction });

/** The hour and minute of a routine's `time`; undefined when it is not "HH:MM". */
export function routineClock(time: string): { hour: number; minute: number } | undefined {
  const m = TIME.exec(time);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}

/** The names of a rule's parts, upper-case ("FREQ", "BYDAY"). */
function partNames(rrule: string): string[] {
  return rrule
    .split(";")
    .map((p) => p.split("=")[0]?.trim().toUpperCase() ?? "")
    .filter(Boolean);
}

/** Why a routine's rule cannot be kept, or undefined when it can. */
export function ruleProblem(rrule: string, time: string): string | undefined {
  if (/^RRULE:/i.test(rrule.trim())) return 'must be the rule\'s value without "RRULE:" ("FREQ=WEEKLY;BYDAY=MO")';
  const parts = partNames(rrule);
  const refused = parts.find((p) => REFUSED_PARTS[p]);
  if (refused) return REFUSED_PARTS[refused];
  const options = ruleOptions(rrule);
  if (!options) return 'must be an RFC 5545 RRULE value such as "FREQ=WEEKLY;BYDAY=MO"';
  // Without its days named, a rule repeats on its start's: a template has no start.
  const has = (p: string) => parts.includes(p);
  if (options.freq === RRule.WEEKLY && !has("BYDAY")) return 'must name its days ("FREQ=WEEKLY;BYDAY=MO")';
  if (options.freq === RRule.MONTHLY && !has("BYMONTHDAY") && !has("BYDAY"))
    return 'must name its days ("FREQ=MONTHLY;BYMONTHDAY=1")';
  if (options.freq === RRule.YEARLY && (!has("BYMONTH") || (!has("BYMONTHDAY") && !has("BYDAY"))))
    return 'must name its month and day ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24")';
  const clock = routineClock(time) ?? { hour: 9, minute: 0 };
  const when = { startsAt: READ_FROM + (clock.hour * 60 + clock.minute) * 60_000, rrule, zone: "UTC" };
  const fewest = fewestMinutesBetween(when);
  if (fewest !== undefined && fewest < MIN_MINUTES_BETWEEN)
    return `comes every ${fewest} minutes; at most every ${MIN_MINUTES_BETWEEN} minutes`;
  if (nextOccurrences(when, when.startsAt - 1, 1).length === 0) return "has no occurrence";
  return undefined;
}

const oneLine = (s: string) => !/[\p{Cc}\u2028\u2029]/u.test(s);

/**
 * Every fault of a template's routines, each naming its field under `field`:
 * more than 5, an id not lower-case letters, digits and hyphens or used
 * twice, a name not one line of 1 to 80 characters, a rule unreadable, more
 * often than every 15 minutes, with parts a template may not set or with no
 * occurrence, a time not "HH:MM", an instruction empty or past 1,000
 * characters.
 */
export function routineViolations(field: string, routines: readonly RoutineJson[]): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  const v = (f: string, description: string) => out.push({ field: f, description });
  if (routines.length > ROUTINE_LIMITS.routines) v(field, `at most ${ROUTINE_LIMITS.routines} routines`);
  const ids = new Set<string>();
  routines.forEach((r, i) => {
    const f = `${field}[${i}]`;
    if (!ROUTINE_ID.test(r.id))
      v(`${f}.id`, `must be 1 to ${ROUTINE_LIMITS.id} lower-case letters, digits and hyphens`);
    else if (ids.has(r.id)) v(`${f}.id`, `duplicate routine id "${r.id}"`);
    ids.add(r.id);
    const name = [...r.name].length;
    if (r.name.trim() === "") v(`${f}.name`, "is required: what the store calls it");
    else if (!oneLine(r.name) || name > ROUTINE_LIMITS.name)
      v(`${f}.name`, `must be one line of at most ${ROUTINE_LIMITS.name} characters`);
    const rule = ruleProblem(r.rrule, r.time);
    if (rule) v(`${f}.rrule`, rule);
    if (!routineClock(r.time)) v(`${f}.time`, 'must be a local time "HH:MM" on a 24-hour clock, like "09:00"');
    const chars = [...r.instruction].length;
    if (r.instruction.trim() === "") v(`${f}.instruction`, "is required: what the agent does at each occurrence");
    else if (chars > ROUTINE_LIMITS.instruction)
      v(`${f}.instruction`, `${chars} characters, at most ${ROUTINE_LIMITS.instruction}`);
  });
  return out;
}

/** Throws every fault of `routines` at once (INVALID_ARGUMENT naming each field). */
export function checkRoutines(field: string, routines: readonly RoutineJson[]): void {
  refuseViolations(routineViolations(field, routines));
}

/** How far ahead of now a routine's first day starts: a time of today closer than this starts tomorrow. */
export const ROUTINE_LEAD_MS = 120_000;

/**
 * Where a routine's rule starts in a conversation's zone (its `starts_at`,
 * whose wall clock is every occurrence's): today at its time, or tomorrow
 * once today's is past or within ROUTINE_LEAD_MS, so a routine kept now never
 * fires at once for a time already gone. The rule's days follow from there.
 */
export function routineStart(time: string, zone: string, now: number): number | undefined {
  const clock = routineClock(time);
  if (!clock) return undefined;
  const today = wallClock(now, zone).with({ hour: clock.hour, minute: clock.minute, second: 0, millisecond: 0 });
  const at = instantOf(today, zone);
  return at >= now + ROUTINE_LEAD_MS ? at : instantOf(today.add({ days: 1 }), zone);
}

/** How often and when, for the store: "every Monday at 9:00". */
export function routineWhen(r: Pick<RoutineJson, "rrule" | "time">): string {
  const clock = routineClock(r.time);
  if (!clock || !ruleOptions(r.rrule)) return `${r.rrule} at ${r.time}`;
  const startsAt = READ_FROM + (clock.hour * 60 + clock.minute) * 60_000;
  return `${howOften({ startsAt, rrule: r.rrule, zone: "UTC" })} at ${clock.hour}:${String(clock.minute).padStart(2, "0")}`;
}

/** One line for the store: `Post the week's plan: every Monday at 9:00, in the conversation's time zone`. */
export function routineSummary(r: RoutineJson): string {
  return `${r.name}: ${routineWhen(r)}, in the conversation's time zone`;
}
