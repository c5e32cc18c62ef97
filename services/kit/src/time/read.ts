// A request's time, read from its words: when (chrono-node, in each language
// it reads) and how often (words.ts), in the conversation's zone from a given
// instant, never the machine's clock or zone. What it gives is what the
// agent shows back before it keeps anything, so a guess is said as one
// (`assumed`).

import * as chrono from "chrono-node";
import { Temporal } from "temporal-polyfill";
import { instantOf, nextOccurrences, wallClock, type When } from "./rule.js";
import { blank, type Recurrence, RFC_DAYS, readRecurrence } from "./words.js";

/** What a text says of its time, read. */
export interface ReadWhen {
  when: When;
  /** The text without its time and recurrence words: "remind us to book the table". */
  rest: string;
  /** What was taken for granted, in words, for the show-back ("6 read as 18:00", "at 9:00, no time was said"). */
  assumed: string[];
}

export interface ReadContext {
  /** The reference instant, epoch milliseconds (the message's time). */
  now: number;
  /** The conversation's IANA zone, known to be valid (`knownZone`). */
  zone: string;
}

// chrono's parsers: the casual English first (the default on a tie), then the languages the recurrence words read.
const PARSERS: [string, chrono.Chrono][] = [
  ["en", chrono.casual],
  ["en-GB", chrono.en.GB],
  ["es", chrono.es.casual],
  ["fr", chrono.fr.casual],
  ["de", chrono.de.casual],
];
// The other languages chrono reads, asked only when those find nothing: their short words are other
// languages' common ones (Swedish "to", Thursday, is English "to"), so a match of theirs must be longer.
const OTHER_PARSERS: [string, chrono.Chrono][] = [
  ["it", chrono.it.casual],
  ["pt", chrono.pt.casual],
  ["nl", chrono.nl.casual],
  ["sv", chrono.sv.casual],
  ["ru", chrono.ru.casual],
  ["uk", chrono.uk.casual],
  ["ja", chrono.ja.casual],
  ["zh", chrono.zh.casual],
];
// A week, a month or a year on its own ("post the week's plan") is a topic, not a time; and the present
// ("boarding now", "pay Ana right now", "ahora", "maintenant", "jetzt") asks for nothing later.
const NOT_A_TIME =
  /^(?:(?:the|this|next)\s+)?(?:week|month|year)$|^(?:right\s+)?now$|^(?:ahora(?:\s+mismo)?|maintenant|tout de suite|jetzt|sofort)$/iu;
/** The hour a routine keeps when no time was said. */
const DEFAULT_HOUR = 9;

interface Found {
  result: chrono.ParsedResult;
  language: string;
}

/** The best time in the text: one with an hour said, else the first that is a time at all; the language that read most of it. */
function findTime(text: string, now: number, zone: string): Found | undefined {
  const offsetMinutes = Temporal.Instant.fromEpochMilliseconds(now).toZonedDateTimeISO(zone).offsetNanoseconds / 6e10;
  const reference = { instant: new Date(now), timezone: offsetMinutes };
  const best = (parsers: [string, chrono.Chrono][], shortest: number) => {
    let found: Found | undefined;
    for (const [language, parser] of parsers) {
      const results = parser
        .parse(text, reference, { forwardDate: true })
        .filter((r) => !NOT_A_TIME.test(r.text.trim()) && r.text.trim().length >= shortest);
      const result = results.find((r) => r.start.isCertain("hour")) ?? results[0];
      if (result && (!found || result.text.length > found.result.text.length)) found = { result, language };
    }
    return found;
  };
  return best(PARSERS, 1) ?? best(OTHER_PARSERS, 5);
}

/** Whether chrono read a span from now ("in 2 hours"): its instant is exact, where a wall-clock time is not. */
const relative = (result: chrono.ParsedResult) => result.tags().has("result/relativeDateAndTime");

/** The wall-clock hour and minute said, with an English "at 6" read as the evening when no morning was said. */
function timeOfDay(found: Found, assumed: string[]): { hour: number; minute: number } | undefined {
  const start = found.result.start;
  if (!start.isCertain("hour")) return undefined;
  let hour = start.get("hour") ?? 0;
  const minute = start.get("minute") ?? 0;
  // "Friday at 6 to book the table": in English, 1 to 6 without am or pm is said of the afternoon far more
  // often than before dawn; the show-back says so. Other languages say hours on a 24-hour clock.
  // "04:40" with its leading zero is a 24-hour clock's, and means the morning.
  const twentyFourHour = /(^|\D)0\d[:.h]\d\d/.test(found.result.text);
  if (found.language.startsWith("en") && !start.isCertain("meridiem") && !twentyFourHour && hour >= 1 && hour <= 6) {
    hour += 12;
    assumed.push(`${hour - 12} read as ${hour}:${String(minute).padStart(2, "0")}`);
  }
  return { hour, minute };
}

function rruleOf(recurrence: Recurrence): string {
  const parts = [`FREQ=${recurrence.freq}`];
  if (recurrence.interval > 1) parts.push(`INTERVAL=${recurrence.interval}`);
  if (recurrence.byDay.length > 0) parts.push(`BYDAY=${recurrence.byDay.join(",")}`);
  if (recurrence.byMonthDay !== undefined) parts.push(`BYMONTHDAY=${recurrence.byMonthDay}`);
  return parts.join(";");
}

/** The text without the spans read, its spaces closed up. */
function restOf(text: string, spans: [number, number][]): string {
  return blank(text, spans)
    .replace(/\s+/g, " ")
    .replace(/\s+([,.!?])/g, "$1")
    .trim();
}

/**
 * What the text says of its time, in `zone` from `now`; undefined when it
 * names no time and no repetition ("remind me to call the hotel": the agent
 * asks when). A one-time item is its instant; a repeating one its rule, from
 * its first occurrence after `now`. A time in the past is read as said
 * (`whenProblem` refuses it, in words), never moved on silently.
 */
export function readWhen(text: string, context: ReadContext): ReadWhen | undefined {
  const { now, zone } = context;
  const recurrence = readRecurrence(text);
  const searched = recurrence ? blank(text, recurrence.spans) : text;
  const found = findTime(searched, now, zone);
  const assumed: string[] = [];
  const spans: [number, number][] = [...(recurrence?.spans ?? [])];
  if (found) spans.push([found.result.index, found.result.index + found.result.text.length]);

  if (!recurrence) {
    if (!found) return undefined;
    const start = found.result.start;
    if (relative(found.result))
      return { when: { startsAt: start.date().getTime(), rrule: "", zone }, rest: restOf(text, spans), assumed };
    const time = timeOfDay(found, assumed) ?? { hour: DEFAULT_HOUR, minute: 0 };
    if (!start.isCertain("hour")) assumed.push(`at ${DEFAULT_HOUR}:00, no time was said`);
    // A time of day alone ("at 6") is its next coming, today's or tomorrow's, after the evening reading above
    // (chrono's own forward look read 6:00, not 18:00); a day said is kept as said, even when past.
    const dateSaid = start.isCertain("day") || start.isCertain("weekday");
    // chrono knows or implies every part of a day it is certain of.
    const [year, month, dayOfMonth] = [start.get("year"), start.get("month"), start.get("day")];
    const day =
      dateSaid && year !== null && month !== null && dayOfMonth !== null
        ? Temporal.PlainDate.from({ year, month, day: dayOfMonth })
        : wallClock(now, zone).toPlainDate();
    let at = instantOf(day.toPlainDateTime(time), zone);
    if (at <= now && !dateSaid) at = instantOf(day.add({ days: 1 }).toPlainDateTime(time), zone);
    return { when: { startsAt: at, rrule: "", zone }, rest: restOf(text, spans), assumed };
  }

  const start = found?.result.start;
  const time = (found && timeOfDay(found, assumed)) ?? { hour: DEFAULT_HOUR, minute: 0 };
  if (!start?.isCertain("hour") && recurrence.freq !== "MINUTELY" && recurrence.freq !== "HOURLY") {
    assumed.push(`at ${DEFAULT_HOUR}:00, no time was said`);
  }
  // "every week at 9 on Friday": a day chrono read joins the rule; a weekly rule with no day keeps the first's.
  const saidDay = start?.isCertain("weekday") ? start.get("weekday") : undefined;
  if (recurrence.freq === "WEEKLY" && recurrence.byDay.length === 0 && saidDay !== undefined && saidDay !== null) {
    const rfcDay = RFC_DAYS[(saidDay + 6) % 7];
    if (rfcDay) recurrence.byDay.push(rfcDay);
  }
  const today = wallClock(now, zone).toPlainDate();
  // Minutes and hours run from now; the rest from today at the time said.
  const from =
    recurrence.freq === "MINUTELY" || recurrence.freq === "HOURLY"
      ? Math.ceil(now / 60_000) * 60_000
      : instantOf(today.toPlainDateTime(time), zone);
  const rrule = rruleOf(recurrence);
  // The first occurrence is the rule's first after now (a rule's DTSTART must be one of its occurrences).
  const first = nextOccurrences({ startsAt: from, rrule, zone }, now - 1, 1)[0] ?? from;
  return { when: { startsAt: first, rrule, zone }, rest: restOf(text, spans), assumed };
}
