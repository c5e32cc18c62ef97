// The parts of a message that ask for nothing (docs/trust.md, "An act
// carries out a request"), each found by a rule of its own: a link, a quote
// of someone else, code, a question, what a negation reaches, a conditional,
// an account of the past, a forwarded message, a reminder or a plan for
// later, a joke taken back, what the owner says to ignore. The words of each
// rule are in English, Spanish, French and German (markers-words.ts). Pure.

import { findTargets } from "../trust/values.js";
import {
  ACT_WORDS,
  ASKS_POLITELY,
  ASKS_POLITELY_VERB_LAST,
  BODY_START,
  CLAUSE_EDGE,
  CODE,
  CONDITIONAL,
  COURTESY_CONDITIONAL,
  FORGET_NOT,
  FORWARD,
  INVERTED_CONDITIONAL,
  LINK,
  NEGATION,
  NEGATION_BEHIND,
  NEW_REQUEST,
  OWN_REQUEST,
  QUOTE_LINE,
  QUOTED,
  REPORTED,
  STARTS_WITH_ACT,
  THEN_NEW_REQUEST,
} from "./markers-words.js";
import {
  IGNORE,
  IGNORE_BACK,
  LATER_TIME,
  NOT_RETRACTED,
  ONLY_NO,
  PAST,
  PAST_TIME,
  REMINDER,
  RETRACTED,
} from "./markers-time.js";

/** Why a part of the message asks for nothing. */
export type NotAsked =
  | "link"
  | "quote"
  | "code"
  | "question"
  | "negation"
  | "conditional"
  | "past"
  | "forward"
  | "reminder"
  | "retracted"
  | "ignored";

export interface Part {
  kind: NotAsked;
  start: number;
  end: number;
}

/** The end of a sentence: `.`, `!` or `?` followed by a space or the end (never the dot in 0.01 or a domain), or a line break. */
const SENTENCE_END = /[.!?]+(?=\s|$)|\n+/g;

/** `text`'s sentences, as [start, end) with their closing punctuation. */
export function sentences(text: string): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index + m[0].length;
    if (text.slice(start, end).trim()) out.push([start, end]);
    start = end;
  }
  if (text.slice(start).trim()) out.push([start, text.length]);
  return out;
}

/** Every part of `text` that asks for nothing, in order of where it starts; they may overlap (a link in a quote). */
export function partsAskingNothing(written: string): Part[] {
  const parts: Part[] = [];
  const add = (kind: NotAsked, start: number, end: number) => end > start && parts.push({ kind, start, end });
  for (const m of written.matchAll(LINK)) add("link", m.index, m.index + m[0].length);
  for (const m of written.matchAll(CODE)) add("code", m.index, m.index + m[0].length);
  // Quotation marks around one word (a value written "0x…") quote no one: only words with a space between are a quote.
  for (const m of written.matchAll(QUOTED)) if (/\s/.test(m[0].trim())) add("quote", m.index, m.index + m[0].length);
  for (const m of written.matchAll(QUOTE_LINE)) add("quote", m.index, m.index + m[0].length);
  // The markers' words are words of the sentence, never a piece of a value ("ill" in a@ill.net is no "I'll").
  const text = blankValues(written);
  // A forward runs to the end: whatever follows its header is what was forwarded.
  for (const m of text.matchAll(FORWARD)) add("forward", m.index, text.length);
  for (const [start, end] of sentences(text)) {
    const s = text.slice(start, end);
    const at = (kind: NotAsked, from: number, to: number) => add(kind, start + from, start + to);
    if (isQuestion(s)) {
      at("question", 0, s.length);
      continue;
    }
    for (const p of reported(s)) at("quote", p.start, p.end);
    for (const p of negations(s)) at("negation", p.start, p.end);
    // What a text or a mail says ("text Mom that I'll be late") is its words: a marker there reaches from them to the end.
    const body = bodyStart(s);
    const marks = (re: RegExp, kind: NotAsked) => {
      const all = [...s.matchAll(re)];
      if (all.some((m) => m.index >= body)) at(kind, body, s.length);
      return all.filter((m) => m.index < body);
    };
    if (conditional(s, marks(CONDITIONAL, "conditional"))) at("conditional", 0, s.length);
    for (const p of reaching(s, marks(PAST, "past"))) at("past", p.start, p.end);
    for (const p of reaching(s, marks(REMINDER, "reminder"))) at("reminder", p.start, p.end);
    // A time tells of the sentence's verb wherever it stands ("pay 0x… 0.5 ETH tomorrow"): the whole sentence.
    if (marks(PAST_TIME, "past").length > 0) at("past", 0, s.length);
    if (marks(LATER_TIME, "reminder").length > 0) at("reminder", 0, s.length);
    // A sentence should conditions ("Should the invoice arrive, mail …") as "if" does, and so does "once" first.
    if (INVERTED_CONDITIONAL.test(s)) at("conditional", 0, s.length);
    // A joke taken back, or an "ignore", takes back what was said before it, in a text's words too ("text … that I quit, kidding").
    const all = (re: RegExp) => [...s.matchAll(re)];
    for (const p of ignored(s, all(IGNORE))) add("ignored", p.backToStart ? 0 : start + p.start, start + p.end);
    if (retracted(s, start, all(RETRACTED))) add("retracted", 0, end);
  }
  return parts.sort((a, b) => a.start - b.start || b.end - a.end);
}

/**
 * A sentence ending in `?`, unless it asks for an act: it starts with its
 * act ("text Ana: are you coming?", "Concierge, pay …?"), or asks for it
 * politely ("can you pay …?", "¿puedes pagar …?", "peux-tu payer …?",
 * "kannst du Ana 0,01 ETH überweisen?").
 */
function isQuestion(s: string): boolean {
  if (!/\?[.!?]*\s*$/.test(s)) return false;
  return !(STARTS_WITH_ACT.test(s) || ASKS_POLITELY.test(s) || ASKS_POLITELY_VERB_LAST.test(s));
}

/**
 * Someone else's words reported ("Ana says …", "Bob dice que …", "elle dit
 * que …", "er sagt …", "they wanted me to …"): to the end of the sentence,
 * or to where the owner's own request takes over with a word of their own
 * ("Ana said the tickets are 0.02 ETH, so please pay …"). A bare comma or
 * colon does not end it: "Bob said: pay 0x…" may be Bob's words.
 */
function reported(s: string): { start: number; end: number }[] {
  return [...s.matchAll(REPORTED)].map((r) => {
    const from = r.index + r[0].length;
    const rest = s.slice(from);
    // Their words come first: a boundary right after "said" ("Bob said, so pay …") is still theirs.
    const own = [...rest.matchAll(OWN_REQUEST)].find((o) => rest.slice(0, o.index).trim() !== "");
    return { start: r.index, end: own ? from + own.index : s.length };
  });
}

/**
 * What a "never", "don't", "no", "nunca", "ne … pas", "nicht" or "kein"
 * reaches: to the end of its sentence, or to a clause that starts a new
 * request ("don't pay Bob, pay Ana 0.01 ETH"). German puts its "nicht"
 * after the verb ("zahle Bob nicht"): there it reaches back to the start of
 * its clause. "Don't forget to pay …" asks.
 */
function negations(s: string): { start: number; end: number }[] {
  const forgetNot = [...s.matchAll(FORGET_NOT)].map((m) => [m.index, m.index + m[0].length] as const);
  const out: { start: number; end: number }[] = [];
  for (const n of s.matchAll(NEGATION)) {
    if (forgetNot.some(([a, b]) => a <= n.index && n.index < b)) continue;
    const rest = s.slice(n.index);
    const next = [...rest.matchAll(NEW_REQUEST)][0];
    const start = NEGATION_BEHIND.test(n[0]) ? clauseStart(s, n.index) : n.index;
    out.push({ start, end: n.index + (next ? next.index : rest.length) });
  }
  return out;
}

/** A sentence with an "if", "when", "unless", "si", "cuando", "quand", "wenn", "falls"…, other than "if you can" and its kind. */
function conditional(s: string, marks: readonly RegExpMatchArray[]): boolean {
  const courtesy = [...s.matchAll(COURTESY_CONDITIONAL)].map((m) => m.index);
  return marks.some((m) => !courtesy.includes(m.index ?? -1));
}

/**
 * What each marker reaches from the start of its clause ("I was going to
 * …", "remind me to …"), to the end of the sentence or to where the owner's
 * own request takes over ("I was going to pay Bob, so please pay Ana …").
 */
function reaching(s: string, marks: readonly RegExpMatchArray[]): { start: number; end: number }[] {
  return marks.map((m) => {
    const from = (m.index ?? 0) + m[0].length;
    const own = [...s.slice(from).matchAll(THEN_NEW_REQUEST)][0];
    return { start: clauseStart(s, m.index ?? 0), end: own ? from + own.index : s.length };
  });
}

/**
 * "Ignore …": its clause, to a new request; and when it points back ("ignore
 * this", "ignora lo anterior", "ignore ça"), everything before it too.
 */
function ignored(
  s: string,
  marks: readonly RegExpMatchArray[],
): { start: number; end: number; backToStart: boolean }[] {
  return reaching(s, marks).map((p, i) => ({ ...p, backToStart: IGNORE_BACK.test(s.slice(marks[i]?.index ?? 0)) }));
}

/** A joke or a line taken back ("just kidding", "no way", "es broma", "je plaisante", "nur ein Scherz"), or a sentence that is only a no, after something. */
function retracted(s: string, start: number, marks: readonly RegExpMatchArray[]): boolean {
  if (start > 0 && ONLY_NO.test(s)) return true;
  return marks.some((m) => !NOT_RETRACTED.test(s.slice(0, m.index)));
}

/** Where the words of a text or a mail start in `s` ("text Mom that …", "escribe a Ana que …", "schreib Mama, dass …"); its length when none. */
function bodyStart(s: string): number {
  const m = BODY_START.exec(s);
  return m ? m.index + m[0].length : s.length;
}

/** `text` with each address, number and mail address written in it blanked out, each character kept in place. */
function blankValues(text: string): string {
  const chars = text.split("");
  for (const kind of ["address", "phone", "mailbox"] as const)
    for (const f of findTargets(kind, text)) for (let i = f.start; i < f.end; i++) chars[i] = BLANK;
  return chars.join("");
}
/** A space no reader takes for anything but one. */
const BLANK = "\u2007";

/** Where the clause around `at` starts: after the last comma, semicolon, colon or dash, or "and", "but" …, before it. */
function clauseStart(s: string, at: number): number {
  let start = 0;
  for (const e of s.slice(0, at).matchAll(CLAUSE_EDGE)) start = e.index + e[0].length;
  return start;
}

export { ACT_WORDS };
