// Dates and counts as people say them: "28 Nov, 03:40", "in 3 hours",
// "1 answer". Intl only (no library), in the reader's locale and time zone;
// the options exist so that tests (and nothing else) can fix them.

/** Whose clock and words: the browser's unless a test says otherwise. */
export type Reader = { now?: Date; locale?: string; timeZone?: string };

const DAY_MS = 86_400_000;

/** "1 answer", "2 answers", "1,204 answers"; `nouns` for a plural that is not the noun and an s ("person", "people"). */
export function plural(n: number | bigint, noun: string, nouns = `${noun}s`, r: Reader = {}): string {
  const one = new Intl.PluralRules("en").select(Number(n)) === "one";
  return `${new Intl.NumberFormat(r.locale).format(n)} ${one ? noun : nouns}`;
}

/** The calendar day of `d` where the reader is, as a day number, so that two of them subtract. */
function dayNumber(d: Date, timeZone: string | undefined): number {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric", day: "numeric" })
    .formatToParts(d)
    .reduce<Record<string, number>>((acc, p) => {
      if (p.type !== "literal") acc[p.type] = Number(p.value);
      return acc;
    }, {});
  return Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1) / DAY_MS;
}

/**
 * A moment as people write it: "today, 10:02", "yesterday, 22:15",
 * "tomorrow, 03:40", "28 Nov, 03:40" within the year, "28 Nov 2025, 03:40"
 * otherwise (day and month in the reader's order and words).
 */
export function dateTime(d: Date, r: Reader = {}): string {
  if (Number.isNaN(d.getTime())) return "—";
  const now = r.now ?? new Date();
  const time = new Intl.DateTimeFormat(r.locale, { timeZone: r.timeZone, timeStyle: "short" }).format(d);
  const days = dayNumber(d, r.timeZone) - dayNumber(now, r.timeZone);
  if (Math.abs(days) <= 1) {
    const day = new Intl.RelativeTimeFormat(r.locale, { numeric: "auto" }).format(days, "day");
    return `${day}, ${time}`;
  }
  const sameYear = yearOf(d, r.timeZone) === yearOf(now, r.timeZone);
  const date = new Intl.DateTimeFormat(r.locale, {
    timeZone: r.timeZone,
    day: "numeric",
    month: "short",
    ...(sameYear ? {} : { year: "numeric" }),
  }).format(d);
  return `${date}, ${time}`;
}

const yearOf = (d: Date, timeZone: string | undefined) =>
  new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric" }).format(d);

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * DAY_MS],
  ["month", 30 * DAY_MS],
  ["day", DAY_MS],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** How far a moment is from now: "in 3 hours", "5 minutes ago", "yesterday", "now" within a minute. */
export function fromNow(d: Date, r: Reader = {}): string {
  if (Number.isNaN(d.getTime())) return "—";
  const ms = d.getTime() - (r.now ?? new Date()).getTime();
  const words = new Intl.RelativeTimeFormat(r.locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(ms) >= size) return words.format(Math.round(ms / size), unit);
  }
  return words.format(0, "second");
}

/** A moment given as ISO text (as some answers carry one) in the reader's words, as `dateTime`; "—" when it is none. */
export function moment(iso: string, r: Reader = {}): string {
  return iso ? dateTime(new Date(iso), r) : "—";
}

/** Both, for a moment people plan around: "28 Nov, 03:40 (in 3 hours)". */
export function dateTimeAndFromNow(d: Date, r: Reader = {}): string {
  return Number.isNaN(d.getTime()) ? "—" : `${dateTime(d, r)} (${fromNow(d, r)})`;
}
