// The offline chooser: the acts a request's clauses hold (clauses.ts), for
// the offline provider (which cannot read intent) and for what tests and the
// benchmarks replay as a faithful chooser (docs/trust.md, "An act carries
// out a request"). It chooses each recipient of each clause that asks, with
// the amount written beside it, as many times as the clause says:
//
//   pay <to> [back] <amount>[, <to> <amount>]…   "pay Ana 0.01 and Bob 0.02 ETH"
//   send <amount> to <to>[ and <amount> to <to>]…
//   <to> <amount> / <amount> to <to>             a sentence of payments alone
//   text <to>[ and <to>]…, mail <to>[ and <to>]…
//   send a text to <to>, forward … to <to>        a mail
//
// in English, Spanish, French and German ("paga a Lucía 0,01 ETH",
// "envoie un sms à Maman", "schick Greta eine SMS"). A recipient is a value
// written out, a name of one to three words (a contact or a setting, which
// bindActs looks up), the one a pronoun points back to ("text her"), or
// "me" (the owner's setting of that kind, which bindActs looks up). What it
// chooses is held to the request like any chooser's (binding.ts bindActs). Pure.

import { formatEther } from "viem";
import { findTargets } from "../trust/values.js";
import { readClauses, type Span } from "./clauses.js";
import { MAX_ACTS_PER_REQUEST, type ChosenAct } from "./binding.js";
import type { RequestText } from "./read.js";

/** The acts a request's clauses hold, in the order they are written. */
export function chooseByRule(request: RequestText): ChosenAct[] {
  const out: ChosenAct[] = [];
  for (const c of readClauses(request))
    for (const item of c.items) {
      const to = item.self ? "me" : nameOf(request.text, item.ref ?? item.to);
      const act: ChosenAct =
        c.act === "pay"
          ? { act: "pay", to, amount: `${formatEther(item.amount?.value ?? 0n)} ETH` }
          : { act: c.act, to };
      for (let n = 0; n < item.times; n++) out.push(act);
    }
  return out.slice(0, MAX_ACTS_PER_REQUEST);
}

/** A recipient as the chooser names it: the value written there, else the name ("Ana's" is Ana). */
function nameOf(text: string, span: Span): string {
  const words = text.slice(span.start, span.end);
  for (const kind of ["address", "phone", "mailbox"] as const) {
    const [value] = findTargets(kind, words);
    if (value) return value.value;
  }
  return words
    .trim()
    .replace(/['’]s$/u, "")
    .replace(/[.,;:!?]+$/u, "");
}
