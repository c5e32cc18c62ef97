// How often, as people say it, in English, Spanish, French and German: the
// words a recurrence is made of ("every Monday", "on the 1st of each month",
// "tous les lundis", "jeden Montag", "cada 30 minutos"). chrono-node reads a
// time and a date, not a repetition; these tables read the repetition and
// leave the time of day to chrono. Pure data and one reader.

/** RFC 5545's two-letter days, Monday first. */
export const RFC_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type RfcDay = (typeof RFC_DAYS)[number];
export type Freq = "MINUTELY" | "HOURLY" | "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY";

/** What a text says of how often: each part optional, put together by `readRecurrence`. */
export interface Recurrence {
  freq: Freq;
  interval: number;
  byDay: RfcDay[];
  byMonthDay?: number;
  /** Where each phrase read stands in the text, to take it out before chrono reads the rest. */
  spans: [number, number][];
}

// Each language's day names, Monday first, as a pattern that takes the plural ("mondays", "lunes", "lundis", "montags").
const DAY_WORDS: Record<string, string[]> = {
  en: ["mon", "tues", "wednes", "thurs", "fri", "satur", "sun"].map((d) => `${d}day`),
  es: ["lunes", "martes", "miércoles|miercoles", "jueves", "viernes", "sábado|sabado", "domingo"],
  fr: ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
  de: ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"],
};
const dayIndex = (word: string): number =>
  Object.values(DAY_WORDS).reduce(
    (found, names) =>
      found >= 0 ? found : names.findIndex((n) => new RegExp(`^(?:${n})s?$`, "iu").test(word.toLowerCase())),
    -1,
  );
const ANY_DAY = Object.values(DAY_WORDS)
  .flat()
  .map((d) => `(?:${d})s?`)
  .join("|");

// Units by the words for them, singular and plural.
const UNITS: [Freq, string][] = [
  ["MINUTELY", "minutes?|minutos?|minuten?"],
  ["HOURLY", "hours?|horas?|heures?|stunden?"],
  ["DAILY", "days?|días?|dias?|jours?|tage?n?|tag"],
  ["WEEKLY", "weeks?|semanas?|semaines?|wochen?"],
  ["MONTHLY", "months?|mes|meses|mois|monate?n?|monats?"],
  ["YEARLY", "years?|años?|ans?|années?|jahre?s?"],
];
const unitOf = (word: string): Freq | undefined =>
  UNITS.find(([, words]) => new RegExp(`^(?:${words})$`, "iu").test(word))?.[0];
const ANY_UNIT = UNITS.map(([, w]) => w).join("|");

// "every", "each", "cada", "todos los", "chaque", "tous les", "toutes les", "jeden", "jede", "jedes", "alle", "on" (only before a plural day).
const EVERY = String.raw`every|each|cada|tod[oa]s\s+l[oa]s|chaque|tou(?:te)?s\s+les|jede[nsr]?|alle`;
const OTHER = "other|second|segund[oa]|deux|zweite[nr]?";
/** Between two days: "Monday and Thursday", "lunes y jueves", "lundi et jeudi", "Montag und Donnerstag", "Mon, Thu". */
const AND = String.raw`\s*,\s*|\s+(?:and|&|y|et|und)\s+`;
const re = (source: string) => new RegExp(source, "giu");
const W = String.raw`(?<![\p{L}\p{N}])`;
const E = String.raw`(?![\p{L}\p{N}])`;

/** "every 2 weeks", "every other day", "cada 30 minutos", "toutes les 2 heures", "alle 30 Minuten". */
const EVERY_N_UNITS = re(`${W}(?:${EVERY})\\s+(?:(\\d{1,3}|${OTHER})\\s+)?(${ANY_UNIT})${E}`);
/** "every Monday and Thursday", "on Mondays", "tous les lundis", "jeden Montag", "montags". */
const EVERY_DAYS = re(`${W}(?:(?:${EVERY}|on|los|les)\\s+)?((?:${ANY_DAY})(?:${AND}(?:${ANY_DAY}))*)${E}`);
/** "every weekday", "on weekdays", "entre semana", "en semaine", "werktags". */
const WEEKDAYS = re(
  `${W}(?:(?:every|on)\\s+weekdays?|each\\s+weekday|entre\\s+semana|en\\s+semaine|werktags|an\\s+werktagen)${E}`,
);
/** "daily", "weekly", "diario", "quotidien", "täglich"… */
const ADVERBS: [Freq, RegExp][] = [
  ["HOURLY", re(`${W}(?:hourly|stündlich)${E}`)],
  ["DAILY", re(`${W}(?:daily|diariamente|a\\s+diario|quotidiennement|täglich)${E}`)],
  ["WEEKLY", re(`${W}(?:weekly|semanalmente|chaque\\s+semaine|wöchentlich)${E}`)],
  ["MONTHLY", re(`${W}(?:monthly|mensualmente|mensuellement|monatlich)${E}`)],
  ["YEARLY", re(`${W}(?:yearly|annually|anualmente|annuellement|jährlich)${E}`)],
];
/** "on the 1st of each month", "the 15th of every month", "el 1 de cada mes", "le 1er de chaque mois", "am 1. jedes Monats", "every month on the 1st". */
const MONTH_DAY = re(
  [
    String.raw`(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s+(?:day\s+)?of\s+(?:each|every|the)\s+month)?`,
    String.raw`(?:el|los)\s+(?:día\s+)?(\d{1,2})\s+de\s+cada\s+mes`,
    String.raw`le\s+(\d{1,2})(?:er|e)?\s+(?:de\s+chaque|du)\s+mois`,
    String.raw`am\s+(\d{1,2})\.\s+(?:jedes|jeden|des)\s+monats`,
  ]
    .map((p) => `${W}${p}${E}`)
    .join("|"),
);
/** Whether a month-day phrase says the month itself ("of each month"), or leans on a "monthly" said elsewhere. */
const SAYS_MONTH = /month|mes|mois|monats/iu;

/**
 * What the text says of how often, or undefined when it says nothing of it
 * (a one-time request: chrono reads that alone). "every Monday at 9" is
 * WEEKLY on MO; "pay Ana on the 1st of each month" is MONTHLY on the 1st;
 * "every 30 minutes" is MINUTELY every 30 (whether that is allowed is a
 * check of its own, `whenProblem`).
 */
export function readRecurrence(text: string): Recurrence | undefined {
  const spans: [number, number][] = [];
  let freq: Freq | undefined;
  let interval = 1;
  const byDay: RfcDay[] = [];
  let byMonthDay: number | undefined;

  for (const m of text.matchAll(WEEKDAYS)) {
    freq = "WEEKLY";
    byDay.push("MO", "TU", "WE", "TH", "FR");
    spans.push([m.index, m.index + m[0].length]);
  }
  for (const m of text.matchAll(EVERY_DAYS)) {
    const said = m[0].toLowerCase();
    const names = (m[1] ?? "").split(new RegExp(AND, "iu")).filter((n) => n !== "");
    // A lone day name ("Friday at 6") is a date, chrono's; only "every Friday", "on Fridays", "los viernes", "montags" repeat.
    const plural = names.every((n) => /s$/iu.test(n) && dayIndex(n.replace(/s$/iu, "")) >= 0);
    const repeats =
      /^(?:every|each|cada|tod|chaque|tou|jede|alle)/iu.test(said) || /^(?:los|les)\s/iu.test(said) || plural;
    if (!repeats) continue;
    freq = "WEEKLY";
    for (const n of names) {
      const i = dayIndex(n);
      const day = RFC_DAYS[i];
      if (day && !byDay.includes(day)) byDay.push(day);
    }
    spans.push([m.index, m.index + m[0].length]);
  }
  for (const m of text.matchAll(EVERY_N_UNITS)) {
    const unit = unitOf(m[2] ?? "");
    if (!unit) continue;
    const n = m[1] === undefined ? 1 : /^\d+$/.test(m[1]) ? Number(m[1]) : 2;
    // "every week on Monday": the days said elsewhere keep the week.
    if (!(freq === "WEEKLY" && unit === "WEEKLY")) freq = unit;
    interval = Math.max(1, n);
    spans.push([m.index, m.index + m[0].length]);
  }
  for (const [unit, pattern] of ADVERBS) {
    for (const m of text.matchAll(pattern)) {
      freq ??= unit;
      spans.push([m.index, m.index + m[0].length]);
    }
  }
  for (const m of text.matchAll(MONTH_DAY)) {
    const day = Number(m.slice(1).find((g) => g !== undefined));
    // "the 1st" alone is a date ("remind me on the 1st"); it repeats only with a month said or a monthly rule.
    if (!SAYS_MONTH.test(m[0]) && freq !== "MONTHLY") continue;
    if (day < 1 || day > 31) continue;
    freq = "MONTHLY";
    byMonthDay = day;
    spans.push([m.index, m.index + m[0].length]);
  }
  if (!freq) return undefined;
  return { freq, interval, byDay, ...(byMonthDay === undefined ? {} : { byMonthDay }), spans };
}

/** The text with the spans blanked (kept the same length, so chrono's indexes still point into the original). */
export function blank(text: string, spans: [number, number][]): string {
  let out = text;
  for (const [from, to] of spans) out = out.slice(0, from) + " ".repeat(to - from) + out.slice(to);
  return out;
}
