// The request, read by the pool's code (docs/trust.md, "An act carries out
// a request"): the message that started the turn cut into what may ask and
// what cannot (markers.ts: a link, a quote, code, a question, a negation, a
// conditional, the past, a forward, a reminder, a joke taken back, what to
// ignore), in English, Spanish, French and German. Then the values written
// where it may ask: recipients, amounts (a bare number only with the unit
// its sentence gives it), names. The owner writes values all day without
// asking for anything; only these may be asked for. Which recipient goes
// with which amount, and how many times, is clauses.ts. Pure.

import { findAmounts, findTargets, weiOf, type Found, type TargetKind } from "../trust/values.js";
import { ACT_WORDS, partsAskingNothing, sentences, type NotAsked, type Part } from "./markers.js";

export type { NotAsked, Part };

/** The message that started the turn, and the parts of it that ask for nothing. */
export interface RequestText {
  text: string;
  /** In order; they may overlap (a link in a quote). */
  notAsked: Part[];
}

/**
 * The message cut into what may ask and what cannot. The pool's code decides
 * this, never a model: a value in a link, a quote, code, a question (unless
 * it starts with its act or asks for it politely: "can you pay …?"), what a
 * negation reaches, a conditional, an account of the past, a forward, a
 * reminder, a joke taken back or what the owner says to ignore is no request.
 */
export function readRequest(text: string): RequestText {
  return { text, notAsked: partsAskingNothing(text) };
}

const NAMES_AN_ACT = new RegExp(ACT_WORDS, "iu");

/** Whether `words` name an act in any of the four languages ("pay", "paga", "envoie", "schick"): a request that names none, no value and no contact chooses nothing. */
export function namesAnAct(words: string): boolean {
  return NAMES_AN_ACT.test(words);
}

/** The part that keeps [start, end) from asking, if one does. */
export function notAskedAt(r: RequestText, start: number, end: number): Part | undefined {
  return r.notAsked.find((p) => p.start < end && start < p.end);
}

/** The request as the chooser reads it: the parts that ask nothing left out ("…"). */
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

/** Numbers written without a unit: one takes the unit of the next amount in its sentence ("Ana 0.01 and Bob 0.02 ETH", "0,01 y 0,02 ETH"). */
const BARE = /(?<![\w.,+\-$:/#])(\d{1,3}(?:[.,]\d+)?|\.\d+)(?![\w.:/%]|,\d|\s?(?:eth|ether|gwei|wei)\b)/gi;
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
      const value = weiOf(b[0], unit);
      if (value !== undefined && value > 0n) out.push({ value, start: at, end: till });
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
