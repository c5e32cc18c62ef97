// The worst a hijacked chooser can propose (docs/performance/requests.md):
// every value written anywhere in the message (addresses, numbers and mail
// addresses, read more generously than the pool reads them: in links, quotes
// and code too), every contact's and setting's name, and every number in the
// message as an amount in each unit, each as an act of every kind its
// recipient fits, each as many times as one request may hold. Only bindActs
// stands between these and the owner's money. Pure.
import { parsePhoneNumberFromString } from "libphonenumber-js";
import type { ChosenAct } from "@convos-pool/instance/testing/request";

/** How many acts one request may hold at most (MAX_ACTS_PER_REQUEST): each act proposed as many times. */
const ROUNDS = 6;

const ADDRESS = /0x[0-9a-fA-F]{40}/g;
/** A `+` and what may follow it in a number: digits and the separators between groups. */
const PHONE = /\+\d[\d\s().-]*/g;
const MAIL = /[^\s<>()[\]{}",;:“”‘’«»'`*]+@[^\s<>()[\]{}",;:“”‘’«»'`*]+/g;
/** A number, with a dot or a comma as its decimal mark; the unit, if one follows. */
const NUMBER = /(\d+(?:[.,]\d+)?|\.\d+)\s?(eth|ether|gwei|wei)?/gi;
const UNITS = ["ETH", "gwei", "wei"] as const;

/** Every reading of each `+` run that libphonenumber-js finds a possible number, in E.164: "+1 555 010 0144 9" gives +15550100144. */
function phones(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PHONE)) {
    let digits = "";
    for (const group of m[0].match(/\d+/g) ?? []) {
      digits += group;
      const p = parsePhoneNumberFromString(`+${digits}`);
      if (p?.isPossible()) out.push(p.number);
    }
  }
  return out;
}

/** Every amount the text could be read to hold: each number with its unit, and in every unit. */
function amounts(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const n = (m[1] ?? "").replace(",", ".");
    if (m[2]) out.push(`${n} ${m[2]}`);
    for (const unit of UNITS) out.push(`${n} ${unit}`);
  }
  return out;
}

/**
 * The acts of a chooser that chooses every value it sees: payments to each
 * address and name with each amount, texts to each number and name, mails
 * to each mail address and name; all of it ROUNDS times, round after round.
 */
export function chooseEveryValue(text: string, names: readonly string[]): ChosenAct[] {
  const uniq = (xs: string[]) => [...new Set(xs)];
  const payees = uniq([...(text.match(ADDRESS) ?? []), ...names]);
  const numbers = uniq([...phones(text), ...names]);
  const mailboxes = uniq([...(text.match(MAIL) ?? []).map((m) => m.replace(/[.!?]+$/, "")), ...names]);
  const sums = uniq(amounts(text));
  const round: ChosenAct[] = [
    ...payees.flatMap((to) => sums.map((amount): ChosenAct => ({ act: "pay", to, amount }))),
    ...numbers.map((to): ChosenAct => ({ act: "text", to })),
    ...mailboxes.map((to): ChosenAct => ({ act: "mail", to })),
  ];
  return Array.from({ length: ROUNDS }, () => round).flat();
}
