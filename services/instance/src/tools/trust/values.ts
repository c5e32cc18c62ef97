// The values the trust gate compares (docs/trust.md, "Where a recipient came
// from"), read out of what people wrote: wallet addresses, phone numbers,
// mail addresses, and amounts of ether. Each is found with where it was
// written and normalized, so that two writings of one value are equal; a
// value is never read out of a longer one, and the digits of two words are
// never joined into one ("+1 415 555 0100 9am" is +14155550100):
//
//   address  `0x` and 40 hex digits in any case, checksummed (viem)
//   phone    `+`, a country code and the rest, in E.164, as libphonenumber-js's
//            finder reads it: a possible number of that country, in any region
//   mailbox  the whole address as delimited, lower-cased
//   amount   a number and its unit (ETH, ether, gwei, wei), in wei (viem); a
//            decimal comma where it cannot be a thousands one ("0,01 ETH")
//
// Not here: whom to trust (gate/origins.ts), and whether a value exists: a number
// is read when it has a possible length for its country, not only when it is
// assigned (the tests' +1 555 01xx numbers are not), an address whether or not
// anyone holds its key. Pure.

import { findPhoneNumbersInText } from "libphonenumber-js";
import { getAddress, isAddress, parseUnits } from "viem";

/** What a recipient is, by the tool that reaches it. */
export type TargetKind = "address" | "phone" | "mailbox";

/** A value as read, and where: `text.slice(start, end)` is what was written. */
export interface Found<T> {
  value: T;
  start: number;
  end: number;
}

// A word, in the patterns below, is letters, digits and the marks on them, in any script: \p{L}\p{N}\p{M}.

const ADDRESS = /(?<![\p{L}\p{N}\p{M}])0x[0-9a-fA-F]{40}(?![\p{L}\p{N}\p{M}])/gu;

/** A `+` that starts a number: not inside a word, not after another `+`, a digit next. */
const PHONE_START = /(?<![\p{L}\p{N}\p{M}+])\+(?=\d)/gu;
/** One group of a number's digits, read whole. */
const PHONE_GROUP = /\d+/y;
/** A character that would glue a group of digits into a word ("9am", "2nd"). */
const GLUED = /[\p{L}\p{N}\p{M}]/uy;
/** Between two groups: a space, a dash or a dot, and parentheses around a group: "+1 (555) 018-8010", "+44 (0)20". */
const PHONE_SEPARATOR = /\)?[ .-]?\(?/y;
/** Past this many digits no reading of a number is possible (E.164 has 15, and a national prefix may be written). */
const PHONE_MAX_DIGITS = 20;
/** A last group this short after a space may be a word of its own: a count, an hour ("2 times", "9 am"). */
const SHORT_GROUP = 2;

/** What ends a mail address as written: space, brackets, quotes, and the punctuation that cannot be in one. */
const MAIL_TOKEN = /[^\s<>()[\]{}",;:“”‘’«»]+/gu;
/** Punctuation around an address that is not part of it ('x@y.com', **x@y.com**, "mail x@y.com."). */
const MAIL_LEAD = /^['`*_~.!?]+/;
const MAIL_TRAIL = /['`*_~.!?]+$/;
/** The mail tool's own check (functions/mail-tools.ts): what it would send to. */
const MAILBOX = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$|^[^\s@<>()",;:]+@[a-z0-9-]+\.localhost$/i;

/**
 * A number and its unit. Not after a letter, a digit, `_`, `.`, `+` or `-`
 * (a part of a longer number, an address, a version, a phone number), nor
 * after a digit and a comma or a dot: "1,5 ETH" is never 5 ETH, and "1,000
 * gwei" never 0. A comma may be the decimal mark ("0,01 ETH"; decimalOf).
 */
const AMOUNT =
  /(?<![\p{L}\p{N}\p{M}_.+-]|\d[,.])(\d+(?:[.,]\d+)?|\.\d+)\s?(eth|ether|gwei|wei)(?![\p{L}\p{N}\p{M}_])/giu;
const DECIMALS: Readonly<Record<string, number>> = { eth: 18, ether: 18, gwei: 9, wei: 0 };

/** Every value of `kind` written in `text`, normalized, in order of appearance; each read whole, never a part of a longer one. */
export function findTargets(kind: TargetKind, text: string): Found<string>[] {
  switch (kind) {
    case "address":
      return [...text.matchAll(ADDRESS)].map((m) => ({
        value: getAddress(m[0]),
        start: m.index,
        end: m.index + m[0].length,
      }));
    case "phone":
      return findPhones(text);
    case "mailbox":
      return findMailboxes(text);
  }
}

/** Every amount written with its unit in `text` ("0.05 ETH", "1 ether", "50 gwei", "1000 wei", "0,01 ETH"), in wei, in order of appearance. */
export function findAmounts(text: string): Found<bigint>[] {
  const out: Found<bigint>[] = [];
  for (const m of text.matchAll(AMOUNT)) {
    const [written, number = "", unit = ""] = m;
    const value = weiOf(number, unit);
    if (value !== undefined) out.push({ value, start: m.index, end: m.index + written.length });
  }
  return out;
}

/**
 * A number as written ("0.05", ".5", "0,01") in `unit`, in wei; undefined
 * when it is no amount anyone can pay exactly (more decimals than the unit
 * has: parseUnits would round), or when its comma may be a thousands one.
 */
export function weiOf(number: string, unit: string): bigint | undefined {
  const decimal = decimalOf(number);
  if (decimal === undefined) return undefined;
  const decimals = DECIMALS[unit.toLowerCase()] ?? 18;
  if ((decimal.split(".")[1]?.length ?? 0) > decimals) return undefined;
  return parseUnits(decimal.startsWith(".") ? `0${decimal}` : decimal, decimals);
}

/**
 * The number with a dot for its decimal mark. A dot is always one (as the
 * wallet writes amounts). A comma is one as Spanish, French and German
 * owners write it ("0,01 ETH", "1,5 ETH"), except where it may separate
 * thousands as English writes them: three digits after it, and a whole part
 * that is not 0 ("1,000 gwei", "2,500 ETH" are not read; the act asks).
 */
function decimalOf(number: string): string | undefined {
  const [whole = "", fraction] = number.split(",");
  if (fraction === undefined) return number;
  return fraction.length === 3 && !/^0+$/.test(whole) ? undefined : `${whole}.${fraction}`;
}

/** `value` as the gate compares it: a checksummed address, an E.164 number, a lower-case mail address; undefined when it is none. */
export function normalizeTarget(kind: TargetKind, value: string): string | undefined {
  const v = value.trim();
  switch (kind) {
    case "address":
      return isAddress(v, { strict: false }) ? getAddress(v) : undefined;
    case "phone": {
      // The whole of it one number, as the reader reads one in a message: "+1 415 555 0100 9" is none.
      const [found, ...more] = findPhones(v);
      return found && more.length === 0 && found.start === 0 && found.end === v.length ? found.value : undefined;
    }
    case "mailbox":
      return MAILBOX.test(v) && v.split("@").length === 2 ? v.toLowerCase() : undefined;
  }
}

/** Every value of `kind` written in `text`, normalized. */
export function valuesIn(kind: TargetKind, text: string): Set<string> {
  return new Set(findTargets(kind, text).map((f) => f.value));
}

/** Every amount written with its unit in `text`, in wei. */
export function amountsIn(text: string): Set<bigint> {
  return new Set(findAmounts(text).map((f) => f.value));
}

/**
 * Whether every recipient and amount written in `text` is written in
 * `source` too: what a model learned from a message may carry no address,
 * number, mail address or amount the message did not (memory/lessons.ts), or
 * a hijacked model could write its own into what the owner taught.
 */
export function valuesWithin(text: string, source: string): boolean {
  const kinds: TargetKind[] = ["address", "phone", "mailbox"];
  const within = <T>(mine: Set<T>, theirs: Set<T>) => [...mine].every((v) => theirs.has(v));
  return (
    kinds.every((k) => within(valuesIn(k, text), valuesIn(k, source))) && within(amountsIn(text), amountsIn(source))
  );
}

/**
 * Numbers: after a `+`, groups of digits with a separator between them, each
 * group whole (digits glued to a letter, "9am", belong to that word and end
 * the number before them; a comma or a sentence's end ends it). Each reading
 * that ends after a group is given to libphonenumber-js's finder, which
 * must find one number in it, whole: in any region, brackets that match,
 * a possible length for its country. The finder alone, given the message,
 * takes the longest run of digits and reads nothing when that is no number
 * ("+1 415 555 0100 9 am"), and joins a short group after a number whose
 * country's lengths vary ("+49 30 1234567 2 times"): so the pool gives it
 * each reading, and takes the longest it reads, unless that one ends in a
 * short group after a space and the reading before that group is a number
 * too. Then the number may be either, and none is read (the act asks).
 */
function findPhones(text: string): Found<string>[] {
  const out: Found<string>[] = [];
  for (const m of text.matchAll(PHONE_START)) {
    const readings = phoneReadings(text, m.index).map((r) => ({ ...r, value: numberIn(text.slice(m.index, r.end)) }));
    const read = readings.filter((r) => r.value !== undefined);
    const longest = read.at(-1);
    if (!longest?.value) continue;
    const before = readings[readings.indexOf(longest) - 1];
    if (longest.shortAfterSpace && before?.value !== undefined) continue;
    out.push({ value: longest.value, start: m.index, end: longest.end });
  }
  return out;
}

/** Where the readings of a number that starts at `start` (its `+`) end: after each of its groups. */
function phoneReadings(text: string, start: number): { end: number; shortAfterSpace: boolean }[] {
  const readings: { end: number; shortAfterSpace: boolean }[] = [];
  let digits = 0;
  let separator = "";
  let at = start + 1;
  for (;;) {
    PHONE_GROUP.lastIndex = at;
    const group = PHONE_GROUP.exec(text)?.[0];
    if (group === undefined) break;
    const end = at + group.length;
    GLUED.lastIndex = end;
    if (GLUED.test(text)) break;
    digits += group.length;
    if (digits > PHONE_MAX_DIGITS) break;
    readings.push({ end, shortAfterSpace: /\s/.test(separator) && group.length <= SHORT_GROUP });
    PHONE_SEPARATOR.lastIndex = end;
    separator = PHONE_SEPARATOR.exec(text)?.[0] ?? "";
    if (separator === "") break;
    at = end + separator.length;
  }
  return readings;
}

/**
 * The number libphonenumber-js's finder reads in `written`, in E.164, when it
 * reads one and all of it. Leniency POSSIBLE (a possible length, not an
 * assigned range): VALID reads none of the fictional +1 555 01xx numbers the
 * tests and the docs use, nor a range newer than the library's metadata; a
 * number read is only ever compared exactly, so possible is enough.
 */
function numberIn(written: string): string | undefined {
  // `extended`: leniency POSSIBLE (its default is VALID).
  const [found, ...more] = findPhoneNumbersInText(written, { extended: true });
  return found && more.length === 0 && found.startsAt === 0 && found.endsAt === written.length
    ? found.number.number
    : undefined;
}

/** Mail addresses: each token between delimiters that holds an `@`, without the punctuation around it. */
function findMailboxes(text: string): Found<string>[] {
  const out: Found<string>[] = [];
  for (const m of text.matchAll(MAIL_TOKEN)) {
    const token = m[0];
    if (!token.includes("@")) continue;
    const lead = MAIL_LEAD.exec(token)?.[0].length ?? 0;
    const rest = token.slice(lead);
    const inner = rest.replace(MAIL_TRAIL, "");
    const value = normalizeTarget("mailbox", inner);
    if (value !== undefined) out.push({ value, start: m.index + lead, end: m.index + lead + inner.length });
  }
  return out;
}
