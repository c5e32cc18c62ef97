// Where each argument of an act came from (docs/trust.md, "Where a recipient
// came from"). The model reads everything in the room and may be made to
// write anything, so the gate does not ask it: it looks for the recipient of
// a text, a mail or a payment, and a payment's amount, in what the turn read,
// each piece tagged with its source (an `Origin`), and trusts it only when one
// of the owner's own sources holds it:
//
//   owner          the owner's messages (by inbox id)
//   owner-setting  the settings of the owner's claim (signed with it)
//   owner-memory   memory the owner taught or confirmed
//
// and, in the turn of someone else, what that requester wrote themselves
// (permissions.ts already holds their requests to what the owner granted
// them). Anything else (a member's words or taught facts, an outsider's
// text, a mail, a tool's output, the agent's own earlier words, an inherited
// summary, a shared lesson, the template) never is: the act asks the owner,
// at every level, saying where it came from. Values are compared exactly
// after normalizing each kind (a checksummed address, an E.164 number, a
// whole mail address, wei), never as substrings. Pure.

import { formatEther } from "viem";
import type { Role } from "../platform/roles.js";
import type { Risk } from "./trust.js";
import { amountsIn, normalizeTarget, valuesIn, type TargetKind } from "./values.js";

/** Where a piece of text the model read came from. */
export type OriginKind =
  | "owner"
  | "owner-setting"
  | "owner-memory"
  | "member"
  | "member-memory"
  | "outsider"
  | "mail"
  | "tool-output"
  | "agent"
  | "inherited"
  | "lesson"
  | "template";

export const ORIGIN_KINDS: readonly OriginKind[] = [
  "owner",
  "owner-setting",
  "owner-memory",
  "member",
  "member-memory",
  "outsider",
  "mail",
  "tool-output",
  "agent",
  "inherited",
  "lesson",
  "template",
];

/** The owner's own sources: what they hold acts without asking, in anyone's turn. */
export const OWNER_KINDS: readonly OriginKind[] = ["owner", "owner-setting", "owner-memory"];

export interface Origin {
  kind: OriginKind;
  /** Who wrote it, as the conversation names them (a cleaned display name, a number, a setting's name, a tool). */
  who?: string | undefined;
  /** Their id: an inbox id, or an outsider's number. */
  id?: string | undefined;
  /** When it was written, ms since the epoch. */
  at?: number | undefined;
  text: string;
  /** `text` is the display name its sender chose (shown before each of their lines), not a message. */
  isName?: boolean | undefined;
}

const TARGET_KINDS: Readonly<Record<string, TargetKind>> = { crypto: "address", sms: "phone", email: "mailbox" };

/** The kind of recipient a tool's calls name; undefined for a tool this rule does not know. */
export function targetKind(toolId: string): TargetKind | undefined {
  return Object.hasOwn(TARGET_KINDS, toolId) ? TARGET_KINDS[toolId] : undefined;
}

// ---- values, normalized ----

// Read in values.ts; named here too for the modules that import them from here.
export {
  amountsIn,
  findAmounts,
  findTargets,
  normalizeTarget,
  valuesIn,
  valuesWithin,
  type Found,
  type TargetKind,
} from "./values.js";

// ---- the rule ----

/** What of a call the rule weighs: its tool, what it does, whom it reaches and what it moves. */
export interface Traced {
  toolId: string;
  risk: Risk;
  target: string;
  amountWei: bigint;
}

/** Who started the turn. */
export interface TracedFor {
  role: Role;
  /** An inbox id, or an outsider's number. */
  id: string;
}

/** Trusted: every argument came from the owner's own words (or the requester's). Otherwise where each did not. */
export type Verdict = { trusted: true } | { trusted: false; why: string };

/**
 * Whether the recipient (and a payment's amount) of `call` came from the
 * owner's own sources among the turn's `origins`, or, in a member's turn, from
 * what that member wrote or taught. A read is not weighed. A requester other
 * than the owner may also be answered at their own number (an outsider's one
 * text back, which is all permissions.ts lets an outsider have).
 */
export function judge(call: Traced, who: TracedFor, origins: readonly Origin[]): Verdict {
  if (call.risk === "read") return { trusted: true };
  const trusted = origins.filter((o) => OWNER_KINDS.includes(o.kind) || ownWords(o, who));
  const untraced: string[] = [];
  const kind = targetKind(call.toolId);
  const target = kind && normalizeTarget(kind, call.target);
  if (!kind || !target) untraced.push(`I cannot tell where the recipient ${call.target} came from`);
  else {
    const theirs = who.role !== "owner" && normalizeTarget(kind, who.id) === target;
    if (!theirs && !trusted.some((o) => valuesIn(kind, o.text).has(target)))
      untraced.push(whereFrom(NOUNS[kind], origins, (o) => valuesIn(kind, o.text).has(target)));
  }
  if (call.risk === "money" && !trusted.some((o) => amountsIn(o.text).has(call.amountWei)))
    untraced.push(
      whereFrom(`this amount (${formatEther(call.amountWei)} ETH)`, origins, (o) =>
        amountsIn(o.text).has(call.amountWei),
      ),
    );
  return untraced.length === 0 ? { trusted: true } : { trusted: false, why: untraced.join("; ") };
}

/** The line an approval request adds for an act whose arguments did not come from the owner's own words. */
export function notFromOwner(why: string): string {
  return `Not from your own words: ${why}.`;
}

const NOUNS: Readonly<Record<TargetKind, string>> = {
  address: "this address",
  phone: "this number",
  mailbox: "this mail address",
};

/**
 * `o` is what `who`, a member, wrote or taught themselves. An outsider's words
 * count for nothing: its one text back goes to its own number (judge).
 */
function ownWords(o: Origin, who: TracedFor): boolean {
  return who.role === "member" && o.id === who.id && (o.kind === "member" || o.kind === "member-memory");
}

/** The sources that tell the owner most come first; the agent's own words (which repeat others') last. */
const TELLING: readonly OriginKind[] = [
  "member",
  "member-memory",
  "outsider",
  "mail",
  "inherited",
  "lesson",
  "template",
  "tool-output",
  "agent",
];

/** Where `noun` came from, in words for the owner: the most telling source that holds it, the first of that kind. */
export function whereFrom(noun: string, origins: readonly Origin[], holds: (o: Origin) => boolean): string {
  for (const kind of TELLING) {
    const o = origins.find((x) => x.kind === kind && holds(x));
    if (o) return sourceSentence(noun, o);
  }
  return `no one in this conversation wrote ${noun}`;
}

function sourceSentence(noun: string, o: Origin): string {
  const at = o.at === undefined ? "" : ` at ${clock(o.at)}`;
  switch (o.kind) {
    case "member":
      return o.isName
        ? `${noun} is in the name a member goes by`
        : `${noun} was written by ${o.who ?? "a member"}, a member,${at}`;
    case "member-memory":
      return o.who
        ? `${noun} is in what ${o.who}, a member, taught me`
        : `${noun} is in what someone but you taught me`;
    case "outsider":
      return o.who
        ? `${noun} is in a text from ${o.who}, from outside this conversation${at}`
        : `${noun} is in words from outside this conversation that I passed on${at}`;
    case "mail":
      return `${noun} is in what a mail said`;
    case "tool-output":
      return `${noun} is in what my ${o.who ?? "tool"} returned`;
    case "agent":
      return `${noun} is only in what I said myself${at}`;
    case "inherited":
      return `${noun} is in what I inherited from the agent I was cloned from`;
    case "lesson":
      return `${noun} is in a lesson shared by other people's agents`;
    case "template":
      return `${noun} is in my template's instructions`;
    default:
      return `${noun} came from you`;
  }
}

/** "10:02 UTC". */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}
