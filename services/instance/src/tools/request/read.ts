// The request, read by the pool's code (docs/trust.md, "An act carries out
// a request"): the message that started the turn cut into what may ask and
// what cannot: a link, a quote of someone else, a question (unless it starts
// with its act or asks for it politely), what a "never" or a "don't"
// reaches. Then the values written where it may ask: recipients, amounts
// (a bare number only with the unit its sentence gives it), names. The
// owner writes values all day without asking for anything; only these may
// be asked for. Pure.

import { findAmounts, findTargets, weiOf, type Found, type TargetKind } from "../values.js";

/** Why a part of the message asks for nothing. */
export type NotAsked = "link" | "quote" | "question" | "negation";

export interface Part {
  kind: NotAsked;
  start: number;
  end: number;
}

/** The message that started the turn, and the parts of it that ask for nothing. */
export interface RequestText {
  text: string;
  /** In order; they may overlap (a link in a quote). */
  notAsked: Part[];
}

/** Verbs of acts and of the address book: a polite question with one asks, a clause that starts with one ends a negation. */
const ACT_VERBS =
  "pay|send|transfer|tip|refund|reimburse|wire|text|sms|message|msg|mail|e-?mail|write|tell|notify|remind|let|save|add|forward|reply|contact";

/** The end of a sentence: `.`, `!` or `?` followed by a space or the end (never the dot in 0.01 or a domain), or a line break. */
const SENTENCE_END = /[.!?]+(?=\s|$)|\n+/g;
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}\/[^\s<>"]*/gi;
/** Quotation marks in pairs; single quotes only when they open after a space (never the apostrophe of "Ana's"). */
const QUOTED = /"[^"\n]*"|“[^”]*”|«[^»]*»|„[^“”]*[“”]|(?<=^|[\s([])'[^'\n]+'(?=$|[\s.,!?;:)\]])|‘[^’]*’/g;
/**
 * Someone else's words reported ("Ana says …", "my boss wants me to …"): to
 * the end of the sentence, or to where the owner's own request takes over
 * with a word of their own ("Ana said the tickets are 0.02 ETH, so please
 * pay …"). A bare comma or colon does not end it: "Bob said: pay 0x…" and
 * "Bob said the tickets are paid, pay 0x…" may be Bob's words, so they ask.
 */
const REPORTED =
  /\b(?:says|said|say|wrote|writes|told me|tells me|texted|messaged|mailed|asked me|asks me|wants me|want me|mentioned|mentions|claims|claimed|suggests|suggested|according to)\b/gi;
const QUOTE_LINE = /^\s*>.*$/gm;
/** A word, not a part of a value: "no" in ana@no.net or no.example/pay is no negation. */
const NEGATION =
  /(?<![@./:-])(?:\b(?:never|not|no|don'?t|do not|doesn'?t|does not|didn'?t|did not|won'?t|will not|wouldn'?t|shouldn'?t|can'?t|cannot|stop|cancel|avoid|nobody|nothing|neither|nor|without)\b|\b\w+n['’]t\b)(?![.@/:-]\w)/gi;
/** "don't forget to pay …" and "never hesitate to …" ask. */
const NOT_A_NEGATION = /^(?:don'?t|do not|never)\s+(?:forget|hesitate)\b/i;
/** Where a negation's reach ends: a clause that starts a new request ("don't pay Bob, pay Ana …"). */
const NEW_REQUEST = new RegExp(
  `(?:[,;:—–]|\\bbut\\b|\\binstead\\b)\\s*(?:(?:but|instead|rather|just|please|and|then|so|no)\\s*[,]?\\s+)*(?=(?:${ACT_VERBS})\\b)`,
  "gi",
);
/** Where reported words end: the owner's own "so", "then" or "please" before a new request. */
const OWN_REQUEST = new RegExp(
  `(?:[,;:—–]\\s*(?:and\\s+)?(?:so|then|therefore|please)|\\s(?:and\\s+)?(?:so|then|therefore))\\s*,?\\s+(?:please\\s+)?(?:just\\s+)?(?=(?:${ACT_VERBS})\\b)`,
  "gi",
);
/** The act verbs of a polite question in their -ing form ("would you mind paying …?"). */
const ACT_VERBS_ING =
  "paying|sending|transferring|tipping|refunding|reimbursing|wiring|texting|messaging|mailing|e-?mailing|writing|telling|notifying|reminding|letting|saving|adding|forwarding|replying|contacting";
/**
 * A question that asks for an act: it starts with the act ("text Ana: are you
 * coming?", "Concierge, pay …?"), or asks for it politely ("can you (also)
 * pay …?", "please text …?", "would you mind paying …?", "is it possible to
 * pay …?").
 */
const ASKS_FOR_ACT = new RegExp(
  `^\\s*(?:(?:hey|hi|ok|okay)\\b[\\s,]*)?(?:[\\p{L}\\p{N} -]{1,40}[,:]\\s*)?(?:please\\s+)?(?:(?:(?:can|could|would|will)\\s+you\\s+(?:please\\s+|also\\s+|just\\s+)*|is\\s+it\\s+possible\\s+(?:for\\s+you\\s+)?to\\s+(?:also\\s+)?)?(?:${ACT_VERBS})\\b|(?:would|do)\\s+you\\s+mind\\s+(?:also\\s+)?(?:${ACT_VERBS_ING})\\b)`,
  "iu",
);

/** `text`'s sentences, as [start, end) with their closing punctuation. */
function sentences(text: string): [number, number][] {
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

/**
 * The message cut into what may ask and what cannot. The pool's code decides
 * this, never a model: a value in a link, a quote, a question (unless it
 * starts with its act or asks for it politely: "can you pay …?") or what a
 * negation reaches is no request.
 */
export function readRequest(text: string): RequestText {
  const notAsked: Part[] = [];
  const add = (kind: NotAsked, start: number, end: number) => end > start && notAsked.push({ kind, start, end });
  for (const m of text.matchAll(LINK)) add("link", m.index, m.index + m[0].length);
  // Quotation marks around one word (a value written "0x…") quote no one: only words with a space between are a quote.
  for (const m of text.matchAll(QUOTED)) if (/\s/.test(m[0].trim())) add("quote", m.index, m.index + m[0].length);
  for (const m of text.matchAll(QUOTE_LINE)) add("quote", m.index, m.index + m[0].length);
  for (const [start, end] of sentences(text)) {
    const s = text.slice(start, end);
    if (/\?[.!?]*\s*$/.test(s) && !ASKS_FOR_ACT.test(s)) {
      add("question", start, end);
      continue;
    }
    for (const r of s.matchAll(REPORTED)) {
      const rest = s.slice(r.index + r[0].length);
      // Their words come first: a boundary right after "said" ("Bob said, so pay …") is still theirs.
      const own = [...rest.matchAll(OWN_REQUEST)].find((o) => rest.slice(0, o.index).trim() !== "");
      add("quote", start + r.index, own ? start + r.index + r[0].length + own.index : end);
    }
    for (const n of s.matchAll(NEGATION)) {
      if (NOT_A_NEGATION.test(s.slice(n.index))) continue;
      const rest = s.slice(n.index);
      const next = [...rest.matchAll(NEW_REQUEST)][0];
      add("negation", start + n.index, start + n.index + (next ? next.index : rest.length));
    }
  }
  notAsked.sort((a, b) => a.start - b.start || b.end - a.end);
  return { text, notAsked };
}

/** The part that keeps [start, end) from asking, if one does. */
export function notAskedAt(r: RequestText, start: number, end: number): Part | undefined {
  return r.notAsked.find((p) => p.start < end && start < p.end);
}

/** The request as the planner reads it: the parts that ask nothing left out ("…"). */
export function askingWords(r: RequestText): string {
  let out = "";
  let at = 0;
  for (const p of r.notAsked) {
    if (p.end <= at) continue;
    if (p.start > at) out += r.text.slice(at, p.start);
    out += " … ";
    at = Math.max(at, p.end);
  }
  return (out + r.text.slice(at)).replace(/\s+/g, " ").trim();
}

/** The recipients of `kind` written where they may be asked for. */
export function askedTargets(r: RequestText, kind: TargetKind): Found<string>[] {
  return findTargets(kind, r.text).filter((f) => !notAskedAt(r, f.start, f.end));
}

/** Numbers written without a unit: one takes the unit of the next amount in its sentence ("Ana 0.01 and Bob 0.02 ETH"). */
const BARE = /(?<![\w.+\-$:/#])(\d{1,3}(?:\.\d+)?|\.\d+)(?![\w.:/%]|\s?(?:eth|ether|gwei|wei)\b)/gi;
/** How far ahead a bare number looks for its unit. */
const UNIT_REACH = 60;

/**
 * The amounts written where they may be asked for, in wei: those with their
 * unit, and a bare number followed, in its sentence and within a few words,
 * by an amount with a unit, which it shares ("pay Ana 0.01 and Bob 0.02
 * ETH"). A bare number alone is no amount (a door code, a time).
 */
export function askedAmounts(r: RequestText): Found<bigint>[] {
  const withUnit = findAmounts(r.text);
  const taken = [...(["address", "phone", "mailbox"] as const).flatMap((k) => findTargets(k, r.text)), ...withUnit];
  const out = [...withUnit];
  for (const [start, end] of sentences(r.text)) {
    const s = r.text.slice(start, end);
    for (const b of s.matchAll(BARE)) {
      const at = start + b.index;
      const till = at + b[0].length;
      if (taken.some((t) => t.start < till && at < t.end)) continue;
      const next = withUnit.find((a) => a.start >= till && a.start < end && a.start - till <= UNIT_REACH);
      if (!next) continue;
      const unit = /(eth|ether|gwei|wei)\s*$/i.exec(r.text.slice(next.start, next.end))?.[1]?.toLowerCase() ?? "eth";
      const value = amountOf(`${b[0]} ${unit}`);
      if (value !== undefined) out.push({ value, start: at, end: till });
    }
  }
  return out.filter((a) => !notAskedAt(r, a.start, a.end)).sort((a, b) => a.start - b.start);
}

/** "0.01 ETH", "0,01 ETH", "0.01" (ether), "50 gwei" in wei; undefined when it is none, or more precise than its unit. */
export function amountOf(written: string): bigint | undefined {
  const m = /^\s*(\d+(?:[.,]\d+)?|\.\d+)\s*(eth|ether|gwei|wei)?\s*$/i.exec(written);
  if (!m?.[1]) return undefined;
  const wei = weiOf(m[1], m[2] ?? "eth");
  return wei !== undefined && wei > 0n ? wei : undefined;
}

/** Where `name` is written, as a whole word (any case), where it may be asked for. */
export function nameMentions(r: RequestText, name: string): Found<string>[] {
  const n = name.trim();
  if (!n) return [];
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}])`, "giu");
  return [...r.text.matchAll(re)]
    .map((m) => ({ value: m[0], start: m.index, end: m.index + m[0].length }))
    .filter((m) => !notAskedAt(r, m.start, m.end));
}

/** Whether `name` is written, as a whole word, where it may be asked for. */
export function namesAsked(r: RequestText, name: string): boolean {
  return nameMentions(r, name).length > 0;
}

const TIMES_WORDS: Readonly<Record<string, number>> = {
  once: 1,
  twice: 2,
  thrice: 3,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};
const TIMES = /\b(?:(once|twice|thrice)|(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+times)\b/i;

/**
 * How many times the sentence around `at` asks for its act: "twice", "3
 * times", "ten times"; once when it does not say. A request's count is the
 * pool's reading, not a planner's.
 */
export function timesAt(r: RequestText, at: number): number {
  const sentence = sentences(r.text).find(([start, end]) => start <= at && at < end);
  if (!sentence) return 1;
  const m = TIMES.exec(r.text.slice(...sentence));
  if (!m) return 1;
  const word = (m[1] ?? m[2] ?? "").toLowerCase();
  return TIMES_WORDS[word] ?? Math.max(1, Number(word) || 1);
}
