// When something is due: its first instant, an RFC 5545 RRULE value (empty:
// once) and the IANA zone whose wall clock the rule follows, as the schedules
// contract carries them (`starts_at`, `rrule`, `time_zone`: docs/schedules.md).
//
// rrule does the calendar arithmetic only, on "floating" wall-clock times
// (dates whose UTC fields are the zone's wall clock, so no zone and no
// daylight-saving change is ever in its way); Temporal turns each wall-clock
// time into an instant in the zone. rrule's own zone handling (TZID) goes by
// the machine's zone and is not used: a weekly 9:00 stays 9:00 local across
// daylight-saving changes because the wall clock is what repeats.

import * as rrulePackage from "rrule";
import type { Options } from "rrule";
import { Temporal } from "temporal-polyfill";

// rrule ships CommonJS to Node, which hands its exports over as the default,
// and ES modules to Vite (the browser tests' set-up), which names them.
const { RRule } = (rrulePackage as unknown as { default?: typeof rrulePackage }).default ?? rrulePackage;

/** A reminder's or a routine's time: the first (or only) occurrence, its rule, its zone. */
export interface When {
  /** The first occurrence, epoch milliseconds; its wall-clock time in `zone` is every occurrence's (DTSTART;TZID). */
  startsAt: number;
  /** An RRULE value without its "RRULE:" prefix ("FREQ=WEEKLY;BYDAY=MO"); empty: once, at `startsAt`. */
  rrule: string;
  /** An IANA zone ("Europe/Paris"). */
  zone: string;
}

/** The fewest minutes between two occurrences a rule may ask for. */
export const MIN_MINUTES_BETWEEN = 15;
/** Occurrences looked at, at most, to find the next ones (a rule whose BY parts rarely match ends early). */
const MAX_SCAN = 2000;

/** The rule's parts, read by rrule; undefined for a value it cannot read. */
export function ruleOptions(rrule: string): Partial<Options> | undefined {
  const value = rrule.replace(/^RRULE:/i, "").trim();
  if (!/(^|;)FREQ=/i.test(value)) return undefined;
  try {
    const options = RRule.parseString(value);
    return options.freq === undefined ? undefined : options;
  } catch {
    return undefined;
  }
}

/** The zone's wall clock at an instant. */
export function wallClock(at: number, zone: string): Temporal.PlainDateTime {
  return Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(zone).toPlainDateTime();
}

/**
 * The instant a wall-clock time stands for in the zone. A time the clocks
 * skip (02:30 the night they go forward) is the same time after the jump
 * (03:30); a time they pass twice is the first (RFC 5545 and Temporal's
 * "compatible").
 */
export function instantOf(wall: Temporal.PlainDateTime, zone: string): number {
  return wall.toZonedDateTime(zone, { disambiguation: "compatible" }).epochMilliseconds;
}

/** A wall-clock time as rrule's floating date: its UTC fields are the wall clock. */
function floating(wall: Temporal.PlainDateTime): Date {
  return new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second));
}

function fromFloating(date: Date): Temporal.PlainDateTime {
  return new Temporal.PlainDateTime(
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
  );
}

/** The rule on floating wall-clock times from `dtstart` (no TZID: see the header). */
function floatingRule(options: Partial<Options>, dtstart: Date): InstanceType<typeof RRule> {
  return new RRule({ ...options, dtstart, tzid: null });
}

// A period's length in floating time (no daylight-saving change there), for the frequencies whose period is fixed.
const PERIOD_MS: Partial<Record<number, number>> = {
  [RRule.MINUTELY]: 60_000,
  [RRule.HOURLY]: 3_600_000,
  [RRule.DAILY]: 86_400_000,
  [RRule.WEEKLY]: 7 * 86_400_000,
};

/**
 * The first occurrence's wall clock moved on by whole periods to just before
 * `from`: rrule walks from its start, so a rule every 15 minutes asked about a
 * year on would walk 35,000 occurrences. A rule with COUNT keeps its start
 * (the count runs from it); months and years are few enough to walk.
 */
function startNear(options: Partial<Options>, start: Date, from: Date): Date {
  const unit = options.freq === undefined ? undefined : PERIOD_MS[options.freq];
  if (!unit || options.count || from <= start) return start;
  const period = unit * (options.interval ?? 1);
  return new Date(start.getTime() + Math.floor((from.getTime() - start.getTime()) / period) * period);
}

/**
 * The next `count` occurrences strictly after `after` (epoch milliseconds),
 * each an instant: the rule's wall-clock times, in the zone. A one-time item
 * has its one occurrence, or none once it is past.
 */
export function nextOccurrences(when: When, after: number, count: number): number[] {
  if (when.rrule.trim() === "") return when.startsAt > after ? [when.startsAt] : [];
  const options = ruleOptions(when.rrule);
  if (!options) return [];
  // A day early in wall-clock terms: an instant and its wall clock differ by the zone's offset,
  // and the night the clocks go back an hour's wall-clock times come twice.
  const from = floating(wallClock(after, when.zone).subtract({ days: 1 }));
  const start = floating(wallClock(when.startsAt, when.zone));
  const rule = floatingRule(options, startNear(options, start, from));
  // The rule's times are whole seconds: a start read from a clock (…:00.500) is its own first occurrence.
  const startSecond = Math.floor(when.startsAt / 1_000) * 1_000;
  const found: number[] = [];
  rule.all((date, i) => {
    if (date >= from) {
      const at = instantOf(fromFloating(date), when.zone);
      if (at > after && at >= startSecond && at !== found.at(-1)) found.push(at);
    }
    return found.length < count && i < MAX_SCAN;
  });
  return found.slice(0, count);
}

/**
 * The fewest minutes between two of the rule's first occurrences (wall
 * clock, from its start), or undefined for a rule with fewer than two.
 * Read from the occurrences themselves, so that a rule made of BY parts
 * ("FREQ=HOURLY;BYMINUTE=0,5,10") is held to the same limit as an interval.
 */
export function fewestMinutesBetween(when: When): number | undefined {
  const options = ruleOptions(when.rrule);
  if (!options) return undefined;
  // Seconds are not a unit anyone asks for; rrule would list them by the thousand.
  if (options.freq === RRule.SECONDLY) return 0;
  const rule = floatingRule(options, floating(wallClock(when.startsAt, when.zone)));
  const times = rule.all((_, i) => i < 200).map((d) => d.getTime());
  let fewest: number | undefined;
  for (const [i, time] of times.entries()) {
    const before = times[i - 1];
    if (before === undefined) continue;
    const minutes = (time - before) / 60_000;
    fewest = fewest === undefined ? minutes : Math.min(fewest, minutes);
  }
  return fewest;
}

export { RRule };
