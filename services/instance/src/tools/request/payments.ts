// The payments of a clause (clauses.ts): each amount with the recipient
// written beside it, how many times, a pronoun that points back to a payment
// written before, and a sentence of payments alone ("Ana 0.01 ETH please").
// Pure.

import { findTargets, type Found } from "../trust/values.js";
import { wholly, type Clause, type Item, type Span, type Written } from "./recipients.js";
import { anyWord, LETTER, PAY_VERBS, TO_ME_VERBS, TO_THEM_VERBS } from "./words.js";
import {
  AND,
  BEFORE_COUNT,
  COUNT_WORDS,
  COURTESY,
  DETERMINERS,
  EACH,
  GREETINGS,
  THING_OF,
  TIMES,
  TO,
} from "./words-recipients.js";

const re = (source: string, flags = "iu") => new RegExp(source, flags);
export const IS_TO_ME = re(`^${anyWord(TO_ME_VERBS)}$`);
export const IS_TO_THEM = re(`^${anyWord(TO_THEM_VERBS)}$`);
/** What joins one payment of a list to the next. */
const LIST_JOIN = re(`(?:[,;]|${anyWord(AND)})[\\s,]*`, "giu");
/** What leads from an amount to its recipient: "0.01 ETH to Ana". */
const TO_AFTER_AMOUNT = re(`^\\s+${anyWord(TO)}\\s+`);
const EACH_AFTER = re(`^\\s*${anyWord(EACH)}`);
/** Words before an amount that make it a thing's, not a recipient's: "the deposit of 0.4 ETH to …". */
const THING_BEFORE = re(`${anyWord(THING_OF)}\\s*$`);
/** A count right before an amount: "zahl Jonas zweimal 0,01 ETH", "pay Ana twice 0.01 ETH". */
const COUNT_BEFORE = re(
  `\\s(?:${anyWord(Object.keys(COUNT_WORDS))}(?:\\s*${anyWord(TIMES)})?|\\d{1,2}\\s*${anyWord(TIMES)})\\s*$`,
);
/** A count: "twice", "3 times", "dos veces", "deux fois", "zweimal", "2 mal". */
const COUNT = re(
  `^\\s*(?:${anyWord(BEFORE_COUNT)}\\s*)*(?:(${anyWord(Object.keys(COUNT_WORDS))})(?:\\s*${anyWord(TIMES)})?|(\\d{1,2})\\s*${anyWord(TIMES)})`,
);
/** Words a sentence of payments alone may hold beside them: "please", "thanks", "each", "and", a greeting. */
const ONLY_COURTESY = re(`^(?:[\\s,.;:!?¿¡—–-]|${anyWord(COURTESY, GREETINGS, AND, EACH)})*$`);
/** The words of a span, a value counting as one. */
const WORD = new RegExp(`[${LETTER}][${LETTER}'’.@+-]*|\\+[\\d ().-]+\\d`, "gu");
/** Past this many words between a verb (or the previous payment) and an amount, no recipient is written beside it. */
const MAX_WORDS_BEFORE_AMOUNT = 4;
/** A character of a part that asks for nothing, once the request is masked: a clause never crosses one. */
export const MASK = "\u0000";

/** Recipients and payments written so far: what a pronoun points back to. */
export interface Said {
  recipients: Span[];
  pairs: { to: Span; amount: Found<bigint> }[];
}

/** A verb in a clause: where, and the act it asks for. */
export interface Segment {
  start: number;
  end: number;
  verb: { start: number; end: number; word: string };
}

/** Whether the clause's verb comes last, as German puts it ("Ana 0,01 ETH überweisen, bitte"): its recipients come before it. */
function verbLast(text: string, seg: Segment): boolean {
  return seg.verb.start > seg.start && LAST.test(text.slice(seg.verb.end, seg.end));
}
const LAST = re(`^(?:[\\s,.;:!?]|${anyWord(COURTESY)}|${anyWord(["mal", "noch", "kurz"])})*$`);

/**
 * The payments of a clause: each amount with the recipient written right
 * before it ("pay Ana 0.01", "and Bob 0.02 ETH"), else right after it and a
 * "to" ("0.01 ETH to Ana"), else the one its verb points to ("págale 0,01
 * ETH"); without an amount, a pronoun points to the last payment written
 * ("I owe 0x… 0.02 ETH, please pay it"). Amounts before the verb are its
 * only when the verb comes last; otherwise they only tell what a pronoun
 * may point to.
 */
export function paymentsOf(text: string, seg: Segment, amounts: Found<bigint>[], said: Said): Item[] {
  const last = verbLast(text, seg) || seg.verb.word === "";
  const from = last ? seg.start : seg.verb.end;
  if (!last) stated(text, seg.start, seg.verb.start, amounts, said);
  const own = amounts.filter((a) => a.start >= from && a.end <= seg.end);
  const items: Item[] = [];
  let at = from;
  for (const [i, amount] of own.entries()) {
    const next = own[i + 1]?.start ?? seg.end;
    const found = payeeOf(text, at, amount, next, seg, said, i === 0);
    for (const to of found.to) {
      items.push({ ...to, amount, times: found.times ?? countAfter(text, found.end, next) });
      said.pairs.push({ to: to.ref ?? to.to, amount });
      said.recipients.push(to.ref ?? to.to);
    }
    at = found.end;
  }
  if (own.length > 0) return items;
  const back = pointsBack(text, seg.verb.end, seg.end, seg.verb.word) ? said.pairs.at(-1) : undefined;
  return back
    ? [{ to: back.to, ref: back.to, self: false, amount: back.amount, times: countAfter(text, seg.verb.end, seg.end) }]
    : [];
}

/**
 * Payments stated, not asked ("I owe 0x… 0.02 ETH", "Ana needs 0.02 ETH"),
 * for a pronoun to point back to ("please pay her"): the value right before
 * the amount, else the last name written with a capital before it in its
 * clause.
 */
function stated(text: string, from: number, to: number, amounts: Found<bigint>[], said: Said): void {
  for (const a of amounts.filter((x) => x.start >= from && x.end <= to)) {
    const clause = text.slice(from + lastJoin(text.slice(from, a.start)), a.start);
    const at = a.start - clause.length;
    const value = /(0x[0-9a-fA-F]{40}|\+[\d ().-]+\d)\s*$/u.exec(clause);
    const name = [...clause.matchAll(/\p{Lu}[\p{L}\p{M}'’-]*/gu)].at(-1);
    const m = value ?? name;
    if (!m) continue;
    const span = { start: at + m.index, end: at + m.index + m[0].trimEnd().length };
    said.pairs.push({ to: span, amount: a });
    said.recipients.push(span);
  }
}

/** The recipient(s) of `amount`, how many times, and where what belongs to it ends. */
function payeeOf(
  text: string,
  from: number,
  amount: Found<bigint>,
  next: number,
  seg: Segment,
  said: Said,
  first: boolean,
): { to: Written[]; end: number; times?: number | undefined } {
  // After the last "and" or comma since the payment before: "pay A 0.01 ETH for the tickets and B 0.02 ETH";
  // the first takes all its words ("pay Ana and Bob 0.01 ETH each").
  const start = first ? from : from + lastJoin(text.slice(from, amount.start));
  const each = EACH_AFTER.exec(text.slice(amount.end, next));
  const end = amount.end + (each?.[0].length ?? 0);
  const pronounOf = said.recipients.at(-1);
  // A count may stand between the recipient and its amount: "zahl Jonas zweimal 0,01 ETH".
  const count = COUNT_BEFORE.exec(text.slice(start, amount.start));
  const before = count ? start + count.index : amount.start;
  const times = count ? countAfter(text, before, amount.start) : undefined;
  if (fewWords(text, start, before) && !THING_BEFORE.test(text.slice(start, before))) {
    const written = wholly(text, start, before, pronounOf);
    // "pay Ana and Bob 0.01 ETH" is no payment of 0.01 to each, unless it says "each".
    if (written.length === 1 || (written.length > 1 && each)) return { to: written, end, times };
    if (written.length > 1) return { to: [], end };
  }
  const to = TO_AFTER_AMOUNT.exec(text.slice(amount.end, next));
  if (to) {
    const after = amount.end + to[0].length;
    const stop = stopAfter(text, after, next);
    const written = wholly(text, after, stop, pronounOf);
    if (written.length === 1) return { to: written, end: stop, times };
  }
  if (IS_TO_ME.test(seg.verb.word)) return { to: [{ to: seg.verb, self: true }], end, times };
  if (IS_TO_THEM.test(seg.verb.word) && pronounOf)
    return { to: [{ to: seg.verb, ref: pronounOf, self: false }], end, times };
  return { to: [], end };
}

/** Where the last "and" or comma of `words` ends; 0 when none. */
function lastJoin(words: string): number {
  const last = [...words.matchAll(LIST_JOIN)].at(-1);
  return last ? last.index + last[0].length : 0;
}

/** Whether words stand between `from` and `to`, few enough to be a recipient's, and nothing masked. */
function fewWords(text: string, from: number, to: number): boolean {
  const between = text.slice(from, to);
  const words = [...between.matchAll(WORD)].length;
  return words > 0 && words <= MAX_WORDS_BEFORE_AMOUNT && !between.includes(MASK);
}

/** Where a recipient written after "to" ends: at punctuation, a list's "and", a "for", or the next amount. */
function stopAfter(text: string, from: number, next: number): number {
  const rest = text.slice(from, next);
  const stop = STOP.exec(rest);
  return from + (stop ? stop.index : rest.length);
}
const STOP = re(
  `[,;:.!?()\\0]|\\s${anyWord(AND)}\\s|\\s${anyWord(["for", "para", "por", "pour", "für", "because", "porque", "car", "weil"])}|\\s${anyWord(PAY_VERBS)}|\\s(?:${anyWord(Object.keys(COUNT_WORDS))}|\\d{1,2}\\s*${anyWord(TIMES)})`,
);

/** Whether the words after a verb point back ("pay it", "págalo", "paie-le", "bezahl es"): a pronoun, or a verb that holds one. */
function pointsBack(text: string, from: number, to: number, verb: string): boolean {
  return IS_TO_THEM.test(verb) || POINTS_BACK.test(text.slice(from, to));
}
const POINTS_BACK = re(
  `^[\\s-]*(?:${anyWord(["please", "just", "por favor", "bitte"])}\\s*)*${anyWord(["it", "that", "them", "her", "him", "lo", "la", "le", "les", "lui", "es", "sie", "ihn", "ihr", "ihm", "das"])}`,
);

/** How many times: a count right after a recipient's payment ("twice", "3 times", "dos veces", "zweimal"); 1 when none. */
export function countAfter(text: string, from: number, to: number): number {
  const m = COUNT.exec(text.slice(from, to));
  if (!m) return 1;
  const word = (m[1] ?? m[2] ?? "").toLowerCase();
  return COUNT_WORDS[word] ?? Math.max(1, Number(word) || 1);
}

/**
 * A sentence of payments alone, without a verb: "Ana 0.01 ETH please",
 * "0.01 ETH to 0x… please", "Bob 0.02 ETH too", "my landlord 0.5 ETH".
 * Anything else in it ("My rent is 0.5 ETH") makes it no request, and so
 * does a recipient that is not plainly a name ("Bob owes me 0.5 ETH": a
 * name is a value, capitalized words, or a possessive and a word or two).
 */
export function paymentsAlone(
  text: string,
  start: number,
  end: number,
  amounts: Found<bigint>[],
  said: Said,
): Clause | undefined {
  const seg: Segment = { start, end, verb: { start, end: start, word: "" } };
  const items = paymentsOf(text, seg, amounts, { recipients: [...said.recipients], pairs: [...said.pairs] });
  if (items.length === 0 || !items.every((i) => plainName(text.slice(i.to.start, i.to.end)))) {
    stated(text, start, end, amounts, said);
    return undefined;
  }
  const chars = text.slice(start, end).split("");
  for (const s of items.flatMap((i) => [i.to, ...(i.amount ? [i.amount] : [])]))
    for (let i = s.start; i < s.end; i++) chars[i - start] = " ";
  if (!ONLY_COURTESY.test(chars.join("").replace(COUNT_OR_TO, " "))) {
    stated(text, start, end, amounts, said);
    return undefined;
  }
  for (const i of items) said.recipients.push(i.to);
  return { act: "pay", start, end, items };
}
/** A value, capitalized words ("Ana", "Mom", "Ana Lima"), or a possessive or an article and one or two words ("my landlord"). */
function plainName(words: string): boolean {
  if ((["address", "phone", "mailbox"] as const).some((k) => findTargets(k, words).length === 1)) return true;
  const all = words.trim().split(/\s+/u);
  return all.every((w) => /^\p{Lu}/u.test(w)) || (all.length <= 3 && POSSESSIVE.test(all[0] ?? ""));
}
const POSSESSIVE = re(`^${anyWord(DETERMINERS)}$`);
const COUNT_OR_TO = re(
  `${anyWord(Object.keys(COUNT_WORDS))}|\\d{1,2}\\s*${anyWord(TIMES)}|${anyWord(TIMES, TO)}`,
  "giu",
);
