// What the agent shows back of a time before it keeps it, in people's terms:
// "every Monday at 9:00 (Europe/Paris), next Monday 7 December", "Friday
// 4 December at 18:00 (Europe/Paris)". English, in the 24-hour clock and
// day-month order every reader of the zone's name can read. Pure.

import { nextOccurrences, RRule, ruleOptions, wallClock, type When } from "./rule.js";

const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const ordinal = (n: number) => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
};
const list = (words: string[]) =>
  words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
/** A time of day as the show-back says it, in the zone: "9:00", "18:30". */
export function clockWords(at: number, zone: string): string {
  const wall = wallClock(at, zone);
  return `${wall.hour}:${String(wall.minute).padStart(2, "0")}`;
}
const clock = clockWords;

/** A day as people say it from `now`: "today", "tomorrow", "Monday 7 December" (and the year when it is not this one). */
export function dayWords(at: number, now: number, zone: string): string {
  const day = wallClock(at, zone).toPlainDate();
  const today = wallClock(now, zone).toPlainDate();
  if (day.equals(today)) return "today";
  if (day.equals(today.add({ days: 1 }))) return "tomorrow";
  const year = day.year === today.year ? "" : ` ${day.year}`;
  return `${DAY_NAMES[day.dayOfWeek - 1]} ${day.day} ${MONTH_NAMES[day.month - 1]}${year}`;
}

/** How often a rule repeats, in words, without its time of day: "every Monday", "on the 1st of each month". */
export function howOften(when: When): string {
  const o = ruleOptions(when.rrule);
  if (!o) return "once";
  const n = o.interval ?? 1;
  const every = (unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);
  const start = wallClock(when.startsAt, when.zone);
  const weekdays = (Array.isArray(o.byweekday) ? o.byweekday : o.byweekday ? [o.byweekday] : []).map((d) =>
    typeof d === "number" ? d : typeof d === "string" ? 0 : d.weekday,
  );
  const monthDays = Array.isArray(o.bymonthday) ? o.bymonthday : o.bymonthday ? [o.bymonthday] : [];
  switch (o.freq) {
    case RRule.MINUTELY:
      return every("minute");
    case RRule.HOURLY:
      return every("hour");
    case RRule.DAILY:
      return every("day");
    case RRule.WEEKLY: {
      const days = weekdays.length > 0 ? [...weekdays].sort() : [start.dayOfWeek - 1];
      const names = days.join() === "0,1,2,3,4" ? ["weekday"] : days.map((d) => DAY_NAMES[d] ?? `day ${d}`);
      return n === 1 ? `every ${list(names)}` : `every ${n} weeks on ${list(names)}`;
    }
    case RRule.MONTHLY: {
      const days = monthDays.length > 0 ? monthDays : [start.day];
      const on = `on the ${list(days.map(ordinal))}`;
      return n === 1 ? `${on} of each month` : `${on} every ${n} months`;
    }
    case RRule.YEARLY:
      return `${every("year")} on ${start.day} ${MONTH_NAMES[start.month - 1]}`;
    default:
      return "on a rule of its own";
  }
}

/**
 * The show-back: when, how often and in which zone, and when next. A time
 * with nothing still to come says so rather than inventing one.
 */
export function describeWhen(when: When, now: number): string {
  if (when.rrule.trim() === "") {
    return `${dayWords(when.startsAt, now, when.zone)} at ${clock(when.startsAt, when.zone)} (${when.zone})`;
  }
  const often = howOften(when);
  const next = nextOccurrences(when, now, 1)[0];
  const byTheClock = !/minute|hour/.test(often);
  const head = byTheClock ? `${often} at ${clock(when.startsAt, when.zone)} (${when.zone})` : `${often} (${when.zone})`;
  if (next === undefined) return `${head}, with no time still to come`;
  const nextWords = byTheClock
    ? dayWords(next, now, when.zone)
    : `${dayWords(next, now, when.zone)} at ${clock(next, when.zone)}`;
  // "next Monday 7 December", but "next one tomorrow" (never "next tomorrow").
  return `${head}, next ${/^(today|tomorrow)/.test(nextWords) ? `one ${nextWords}` : nextWords}`;
}
