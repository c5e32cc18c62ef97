// The values the trust gate compares (docs/trust.md, "Where a recipient came
// from"), read out of what people wrote: wallet addresses, phone numbers,
// mail addresses, and amounts of ether. Each is found with where it was
// written and normalized, so that two writings of one value are equal; a
// value is never read out of a longer one, and the digits of two words are
// never joined into one ("+1 415 555 0100 9am" is +14155550100):
//
//   address  `0x` and 40 hex digits in any case, checksummed (viem)
//   phone    `+`, a country code and the rest, in E.164, when libphonenumber-js
//            finds it a possible number of that country
//   mailbox  the whole address as delimited, lower-cased
//   amount   a number and its unit (ETH, ether, gwei, wei), in wei (viem)
//
// Not here: whom to trust (origins.ts), and whether a value exists: a number
// is read when it has a possible length for its country, not only when it is
// assigned (the tests' +1 555 01xx numbers are not), an address whether or not
// anyone holds its key. Pure.

import { parsePhoneNumberFromString } from "libphonenumber-js";
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

/** What ends a mail address as written: space, brackets, quotes, and the punctuation that cannot be in one. */
const MAIL_TOKEN = /[^\s<>()[\]{}",;:“”‘’«»]+/gu;
/** Punctuation around an address that is not part of it ('x@y.com', **x@y.com**, "mail x@y.com."). */
const MAIL_LEAD = /^['`*_~.!?]+/;
const MAIL_TRAIL = /['`*_~.!?]+$/;
/** The mail tool's own check (mail-tools.ts): what it would send to. */
const MAILBOX = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$|^[^\s@<>()",;:]+@[a-z0-9-]+\.localhost$/i;

/**
 * A number and its unit. Not after a letter, a digit, `_`, `.`, `+` or `-`
 * (a part of a longer number, an address, a version, a phone number), nor
 * after a digit and a comma: "1,5 ETH" is not 5 ETH, and "1,000 gwei" is not 0.
 */
const AMOUNT = /(?<![\p{L}\p{N}\p{M}_.+-]|\d,)(\d+(?:\.\d+)?|\.\d+)\s?(eth|ether|gwei|wei)(?![\p{L}\p{N}\p{M}_])/giu;
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

/** Every amount written with its unit in `text` ("0.05 ETH", "1 ether", "50 gwei", "1000 wei"), in wei, in order of appearance. */
export function findAmounts(text: string): Found<bigint>[] {
  const out: Found<bigint>[] = [];
  for (const m of text.matchAll(AMOUNT)) {
    const [written, number = "", unit = ""] = m;
    const decimals = DECIMALS[unit.toLowerCase()] ?? 18;
    // More decimals than the unit has is not an amount anyone can pay exactly: not read (parseUnits would round).
    if ((number.split(".")[1]?.length ?? 0) > decimals) continue;
    const value = parseUnits(number.startsWith(".") ? `0${number}` : number, decimals);
    out.push({ value, start: m.index, end: m.index + written.length });
  }
  return out;
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
 * the number before them). Of the readings that end after a group, the
 * longest that libphonenumber-js finds a possible number is the number:
 * "+1 415 555 0100 9 am" is +14155550100, since +1 never has 11 digits more.
 */
function findPhones(text: string): Found<string>[] {
  const out: Found<string>[] = [];
  for (const m of text.matchAll(PHONE_START)) {
    const readings: { digits: string; end: number }[] = [];
    let digits = "";
    let at = m.index + 1;
    for (;;) {
      PHONE_GROUP.lastIndex = at;
      const group = PHONE_GROUP.exec(text)?.[0];
      if (group === undefined) break;
      const end = at + group.length;
      GLUED.lastIndex = end;
      if (GLUED.test(text)) break;
      digits += group;
      readings.push({ digits, end });
      if (digits.length > PHONE_MAX_DIGITS) break;
      PHONE_SEPARATOR.lastIndex = end;
      const separator = PHONE_SEPARATOR.exec(text)?.[0] ?? "";
      if (separator === "") break;
      at = end + separator.length;
    }
    for (const r of readings.reverse()) {
      const value = possibleNumber(r.digits);
      if (value) {
        out.push({ value, start: m.index, end: r.end });
        break;
      }
    }
  }
  return out;
}

/** `+digits` in E.164 when it is a possible number of its country (libphonenumber-js), else undefined. */
function possibleNumber(digits: string): string | undefined {
  if (digits.length > PHONE_MAX_DIGITS) return undefined;
  const number = parsePhoneNumberFromString(`+${digits}`);
  return number?.isPossible() ? number.number : undefined;
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
