// The plan: what a request asks for (docs/trust.md, "An act carries out a
// request"). The planner (a model that read only the request and the names
// of the owner's contacts and settings: agent/conversation/planning.ts) says which acts;
// `bindPlan` holds them to the request (each recipient written where it may
// ask, a contact it names there, or a setting; each amount written there);
// `cover` matches a call to an act not done yet, once. Pure.

import { formatEther } from "viem";
import type { Risk } from "../trust.js";
import type { ToolId } from "../tool.js";
import { findTargets, type TargetKind } from "../values.js";
import { amountOf, askedAmounts, askedTargets, nameMentions, namesAsked, timesAt, type RequestText } from "./read.js";

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
  /** The owner said no when asked about it (or let the question go unanswered): closed for good, never open for a yes. */
  declined?: boolean;
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
    // As many times as the request asks for it (its mentions, "twice"), whatever the planner says.
    const same = acts.filter((a) => a.act === p.act && a.target === to.value && a.name === to.name).length;
    if (same >= timesAsked(facts.request, kind, to)) {
      dropped.push(`${p.act}: more times than the request asks`);
      continue;
    }
    acts.push({ act: p.act, toolId, target: to.value, amountWei, name: to.name, done: false });
  }
  return { acts, dropped, request: facts.request };
}

/**
 * How many acts to a recipient the request asks for: one for each time it
 * writes the recipient (its value, or the contact's name) where it may ask,
 * times what its sentence says ("twice", "3 times"); one for a setting the
 * request does not write ("mail me" is the owner's own).
 */
function timesAsked(r: RequestText, kind: TargetKind, to: { value: string; name?: string | undefined }): number {
  const mentions = to.name ? nameMentions(r, to.name) : askedTargets(r, kind).filter((f) => f.value === to.value);
  if (mentions.length === 0) return 1;
  return mentions.reduce((n, m) => n + timesAt(r, m.start), 0);
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
