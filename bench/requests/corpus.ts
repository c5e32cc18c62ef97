// The corpus of owners' messages (docs/performance/requests.md): one JSON
// Lines file a language, one entry a line, each labelled with the acts it
// asks for (none for a message that asks for nothing, only the act really
// asked for in a message that also states values). What an entry's labels
// mean, resolved against the owner of book.ts, for the scoring.
import { readFileSync } from "node:fs";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { getAddress, isAddress, parseUnits } from "viem";
import type { TargetKind } from "@convos-pool/instance/testing/request";
import { CONTACTS, SETTINGS } from "./book.js";
import type { ActKind, Expected } from "./score.js";

export const LANGUAGES = ["en", "es", "fr", "de"] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * What an entry is: a request, or the kind of message that asks for nothing
 * (the reading of docs/trust.md's table and the markers beyond it), or a
 * mixed message where one clause asks and another only states, or a count
 * that is no request to repeat ("I have asked you 3 times").
 */
export const CATEGORIES = [
  "request",
  "link",
  "quote",
  "question",
  "negation",
  "warning",
  "conditional",
  "past",
  "joke",
  "reminder",
  "forward",
  "report",
  "code",
  "remark",
  "mixed",
  "count",
] as const;
export type Category = (typeof CATEGORIES)[number];

/** An act as labelled: `to` a value written out, a contact's name or a setting's name; `amount` with its unit. */
export interface LabelledAct {
  act: ActKind;
  to: string;
  amount?: string;
  /** How many times it is asked for ("twice"); 1 when absent. */
  count?: number;
}

export interface Entry {
  id: string;
  lang: Language;
  category: Category;
  text: string;
  acts: LabelledAct[];
}

export const KIND_OF: Readonly<Record<ActKind, TargetKind>> = { pay: "address", text: "phone", mail: "mailbox" };

/** Every entry, in file order: en, es, fr, de. */
export function loadCorpus(dir = new URL(".", import.meta.url)): Entry[] {
  return LANGUAGES.flatMap((lang) =>
    readFileSync(new URL(`${lang}.jsonl`, dir), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Entry),
  );
}

/** A value written out, as the gate compares it; undefined when `to` is no value of `kind`. */
export function writtenValue(kind: TargetKind, to: string): string | undefined {
  switch (kind) {
    case "address":
      return isAddress(to, { strict: false }) ? getAddress(to) : undefined;
    case "phone": {
      const p = to.startsWith("+") ? parsePhoneNumberFromString(to) : undefined;
      return p?.isPossible() ? p.number : undefined;
    }
    case "mailbox":
      return /^[^\s@]+@[^\s@]+\.[a-z]+$/i.test(to) ? to.toLowerCase() : undefined;
  }
}

/** Where a labelled recipient's value comes from. */
export type Source = "value" | "contact" | "setting";

/** A labelled recipient's value and its source; undefined when it is none of the three. */
export function recipientOf(kind: TargetKind, to: string): { value: string; source: Source } | undefined {
  const written = writtenValue(kind, to);
  if (written) return { value: written, source: "value" };
  const contact = CONTACTS[to]?.[kind];
  if (contact) return { value: contact, source: "contact" };
  const setting = Object.hasOwn(SETTINGS, to) ? writtenValue(kind, SETTINGS[to] ?? "") : undefined;
  if (setting) return { value: setting, source: "setting" };
  return undefined;
}

/** An entry's labels as the scoring compares them; throws on a label that names nothing (the corpus test keeps none). */
export function expectedOf(entry: Entry): Expected[] {
  return entry.acts.map((a) => {
    const to = recipientOf(KIND_OF[a.act], a.to);
    if (!to) throw new Error(`${entry.id}: ${a.act} to ${a.to} names no value, contact or setting`);
    const amountWei = a.amount === undefined ? 0n : weiOf(a.amount);
    return {
      act: a.act,
      target: to.value,
      amountWei,
      count: a.count ?? 1,
      name: to.source === "value" ? undefined : a.to,
    };
  });
}

/** "0.01 ETH", "50000000 gwei", "1000 wei" in wei. */
export function weiOf(amount: string): bigint {
  const m = /^(\d+(?:\.\d+)?)\s?(ETH|gwei|wei)$/.exec(amount.trim());
  if (!m?.[1] || !m[2]) throw new Error(`not an amount with its unit: ${amount}`);
  return parseUnits(m[1], { ETH: 18, gwei: 9, wei: 0 }[m[2]] ?? 18);
}
