// The recipients a clause writes (clauses.ts): a value written out, a name
// of one to three words (a contact or a setting, which bindActs looks up),
// the owner ("me", "mir", "moi"), or a pronoun that points back to the last
// recipient named ("her", "lui", "ihm"). Lists of them: "Ana and Mom",
// "Lucía y Javier". Pure.

import { findTargets, type Found } from "../trust/values.js";
import { ACT_VERBS, anyWord, LETTER, MAIL_NOUNS, NOUN_ARTICLES, nounPhrase, TEXT_NOUNS } from "./words.js";
import {
  AND,
  AROUND_NAMES,
  BODY,
  COUNT_WORDS,
  COURTESY,
  DETERMINERS,
  GREETINGS,
  ME,
  PRONOUNS,
  TIMES,
  TO,
} from "./words-recipients.js";

/** What an act does, as a request names it. */
export type ActKind = "pay" | "text" | "mail";

/** A recipient of a clause, with what the clause asks for it. */
export interface Item {
  /** The recipient as written. */
  to: Span;
  /** The recipient it points back to, for a pronoun ("text her", "pay it", "escríbele"). */
  ref?: Span | undefined;
  /** The owner ("mail me", "mándame", "envoie-moi", "schick mir"). */
  self: boolean;
  /** A payment's amount, written beside its recipient. */
  amount?: Found<bigint> | undefined;
  /** How many times the clause asks for it ("twice", "3 times"). */
  times: number;
}

export interface Clause {
  act: ActKind;
  start: number;
  end: number;
  items: Item[];
}

/** Where something is written in the request's text: [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** A recipient as written: itself, or the one it points back to, or the owner. */
export interface Written {
  to: Span;
  ref?: Span | undefined;
  self: boolean;
}

const re = (source: string, flags = "iu") => new RegExp(source, flags);
/** How a text or a mail goes: "by text", "per SMS", "par sms", "por correo". */
const CHANNEL = ["by", "via", "per", "par", "por"];
const NOUN = nounPhrase(TEXT_NOUNS, MAIL_NOUNS);
/** The thing sent, with its article: "a text", "eine SMS", "un correo". */
const NOUN_WITH_ARTICLE = `${anyWord(NOUN_ARTICLES)}\\s+${anyWord(TEXT_NOUNS, MAIL_NOUNS)}`;
/** Articles and possessives, which may start a name ("the landlord", "my accountant"). */
const ARTICLES = new Set([
  ...Object.values(DETERMINERS).flat(),
  ...Object.values(NOUN_ARTICLES).flat(),
  "a",
  "an",
  "this",
  "our",
  "my",
  "un",
  "una",
  "une",
  "des",
  "eine?",
  "einen",
]);
/** A word no name ends with: "to", "my", "the", "please", "and", a count. */
const NOT_LAST = re(
  `^(?:${anyWord(AROUND_NAMES, DETERMINERS, BODY, AND, TO, TIMES, COURTESY, GREETINGS, Object.keys(COUNT_WORDS))})$`,
);
/** A word no name starts with: a verb of an act, a word that starts a text's words ("with", "mit", "que"), not an article. */
const NOT_FIRST = re(
  `^(?:${anyWord(
    ...ACT_VERBS,
    Object.values(BODY)
      .flat()
      .filter((w) => !ARTICLES.has(w)),
  )})$`,
);
const IS_ME = re(`^${anyWord(ME)}$`);
const IS_PRONOUN = re(`^${anyWord(PRONOUNS)}$`);
/** The words around a name, at either end: "to", "my", "the", "back", "a", "à", "an", "bitte". */
const AROUND_START = re(`^(?:[\\s:,(–—-]|${anyWord(AROUND_NAMES, GREETINGS, COURTESY, AND)})+`);
const AROUND_END = re(`(?:[\\s:,)–—-]|${anyWord(AROUND_NAMES, COURTESY, CHANNEL)})+$`);
/** What may stand between where recipients start and a value: "to", brackets, quotes, emphasis, "mailto:". */
const BEFORE_VALUE = re(`^[\\s-]*(?:${anyWord(TO)}\\s+)?[<("'*\`_[]*(?:mailto:)?$`);
/** One more recipient of a list: ", Bob", " and Bob", " y Javier", ", et Julien". */
const LIST = re(`^\\s*(?:,\\s*(?:${anyWord(AND)})?|${anyWord(AND)})\\s+`);
/** What may follow a recipient's name: its text's words, a list's next, the thing sent, the end of the clause. */
const AFTER_NAME = re(
  `^(?:\\s*(?:[:,.;!?()"“«\\0]|$)|\\s+(?:${anyWord(BODY, AND, TO, TIMES, COURTESY, Object.keys(COUNT_WORDS))}|${NOUN_WITH_ARTICLE}))`,
);
/** The thing sent alone is no name: "un SMS", "a text". */
const THING_SENT = re(`^${NOUN}$`);
/** A thing sent, then "to": "send a text to", "forward the confirmation to", "envoie un sms à", "schick eine SMS an". */
const OBJECT_TO = re(
  `^[\\s-]*(?:(?:${anyWord(NOUN_ARTICLES, ["this", "these", "that", "my", "our", "mi", "mis", "mon", "ma", "mes", "meine", "meinen"])})\\s+(?:[${LETTER}'’-]+\\s+){0,3}?|${anyWord(["it", "them", "this", "that", "lo", "la", "le", "les", "es", "das"])}\\s+)${anyWord(TO)}(?=\\s)`,
);

export interface Reading {
  /** Recipients of a list, joined by "and" or a comma ("text Ana and Mom"). */
  list?: boolean;
  /** Past a thing sent and its "to" ("send a text to …"). */
  objectTo?: boolean;
}

/**
 * The recipients written from `from` on, before `to`. With `list`, those at
 * the start, each followed by what may follow a name; otherwise all of the
 * words between, which must be one recipient (or a list of them), nothing
 * else. `last` is the recipient a pronoun points back to.
 */
export function recipientsAt(
  text: string,
  from: number,
  to: number,
  last: Span | undefined,
  how: Reading = {},
): Written[] {
  let at = from;
  if (how.objectTo) at += OBJECT_TO.exec(text.slice(at, to))?.[0].length ?? 0;
  if (!how.list) return wholly(text, at, to, last);
  const out: Written[] = [];
  for (;;) {
    const one = recipientFrom(text, at, to, last);
    if (!one) return out;
    out.push(one.written);
    const next = LIST.exec(text.slice(one.end, to));
    if (!next) return out;
    at = one.end + next[0].length;
  }
}

/** The words between `from` and `to`, the words around names left out, as one recipient or a list. */
export function wholly(text: string, from: number, to: number, last: Span | undefined): Written[] {
  const trimmed = trimAround(text, from, to);
  if (!trimmed) return [];
  const parts = splitList(text, trimmed.start, trimmed.end);
  const out: Written[] = [];
  for (const p of parts) {
    const one = oneRecipient(text, p, last);
    if (!one) return [];
    out.push(one);
  }
  return out;
}

/** The words before a verb that comes last ("Mama eine SMS schicken"; the verb may be the noun, "Mama eine SMS"): the thing sent and the words around names left out. */
export function beforeVerb(text: string, from: number, to: number, last: Span | undefined): Written[] {
  const slice = text.slice(from, to);
  const noun = re(`\\s*(?:${NOUN}|${anyWord(NOUN_ARTICLES)})\\s*$`).exec(slice);
  const end = noun ? from + noun.index : to;
  return wholly(text, from, end, last);
}

/** The span without the words around names at its ends; none when nothing is left. */
function trimAround(text: string, from: number, to: number): Span | undefined {
  const slice = text.slice(from, to);
  const lead = AROUND_START.exec(slice)?.[0].length ?? 0;
  const rest = slice.slice(lead);
  const trail = AROUND_END.exec(rest)?.[0].length ?? 0;
  const start = from + lead;
  const end = to - trail;
  return end > start ? { start, end } : undefined;
}

/** A span cut at each "and" or comma of a list. */
function splitList(text: string, from: number, to: number): Span[] {
  const out: Span[] = [];
  let at = from;
  for (const m of text
    .slice(from, to)
    .matchAll(re(`\\s*(?:,\\s*(?:${anyWord(AND)})?|\\s${anyWord(AND)})\\s*`, "giu"))) {
    const cut = from + m.index;
    if (cut > at) out.push({ start: at, end: cut });
    at = cut + m[0].length;
  }
  if (to > at) out.push({ start: at, end: to });
  return out.map((s) => trimAround(text, s.start, s.end)).filter((s): s is Span => s !== undefined);
}

/** One recipient that is the whole of `span`: a value, the owner, a pronoun, or a name of one to three words. */
function oneRecipient(text: string, span: Span, last: Span | undefined): Written | undefined {
  const words = text.slice(span.start, span.end);
  for (const kind of ["address", "phone", "mailbox"] as const) {
    const [value, ...more] = findTargets(kind, words);
    if (value && more.length === 0 && BEFORE_VALUE.test(words.slice(0, value.start)) && isTail(words.slice(value.end)))
      return { to: { start: span.start + value.start, end: span.start + value.end }, self: false };
  }
  if (IS_ME.test(words)) return { to: span, self: true };
  if (IS_PRONOUN.test(words)) return last ? { to: span, ref: last, self: false } : undefined;
  return isName(words) ? { to: span, self: false } : undefined;
}

/** What may close a value: brackets, quotes, emphasis. */
const isTail = (s: string) => /^[>)"'*`_\]]*$/.test(s.trim());

/** One to three words, starting with a letter, that start with no verb and end with no word around names; no value among them. */
function isName(words: string): boolean {
  const w = words.trim();
  if (!/^[\p{L}\p{M}][\p{L}\p{N}\p{M}'’. -]*$/u.test(w)) return false;
  if ((["address", "phone", "mailbox"] as const).some((k) => findTargets(k, w).length > 0)) return false;
  if (THING_SENT.test(w)) return false;
  const all = w.split(/\s+/);
  return all.length <= 3 && !NOT_FIRST.test(all[0] ?? "") && !NOT_LAST.test(all.at(-1) ?? "");
}

/** The recipient that starts at `from` (a value, or the shortest name that what follows allows), and where it ends. */
function recipientFrom(
  text: string,
  from: number,
  to: number,
  last: Span | undefined,
): { written: Written; end: number } | undefined {
  const rest = text.slice(from, to);
  for (const kind of ["address", "phone", "mailbox"] as const) {
    const value = findTargets(kind, rest).find((f) => BEFORE_VALUE.test(rest.slice(0, f.start)));
    if (value) {
      const end = from + value.end + (/^[>)"'*`_\]]*/.exec(rest.slice(value.end))?.[0].length ?? 0);
      return { written: { to: { start: from + value.start, end: from + value.end }, self: false }, end };
    }
  }
  const lead = re(`^[\\s-]*(?:${anyWord(TO)}\\s+)?`).exec(rest)?.[0].length ?? 0;
  for (let n = 1; n <= 3; n++) {
    const m = re(`^((?:\\S+\\s+){${n - 1}}\\S+?)(?=[:,.;!?()\\0]|\\s|$)`).exec(rest.slice(lead));
    if (!m?.[1] || !/^\p{L}/u.test(m[1])) return undefined;
    const end = from + lead + m[0].length;
    if (!AFTER_NAME.test(text.slice(end, to))) continue;
    const span = { start: from + lead, end };
    const one = oneRecipient(text, span, last);
    if (one) return { written: one, end };
  }
  return undefined;
}
