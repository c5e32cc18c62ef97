// The bound acts: what a request asks for (docs/trust.md, "An act carries out
// a request"). The act chooser (a model that read only the request and the
// names of the owner's contacts and settings: agent/conversation/choosing.ts)
// proposes acts; `bindActs` holds each to one clause of the request
// (clauses.ts): its recipient written there (a value, a contact it names, a
// setting it names or "me"), a payment's amount written beside that
// recipient, as many times as that clause asks; `cover` matches a call to an
// act not done yet, once. Pure.

import { formatEther } from "viem";
import type { Risk } from "../trust/levels.js";
import type { ToolId } from "../functions/tool.js";
import { findTargets, type TargetKind } from "../trust/values.js";
import { readClauses, type ActKind, type Item } from "./clauses.js";
import { amountOf, type RequestText } from "./read.js";
import { anyWord } from "./words.js";
import { AROUND_NAMES, DETERMINERS, ME } from "./words-recipients.js";

export type { ActKind };

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

/** At most this many acts one request binds: a request that names more is a list the owner can send in parts. */
export const MAX_ACTS_PER_REQUEST = 6;

/** An act as the chooser writes it: `to` a value, a contact's name or a setting's name; `amount` for a payment. */
export interface ChosenAct {
  act: ActKind;
  to: string;
  amount?: string | undefined;
}

/** The owner's address book, as the binding reads it. */
export interface Contacts {
  /** The contact named `name` (any case) with a value of `kind`. */
  lookup(name: string, kind: TargetKind): { name: string; value: string } | undefined;
}

/** What a chosen act is held to. */
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
  /** The owner said no when asked about it (or let the question go unanswered): closed for good, never open for a yes. */
  declined?: boolean;
}

/** The acts a request asks for, and what the chooser said that the request does not hold (for the log). */
export interface BoundActs {
  acts: Act[];
  dropped: string[];
  /** The request they were bound to (none: no request, as in an outsider's turn). */
  request?: RequestText | undefined;
}

export const NO_ACTS: BoundActs = { acts: [], dropped: [] };

/**
 * The chooser's acts held to the request's clauses (clauses.ts): an act is
 * kept when one clause of its kind holds its recipient (written there, a
 * contact of the owner's address book it names, a setting it names, or the
 * owner's one setting of that kind for "me") and, for a payment, its amount
 * written beside that recipient; each recipient of a clause as many times
 * as the clause asks ("twice"). Anything else is dropped, with why. At most
 * MAX_ACTS_PER_REQUEST.
 */
export function bindActs(chosen: readonly ChosenAct[], facts: RequestFacts): BoundActs {
  const clauses = readClauses(facts.request);
  const used = new Map<Item, number>();
  const acts: Act[] = [];
  const dropped: string[] = [];
  for (const p of chosen) {
    const bound = bindOne(p, clauses, used, facts);
    if (typeof bound === "string") dropped.push(bound);
    else if (acts.length >= MAX_ACTS_PER_REQUEST) dropped.push(`${p.act}: more acts than one request may hold`);
    else {
      used.set(bound.item, (used.get(bound.item) ?? 0) + 1);
      acts.push(bound.act);
    }
  }
  return { acts, dropped, request: facts.request };
}

/** The clause's recipient that `p` carries out, and the act; else why not. */
function bindOne(
  p: ChosenAct,
  clauses: ReturnType<typeof readClauses>,
  used: ReadonlyMap<Item, number>,
  facts: RequestFacts,
): { act: Act; item: Item } | string {
  if (!ACT_KINDS.includes(p.act)) return "an act of an unknown kind";
  const { toolId, kind } = ACT_TOOLS[p.act];
  const to = recipientOf(p.to, kind, facts);
  const items = clauses.filter((c) => c.act === p.act).flatMap((c) => c.items);
  const held = to ? items.filter((i) => holds(i, to, kind, facts)) : [];
  if (!to || held.length === 0) return `${p.act}: its recipient is not in the request`;
  let amountWei = 0n;
  let beside = held;
  if (p.act === "pay") {
    const wei = p.amount === undefined ? undefined : amountOf(p.amount);
    beside = held.filter((i) => wei !== undefined && i.amount?.value === wei);
    if (wei === undefined || beside.length === 0)
      return items.some((i) => i.amount?.value === wei)
        ? "pay: its amount is not its recipient's in the request"
        : "pay: its amount is not in the request";
    amountWei = wei;
  }
  // As many times as its clause asks for it ("twice"), whatever the chooser says.
  const item = beside.find((i) => (used.get(i) ?? 0) < i.times);
  if (!item) return `${p.act}: more times than the request asks`;
  return { act: { act: p.act, toolId, target: to.value, amountWei, name: to.name, done: false }, item };
}

/** A recipient as the chooser named it: a value, a contact, a setting. */
interface Named {
  value: string;
  /** The contact's or the setting's name. */
  name?: string | undefined;
  via: "value" | "contact" | "setting";
}

/** What the chooser's `to` is: a value written out, a contact of the owner's book, or one of the owner's settings. */
function recipientOf(to: string, kind: TargetKind, facts: RequestFacts): Named | undefined {
  const t = to.trim();
  const written = findTargets(kind, t);
  if (written.length === 1 && written[0]?.start === 0 && written[0].end === t.length)
    return { value: written[0].value, via: "value" };
  // "my accountant" names the contact "my accountant", or "accountant"; "a mi contable", "contable".
  for (const name of new Set([t, t.replace(AROUND, "")])) {
    const contact = name ? facts.contacts?.lookup(name, kind) : undefined;
    if (contact) return { value: contact.value, name: contact.name, via: "contact" };
  }
  const setting = settingNamed(t, kind, facts.settings ?? {});
  return setting && { ...setting, via: "setting" };
}

/**
 * The owner's setting `to` names, holding a value of `kind`: by its name
 * ("personal-email", "my personal email"), or "me": the owner's one setting
 * of that kind, or of several the one named personal, private or own.
 */
function settingNamed(
  to: string,
  kind: TargetKind,
  settings: Readonly<Record<string, string>>,
): { value: string; name: string } | undefined {
  const of = Object.entries(settings).flatMap(([name, v]) => {
    const value = findTargets(kind, v)[0]?.value;
    return value ? [{ name, value }] : [];
  });
  const words = (s: string) =>
    s
      .replace(AROUND, "")
      .toLowerCase()
      .split(/[\s_-]+/u)
      .filter(Boolean)
      .join(" ");
  const named = of.find((s) => s.name === to) ?? of.find((s) => words(s.name) === words(to));
  if (named || !ME_WORD.test(to)) return named;
  return of.length === 1 ? of[0] : of.find((s) => /personal|private|own/i.test(s.name));
}
const ME_WORD = new RegExp(`^${anyWord(ME)}$`, "iu");
const AROUND = new RegExp(`^(?:${anyWord(AROUND_NAMES, DETERMINERS)}\\s*)+`, "iu");

/**
 * Whether a clause's recipient is `to`: its value written there, the
 * contact's name written there, the setting's name written there ("mail my
 * personal email"), or "me" when it is the owner's one setting of its kind.
 */
function holds(item: Item, to: Named, kind: TargetKind, facts: RequestFacts): boolean {
  const span = item.ref ?? item.to;
  const words = facts.request.text.slice(span.start, span.end);
  switch (to.via) {
    case "value":
      return !item.self && findTargets(kind, words).some((f) => f.value === to.value);
    case "contact":
      return !item.self && writesName(words, to.name ?? "");
    case "setting":
      // "mail me": any of the owner's settings of the kind is the owner's (the claim's user config, signed with it).
      return item.self || writesName(words, to.name ?? "");
  }
}

/** Whether `words` write `name` whole, in any case; a setting's "personal-email" as "personal email" too. */
function writesName(words: string, name: string): boolean {
  const parts = name
    .trim()
    .split(/[\s_-]+/u)
    .filter(Boolean);
  if (parts.length === 0) return false;
  const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped.join("[\\s_-]+")}(?![\\p{L}\\p{N}])`, "iu").test(words);
}

/** What of a call `cover` weighs. */
export interface CallFacts {
  toolId: string;
  risk: Risk;
  /** Normalized as the bound acts' targets are. */
  target: string;
  amountWei: bigint;
}

export type Coverage = { act: Act } | { act?: undefined; why?: string | undefined };

const VERBS: Readonly<Record<ActKind, string>> = { pay: "pay", text: "text", mail: "mail" };
const NOUNS: Readonly<Record<ActKind, string>> = { pay: "address", text: "number", mail: "mail address" };

/**
 * The act of `bound` that `call` carries out: the first not done with the
 * same tool, recipient and amount. None: why, when the acts tell (it was
 * done already; the request named another amount), else undefined.
 */
export function cover(bound: BoundActs, call: CallFacts): Coverage {
  const act = actOfTool(call.toolId);
  if (!act) return {};
  const same = bound.acts.filter((a) => a.toolId === call.toolId && a.target === call.target);
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
