// The offline planner: the acts a request names by a fixed grammar, for the
// offline provider (which cannot read intent) and for what tests and the
// benchmark replay as a faithful planner (docs/trust.md, "An act carries out
// a request"). What it plans is held to the request like any planner's
// (plan.ts bindPlan). Pure.

import { formatEther } from "viem";
import { findTargets, type TargetKind } from "../values.js";
import { ACT_TOOLS, MAX_ACTS_PER_REQUEST, type ActKind, type PlannedAct } from "./plan.js";
import { askedAmounts, askingWords, readRequest, type RequestText } from "./read.js";

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
