// An act carries out a request (docs/trust.md, "An act carries out a
// request"). The owner writes values all day without asking for anything: a
// warning ("never pay 0x…"), a link, a quote of someone else, a question, last
// week's payment. So the gate does not trust a value because the owner once
// wrote it; it trusts an act because the message that started the turn asked
// for it, with its recipient and amount from that same request, once each.
//
//   readRequest   the message cut into what may ask and what cannot: a link,
//                 a quote of someone else, a question (a polite "can you pay
//                 …?" asks), what follows "never" or "don't"
//   bindPlan      the planner's acts (a model that read only the request, the
//                 owner's address book and the names of the owner's settings:
//                 agent/planning.ts) held to the request: each recipient
//                 written in it, a contact it names, or a setting; each
//                 amount written in it; the rest dropped
//   cover         a call against the plan: the act it carries out, used once,
//                 or why not
//   planByRule    the acts a request names by a fixed grammar: the offline
//                 provider's planner, and what tests replay
//
// Pure: no model, no clock, no I/O.

import { formatEther, parseUnits } from "viem";
import type { Risk } from "./trust.js";
import type { ToolId } from "./tool.js";
import { findAmounts, findTargets, type Found, type TargetKind } from "./values.js";

/** What an act does, as a request names it. */
export type ActKind = "pay" | "text" | "mail";

export const ACT_KINDS: readonly ActKind[] = ["pay", "text", "mail"];

/** The tool each act uses, and the kind of recipient it reaches. */
export const ACT_TOOLS: Readonly<Record<ActKind, { toolId: ToolId; kind: TargetKind }>> = {
  pay: { toolId: "crypto", kind: "address" },
  text: { toolId: "sms", kind: "phone" },
  mail: { toolId: "email", kind: "mailbox" },
};

/** The act a tool's calls carry out; undefined for a tool that reads only. */
export function actOfTool(toolId: string): ActKind | undefined {
  return ACT_KINDS.find((a) => ACT_TOOLS[a].toolId === toolId);
}

/** At most this many acts one request plans: a request that names more is a list the owner can send in parts. */
export const MAX_ACTS_PER_REQUEST = 6;

// ---- the request, read ----

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
/** Someone else's words reported ("Ana says …", "my boss wants me to …"): to the end of the sentence. */
const REPORTED =
  /\b(?:says|said|say|wrote|writes|told me|tells me|texted|messaged|mailed|asked me|asks me|wants me|want me|mentioned|mentions|claims|claimed|suggests|suggested|according to)\b/gi;
const QUOTE_LINE = /^\s*>.*$/gm;
const NEGATION =
  /\b(?:never|not|no|don'?t|do not|doesn'?t|does not|didn'?t|did not|won'?t|will not|wouldn'?t|shouldn'?t|can'?t|cannot|stop|cancel|avoid|nobody|nothing|neither|nor|without)\b|\b\w+n['’]t\b/gi;
/** "don't forget to pay …" and "never hesitate to …" ask. */
const NOT_A_NEGATION = /^(?:don'?t|do not|never)\s+(?:forget|hesitate)\b/i;
/** Where a negation's reach ends: a clause that starts a new request ("don't pay Bob, pay Ana …"). */
const NEW_REQUEST = new RegExp(
  `(?:[,;:—–]|\\bbut\\b|\\binstead\\b)\\s*(?:(?:but|instead|rather|just|please|and|then|so|no)\\s*[,]?\\s+)*(?=(?:${ACT_VERBS})\\b)`,
  "gi",
);
/**
 * A question that asks for an act: it starts with the act ("text Ana: are you
 * coming?", "Concierge, pay …?"), or asks for it politely ("can you pay …?",
 * "please text …?").
 */
const ASKS_FOR_ACT = new RegExp(
  `^\\s*(?:(?:hey|hi|ok|okay)\\b[\\s,]*)?(?:[\\p{L}\\p{N} -]{1,40}[,:]\\s*)?(?:please\\s+)?(?:(?:can|could|would|will)\\s+you\\s+(?:please\\s+)?)?(?:${ACT_VERBS})\\b`,
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
 * this, never a model: a value in a link, a quote, a question (but a polite
 * request: "can you pay … ?") or what a negation reaches is no request.
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
    for (const r of s.matchAll(REPORTED)) add("quote", start + r.index, end);
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

const UNIT_DECIMALS: Readonly<Record<string, number>> = { eth: 18, ether: 18, gwei: 9, wei: 0 };

/** "0.01 ETH", "0.01" (ether), "50 gwei" in wei; undefined when it is none, or more precise than its unit. */
export function amountOf(written: string): bigint | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(eth|ether|gwei|wei)?\s*$/i.exec(written);
  if (!m?.[1]) return undefined;
  const decimals = UNIT_DECIMALS[(m[2] ?? "eth").toLowerCase()] ?? 18;
  if ((m[1].split(".")[1]?.length ?? 0) > decimals) return undefined;
  const wei = parseUnits(m[1].startsWith(".") ? `0${m[1]}` : m[1], decimals);
  return wei > 0n ? wei : undefined;
}

/** Whether `name` is written, as a whole word, where it may be asked for. */
export function namesAsked(r: RequestText, name: string): boolean {
  const n = name.trim();
  if (!n) return false;
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}])`, "giu");
  return [...r.text.matchAll(re)].some((m) => !notAskedAt(r, m.index, m.index + m[0].length));
}

// ---- the plan ----

/** An act as the planner writes it: `to` a value, a contact's name or a setting's name; `amount` for a payment. */
export interface PlannedAct {
  act: ActKind;
  to: string;
  amount?: string | undefined;
}

/** The owner's address book, as the plan reads it. */
export interface Contacts {
  /** The contact named `name` (any case) with a value of `kind`. */
  lookup(name: string, kind: TargetKind): { name: string; value: string } | undefined;
}

/** What a planned act is held to. */
export interface RequestFacts {
  request: RequestText;
  /** The owner's address book (the owner's turns only). */
  contacts?: Contacts | undefined;
  /** The owner's settings (the claim's user config, signed with it; the owner's turns only). */
  settings?: Readonly<Record<string, string>> | undefined;
}

/** An act the request asks for: what it may do, once. */
export interface Act {
  act: ActKind;
  toolId: ToolId;
  /** Normalized: a checksummed address, an E.164 number, a lower-case mail address. */
  target: string;
  /** Wei; 0 for a text or a mail. */
  amountWei: bigint;
  /** The contact or setting it names the recipient by, if it does. */
  name?: string | undefined;
  /** Carried out already (a call used it). */
  done: boolean;
}

/** The acts a request asks for, and what the planner said that the request does not hold (for the log). */
export interface Plan {
  acts: Act[];
  dropped: string[];
  /** The request it was planned from (none: no request, as in an outsider's turn). */
  request?: RequestText | undefined;
}

export const NO_PLAN: Plan = { acts: [], dropped: [] };

/**
 * The planner's acts held to the request: a recipient the request wrote
 * where it may ask, a contact of the owner's address book it names there, or
 * one of the owner's settings; a payment's amount written where it may ask.
 * Anything else is dropped, with why. At most MAX_ACTS_PER_REQUEST.
 */
export function bindPlan(planned: readonly PlannedAct[], facts: RequestFacts): Plan {
  const acts: Act[] = [];
  const dropped: string[] = [];
  for (const p of planned) {
    if (acts.length >= MAX_ACTS_PER_REQUEST) {
      dropped.push(`${p.act}: more acts than one request may plan`);
      continue;
    }
    if (!ACT_KINDS.includes(p.act)) {
      dropped.push(`an act of an unknown kind`);
      continue;
    }
    const { toolId, kind } = ACT_TOOLS[p.act];
    const to = recipientOf(p.to, kind, facts);
    if (!to) {
      dropped.push(`${p.act}: its recipient is not in the request`);
      continue;
    }
    let amountWei = 0n;
    if (p.act === "pay") {
      const wei = p.amount === undefined ? undefined : amountOf(p.amount);
      if (wei === undefined || !askedAmounts(facts.request).some((a) => a.value === wei)) {
        dropped.push("pay: its amount is not in the request");
        continue;
      }
      amountWei = wei;
    }
    acts.push({ act: p.act, toolId, target: to.value, amountWei, name: to.name, done: false });
  }
  return { acts, dropped, request: facts.request };
}

/** A recipient as the planner named it, if the request holds it: written, a contact it names, or a setting. */
function recipientOf(
  to: string,
  kind: TargetKind,
  facts: RequestFacts,
): { value: string; name?: string | undefined } | undefined {
  const written = findTargets(kind, to.trim());
  if (written.length === 1 && written[0]?.start === 0) {
    const value = written[0].value;
    return askedTargets(facts.request, kind).some((f) => f.value === value) ? { value } : undefined;
  }
  // "my accountant" names the contact "my accountant", or "accountant".
  for (const name of new Set([to.trim(), to.trim().replace(/^(?:my|our|the)\s+/i, "")])) {
    const contact = facts.contacts?.lookup(name, kind);
    if (contact && namesAsked(facts.request, contact.name)) return { value: contact.value, name: contact.name };
  }
  const settings = facts.settings ?? {};
  if (Object.hasOwn(settings, to.trim())) {
    const value = findTargets(kind, settings[to.trim()] ?? "")[0]?.value;
    if (value) return { value, name: to.trim() };
  }
  return undefined;
}

/** What of a call the plan weighs. */
export interface CallFacts {
  toolId: string;
  risk: Risk;
  /** Normalized as the plan's targets are. */
  target: string;
  amountWei: bigint;
}

export type Coverage = { act: Act } | { act?: undefined; why?: string | undefined };

const VERBS: Readonly<Record<ActKind, string>> = { pay: "pay", text: "text", mail: "mail" };
const NOUNS: Readonly<Record<ActKind, string>> = { pay: "address", text: "number", mail: "mail address" };

/**
 * The act of `plan` that `call` carries out: the first not done with the
 * same tool, recipient and amount. None: why, when the plan tells (it was
 * done already; the request named another amount), else undefined.
 */
export function cover(plan: Plan, call: CallFacts): Coverage {
  const act = actOfTool(call.toolId);
  if (!act) return {};
  const same = plan.acts.filter((a) => a.toolId === call.toolId && a.target === call.target);
  const exact = same.filter((a) => a.amountWei === call.amountWei);
  const open = exact.find((a) => !a.done);
  if (open) return { act: open };
  if (exact.length > 0)
    return {
      why: `you asked me to ${VERBS[act]} this ${NOUNS[act]} ${exact.length === 1 ? "once" : `${exact.length} times`}, and I did`,
    };
  if (act === "pay" && same.length > 0)
    return {
      why: `you asked me to pay this address ${[...new Set(same.map((a) => `${formatEther(a.amountWei)} ETH`))].join(" or ")}, not ${formatEther(call.amountWei)} ETH`,
    };
  return {};
}

// ---- the offline planner ----

/** A name of one to three words: a contact ("Ana", "my accountant") or a setting ("personal-email"). */
const NAME = /^\s+((?:my\s+|our\s+)?[\p{L}][\p{L}\p{N}'’_-]*(?:\s[\p{L}][\p{L}\p{N}'’_-]*){0,2}?)/u;
const AMOUNT_AHEAD = /^\s+((?:\d+(?:\.\d+)?|\.\d+)(?:\s?(?:eth|ether|gwei|wei)\b)?)/i;
/** What may follow a text's or a mail's recipient named: its words, or the end of the clause. */
const AFTER_NAME =
  /^(?:\s*(?:[:,.;!?]|$)|\s+(?:that|to|about|saying|and|with|if|when|the|a|we|i|our|my|it|this|please|now)\b)/i;
/** What may stand between a verb and a recipient's value: "to", brackets, quotes, emphasis, "mailto:". */
const BEFORE_VALUE = /^\s*(?:to\s+)?[<("'*`_[]*(?:mailto:)?$/i;
const VERBS_OF: readonly [ActKind, RegExp][] = [
  ["pay", /\b(?:pay|tip|reimburse|refund|send|transfer|give|wire)\b/giu],
  ["text", /\b(?:text|sms|message)\b/giu],
  ["mail", /\b(?:e-?mail|mail)\b/giu],
];
/** A payment's list goes on: ", Bob 0.02 ETH", "and Bob 0.02 ETH". */
const LIST_ITEM = /\s*(?:,\s*(?:and\b)?|\band\b)(?=\s)/iuy;

/** The recipient right after `at` in `words`: a value of `kind` (its end), or a name; undefined when none. */
function recipientAt(
  words: string,
  at: number,
  kind: TargetKind,
  named: "any" | "clause",
): { to: string; end: number } | undefined {
  const rest = words.slice(at);
  const value = findTargets(kind, rest).find((f) => BEFORE_VALUE.test(rest.slice(0, f.start)));
  if (value) return { to: value.value, end: at + value.end };
  const name = NAME.exec(rest);
  if (!name?.[1]) return undefined;
  // A name is lazy: the shortest that the clause's next words allow.
  for (let words_ = 1; words_ <= 4; words_++) {
    const m = new RegExp(`^\\s+((?:\\S+\\s+){${words_ - 1}}\\S+?)(?=[:,.;!?]|\\s|$)`, "u").exec(rest);
    if (!m?.[1] || !/^[\p{L}]/u.test(m[1])) break;
    const end = at + m[0].length;
    const after = words.slice(end);
    if (named === "any" || AFTER_NAME.test(after)) return { to: recipient(m[1]), end };
    if (AMOUNT_AHEAD.test(after)) return { to: recipient(m[1]), end };
  }
  return undefined;
}

/**
 * The acts a request names by a fixed grammar (the offline provider's
 * planner, which cannot read intent; tests replay it): "pay <to> <amount>",
 * "send <amount> to <to>", a payment's list ("pay Ana 0.01 and Bob 0.02
 * ETH"), "text <to>", "mail <to>", in the parts of the request that ask. A
 * name stands for a contact or a setting (bindPlan looks it up); a bare
 * amount is written with the unit its sentence gives it (askedAmounts).
 */
export function planByRule(request: RequestText): PlannedAct[] {
  const words = askingWords(request);
  const r = readRequest(words);
  const found: { at: number; act: PlannedAct }[] = [];
  for (const [act, verbs] of VERBS_OF)
    for (const v of words.matchAll(verbs)) {
      const after = v.index + v[0].length;
      if (act !== "pay") {
        const to = recipientAt(words, after, ACT_TOOLS[act].kind, "clause");
        if (to) found.push({ at: v.index, act: { act, to: to.to } });
        continue;
      }
      // "send 0.05 ETH to <to>"
      const first = AMOUNT_AHEAD.exec(words.slice(after));
      const toAfter = first && /^\s+to\b/i.exec(words.slice(after + first[0].length));
      if (first?.[1] && toAfter) {
        const to = recipientAt(words, after + first[0].length + toAfter[0].length, "address", "any");
        if (to) found.push({ at: v.index, act: payment(to.to, first[1], r) });
        continue;
      }
      // "pay <to> <amount>", and the list that follows it in its sentence
      let at = after;
      for (;;) {
        const to = recipientAt(words, at, "address", "any");
        const amount = to && AMOUNT_AHEAD.exec(words.slice(to.end));
        if (!to || !amount?.[1]) break;
        found.push({ at, act: payment(to.to, amount[1], r) });
        at = to.end + amount[0].length;
        LIST_ITEM.lastIndex = at;
        const next = LIST_ITEM.exec(words);
        if (!next) break;
        at = next.index + next[0].length;
      }
    }
  // Each written once: two payments asked for are two acts, even to the same recipient.
  return found
    .sort((a, b) => a.at - b.at)
    .map((f) => f.act)
    .slice(0, MAX_ACTS_PER_REQUEST);
}

const recipient = (s: string) =>
  s
    .trim()
    .replace(/['’]s$/u, "")
    .replace(/[.,;:!?]+$/u, "");

/** A payment, its amount in ETH as the request's reading has it (a bare "0.01" takes its sentence's unit). */
function payment(to: string, amount: string, r: RequestText): PlannedAct {
  const written = amount.trim();
  const asked = askedAmounts(r).find((a) => r.text.slice(a.start, a.end).trim() === written);
  return { act: "pay", to, amount: asked ? `${formatEther(asked.value)} ETH` : written };
}

export type { Found, TargetKind };
