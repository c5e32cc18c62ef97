// The offline planner: the acts a request names by a fixed grammar, for the
// offline provider (which cannot read intent) and for what tests and the
// benchmark replay as a faithful planner (docs/trust.md, "An act carries out
// a request"). What it plans is held to the request like any planner's
// (plan.ts bindPlan). Pure.
//
//   pay <to> [back] <amount>[, <to> <amount>]…   "pay Ana 0.01 and Bob 0.02 ETH"
//   send <amount> to <to>[ and <amount> to <to>]…
//   <amount> to <to>                              at the start of a sentence
//   text <to>[ and <to>]…, mail <to>[ and <to>]…
//   forward … to <to>, reply to <to>              a mail
//
// and the verbs' -ing forms after "would you mind". A recipient is a value
// written out, or a name of one to three words (a contact or a setting,
// which bindPlan looks up).

import { formatEther } from "viem";
import { findTargets, type TargetKind } from "../values.js";
import { ACT_TOOLS, MAX_ACTS_PER_REQUEST, type ActKind, type PlannedAct } from "./plan.js";
import { askedAmounts, askingWords, readRequest, type RequestText } from "./read.js";

const AMOUNT = String.raw`(?:\d+(?:\.\d+)?|\.\d+)(?:\s?(?:eth|ether|gwei|wei)\b)?`;
const AMOUNT_AHEAD = new RegExp(String.raw`^\s*(${AMOUNT})`, "i");
/** What follows a payee named before the amount: "pay Bob back 0.02 ETH". */
const THEN_AMOUNT = new RegExp(String.raw`^(?:\s+back)?\s+(${AMOUNT})`, "i");
/** What may follow a text's or a mail's recipient named: its words, or the end of the clause. */
const AFTER_NAME =
  /^(?:\s*(?:[:,.;!?]|$)|\s+(?:that|to|about|saying|and|with|if|when|the|a|we|i|our|my|it|this|please|now)\b)/i;
/** What may stand between a verb and a recipient's value: "to", brackets, quotes, emphasis, "mailto:". */
const BEFORE_VALUE = /^\s*(?:to\s+)?[<("'*`_[]*(?:mailto:)?$/i;
/** One more item of a list: ", Bob", " and Bob", ", and Bob". */
const AND = /\s*(?:,\s*(?:and\b)?|\band\b)(?=\s)/iy;
const VERBS: readonly [ActKind, RegExp][] = [
  ["pay", /\b(?:pay|tip|reimburse|refund|send|transfer|give|wire|paying|tipping|sending|transferring)\b/giu],
  ["text", /\b(?:text|sms|message|texting|messaging)\b/giu],
  ["mail", /\b(?:e-?mail|mail|e-?mailing|mailing)\b/giu],
];
/** A mail that is sent on: its recipient follows "to", further on in the clause. */
const MAIL_ON = /\b(?:forward|reply|answer)\b/giu;
/** A sentence that starts with its amount: "0.01 ETH to Ana please". */
const AMOUNT_FIRST = new RegExp(String.raw`(?:^|(?<=[.!?]\s+))(?=${AMOUNT}\s+to\b)`, "giu");

/**
 * The recipient right after `at` in `words`: a value of `kind`, or the
 * shortest name of one to three words that `follows` allows after it.
 */
function recipientAt(
  words: string,
  at: number,
  kind: TargetKind,
  follows: RegExp,
): { to: string; end: number } | undefined {
  const rest = words.slice(at);
  const value = findTargets(kind, rest).find((f) => BEFORE_VALUE.test(rest.slice(0, f.start)));
  if (value) return { to: value.value, end: at + value.end };
  for (let n = 1; n <= 3; n++) {
    const m = new RegExp(String.raw`^\s+((?:\S+\s+){${n - 1}}\S+?)(?=[:,.;!?]|\s|$)`, "u").exec(rest);
    if (!m?.[1] || !/^[\p{L}]/u.test(m[1])) return undefined;
    if (follows.test(words.slice(at + m[0].length))) return { to: recipient(m[1]), end: at + m[0].length };
  }
  return undefined;
}

/** Recipients of a list, from `at`: the first, then each after ", " or " and ". */
function recipientsFrom(words: string, at: number, kind: TargetKind): string[] {
  const out: string[] = [];
  for (let from = at; ; ) {
    const to = recipientAt(words, from, kind, AFTER_NAME);
    if (!to) return out;
    out.push(to.to);
    AND.lastIndex = to.end;
    const next = AND.exec(words);
    if (!next) return out;
    from = next.index + next[0].length;
  }
}

/** "<amount> to <to>" from `at`, and the list of them after it: "0.02 ETH to A and 0.03 ETH to B". */
function amountsTo(words: string, at: number, r: RequestText): PlannedAct[] {
  const out: PlannedAct[] = [];
  for (let from = at; ; ) {
    const amount = AMOUNT_AHEAD.exec(words.slice(from));
    const to = amount && /^\s+to\b/i.exec(words.slice(from + amount[0].length));
    if (!amount?.[1] || !to) return out;
    const who = recipientAt(words, from + amount[0].length + to[0].length, "address", AFTER_NAME);
    if (!who) return out;
    out.push(payment(who.to, amount[1], r));
    AND.lastIndex = who.end;
    const next = AND.exec(words);
    if (!next) return out;
    from = next.index + next[0].length;
  }
}

/** "<to> <amount>" from `at`, and the list of them after it: "Ana 0.01 and Bob 0.02 ETH". */
function payeesFrom(words: string, at: number, r: RequestText): PlannedAct[] {
  const out: PlannedAct[] = [];
  for (let from = at; ; ) {
    const to = recipientAt(words, from, "address", THEN_AMOUNT);
    const amount = to && THEN_AMOUNT.exec(words.slice(to.end));
    if (!to || !amount?.[1]) return out;
    out.push(payment(to.to, amount[1], r));
    AND.lastIndex = to.end + amount[0].length;
    const next = AND.exec(words);
    if (!next) return out;
    from = next.index + next[0].length;
  }
}

/**
 * The acts a request names by the grammar above, in the parts of the
 * request that ask, in the order they are written; a bare amount is written
 * with the unit its sentence gives it (askedAmounts).
 */
export function planByRule(request: RequestText): PlannedAct[] {
  const words = askingWords(request);
  const r = readRequest(words);
  const found: { at: number; acts: PlannedAct[] }[] = [];
  for (const [act, verbs] of VERBS)
    for (const v of words.matchAll(verbs)) {
      const after = v.index + v[0].length;
      if (act === "pay") {
        const sent = amountsTo(words, after, r);
        found.push({ at: v.index, acts: sent.length > 0 ? sent : payeesFrom(words, after, r) });
      } else
        found.push({
          at: v.index,
          acts: recipientsFrom(words, after, ACT_TOOLS[act].kind).map((to): PlannedAct => ({ act, to })),
        });
    }
  for (const a of words.matchAll(AMOUNT_FIRST)) found.push({ at: a.index, acts: amountsTo(words, a.index, r) });
  for (const v of words.matchAll(MAIL_ON)) {
    const clause = /^[^.!?;]*/.exec(words.slice(v.index))?.[0] ?? "";
    const to = /\bto\b/i.exec(clause);
    if (!to) continue;
    const acts = recipientsFrom(words, v.index + to.index + 2, "mailbox").map(
      (x): PlannedAct => ({ act: "mail", to: x }),
    );
    found.push({ at: v.index, acts });
  }
  // Each written once: two payments asked for are two acts, even to the same recipient.
  return found
    .sort((a, b) => a.at - b.at)
    .flatMap((f) => f.acts)
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
