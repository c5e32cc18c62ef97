// Where each argument of an act came from, and whether the act carries out
// the request that started the turn (docs/trust.md, "An act carries out a
// request"). The model reads everything in the conversation and may be made to write
// anything, so the gate does not ask it. An act runs without asking only
// when it carries out an act bound to the request (tools/request/: the
// message that started the turn, read by the pool's code and a chooser that
// saw nothing else, recipient and amount from that same request, once
// each). Any other act asks the owner, at every level, saying where its
// recipient and amount came from among what the turn read, each piece tagged
// with its source (an `Origin`: the owner's earlier messages, members',
// outsiders', a mail, memory, the template...): "you wrote this address at
// 10:02, but did not ask me to pay it", "this address was written by Ana, a
// member". Values are compared exactly after normalizing each kind (a
// checksummed address, an E.164 number, a whole mail address, wei), never as
// substrings. Pure.

import { formatEther } from "viem";
import type { Role } from "../../platform/roles.js";
import type { Risk } from "../trust/levels.js";
import { askedAmounts, type NotAsked, type RequestText } from "../request/read.js";
import { cover, NO_ACTS, type Act, type BoundActs } from "../request/binding.js";
import { amountsIn, normalizeTarget, valuesIn, type TargetKind } from "../trust/values.js";

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

// Read in trust/values.ts; named here too for the modules that import them from here.
export {
  amountsIn,
  findAmounts,
  findTargets,
  normalizeTarget,
  valuesIn,
  valuesWithin,
  type Found,
  type TargetKind,
} from "../trust/values.js";

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
  /** As the conversation names them: who asked, in a question to the owner. */
  name?: string | undefined;
}

/** Trusted: the call carries out an act of the request (which it then uses). Otherwise why not, for the owner. */
export type Verdict = { trusted: true; act?: Act | undefined } | { trusted: false; why: string };

/**
 * Whether `call` carries out an act of `bound` (the request that started the
 * turn, as tools/request/binding.ts held the chooser to it): same tool, recipient
 * and amount, an act not done yet. A read is not weighed; an outsider may be
 * answered at their own number (the one text back that permissions.ts lets
 * an outsider have). Otherwise untrusted, saying where the recipient and
 * amount came from among `origins`, the turn's sources, and why they are no
 * request: "you wrote this address in a link, but did not ask me to pay it".
 */
export function judge(call: Traced, who: TracedFor, origins: readonly Origin[], bound: BoundActs = NO_ACTS): Verdict {
  if (call.risk === "read") return { trusted: true };
  const kind = targetKind(call.toolId);
  const target = kind && normalizeTarget(kind, call.target);
  if (!kind || !target) return { trusted: false, why: `I cannot tell where the recipient ${call.target} came from` };
  if (who.role === "outsider" && normalizeTarget(kind, who.id) === target) return { trusted: true };
  const covered = cover(bound, { ...call, target });
  if (covered.act) return { trusted: true, act: covered.act };
  if (covered.why) return { trusted: false, why: covered.why };
  const request = bound.request && { ...bound.request, by: who.role === "owner" ? "you" : (who.name ?? "they") };
  const verb = VERBS[call.toolId] ?? "use";
  const holdsTarget = (o: Origin) => valuesIn(kind, o.text).has(target);
  const holdsAmount = (o: Origin) => amountsIn(o.text).has(call.amountWei);
  const amount = `this amount (${formatEther(call.amountWei)} ETH)`;
  // An amount the request asked for is not what is wrong: only one it did not ask for is told.
  const askAmount =
    call.risk === "money" &&
    !bound.acts.some((a) => a.amountWei === call.amountWei) &&
    !(bound.request && askedAmounts(bound.request).some((a) => a.value === call.amountWei));
  const recipient = whereFrom(NOUNS[kind], origins, holdsTarget, verb, request);
  if (!askAmount) return { trusted: false, why: recipient.why };
  const money = whereFrom(amount, origins, holdsAmount, verb, request);
  // One source wrote both: one sentence ("you wrote this address and this amount at 10:02 …").
  const same =
    (recipient.from ?? recipient.part) !== undefined &&
    (recipient.from ?? recipient.part) === (money.from ?? money.part);
  if (same) {
    const both = (o: Origin) => holdsTarget(o) && holdsAmount(o);
    const from = recipient.from ? [recipient.from] : [];
    return { trusted: false, why: whereFrom(`${NOUNS[kind]} and ${amount}`, from, both, verb, request).why };
  }
  const why = [recipient.why, money.why];
  return { trusted: false, why: why.join("; ") };
}

/** The line an approval request adds for an act that carries out no request: the owner's, or `who`'s (a member's). */
export function notFromOwner(why: string, who?: TracedFor): string {
  return `Not what ${!who || who.role === "owner" ? "you" : (who.name ?? "they")} asked for: ${why}.`;
}

const NOUNS: Readonly<Record<TargetKind, string>> = {
  address: "this address",
  phone: "this number",
  mailbox: "this mail address",
};

const VERBS: Readonly<Record<string, string>> = { crypto: "pay", sms: "text", email: "mail" };

/**
 * The sources that tell the owner most come first: someone else's words
 * before the owner's own (a value a member wrote and the owner repeated in a
 * question is the member's), the agent's own words (which repeat others')
 * last.
 */
const TELLING: readonly OriginKind[] = [
  "member",
  "member-memory",
  "outsider",
  "mail",
  "inherited",
  "lesson",
  "template",
  "tool-output",
  "owner",
  "owner-memory",
  "owner-setting",
  "agent",
];

/** Why the request's part that holds a value asks for nothing. */
const NOT_ASKED: Readonly<Record<NotAsked, string>> = {
  link: "in a link",
  quote: "in someone else's words you quoted",
  code: "in code",
  question: "in a question",
  negation: "after a no, a never or a don't",
  conditional: "in a conditional",
  past: "in an account of the past, not a request for now",
  forward: "in a forwarded message",
  reminder: "in a reminder or a plan for later, not a request for now",
  retracted: "in a joke or a line you took back",
  ignored: "in what you told me to ignore",
};

/**
 * Where `noun` came from, in words for the owner: the request that started
 * the turn when it holds it (in a part that asks nothing, or asked for no
 * act), else the most telling source that holds it, the first of that kind.
 */
export function whereFrom(
  noun: string,
  origins: readonly Origin[],
  holds: (o: Origin) => boolean,
  verb = "use",
  request?: RequestText & { by: string },
): { why: string; from?: Origin | undefined; part?: object | undefined } {
  const them = / and /.test(noun) ? "them" : "it";
  if (request && holds({ kind: "owner", text: request.text })) {
    const part = request.notAsked.find((p) => holds({ kind: "owner", text: request.text.slice(p.start, p.end) }));
    const where = part ? NOT_ASKED[part.kind] : "in this message";
    return {
      why: `${request.by} wrote ${noun} ${where}, but did not ask me to ${verb} ${them}`,
      part: part ?? request,
    };
  }
  for (const kind of TELLING) {
    const o = origins.find((x) => x.kind === kind && holds(x));
    if (o) return { why: sourceSentence(noun, o, verb, them), from: o };
  }
  return { why: `no one in this conversation wrote ${noun}` };
}

function sourceSentence(noun: string, o: Origin, verb: string, them: string): string {
  const at = o.at === undefined ? "" : ` at ${clock(o.at)}`;
  // "this address and this amount (…) are in …": two things written together.
  const is = them === "them" ? "are" : "is";
  const was = them === "them" ? "were" : "was";
  switch (o.kind) {
    case "member":
      return o.isName
        ? `${noun} ${is} in the name a member goes by`
        : `${noun} ${was} written by ${o.who ?? "a member"}, a member,${at}`;
    case "member-memory":
      return o.who
        ? `${noun} ${is} in what ${o.who}, a member, taught me`
        : `${noun} ${is} in what someone but you taught me`;
    case "outsider":
      return o.who
        ? `${noun} ${is} in a text from ${o.who}, from outside this conversation${at}`
        : `${noun} ${is} in words from outside this conversation that I passed on${at}`;
    case "mail":
      return `${noun} ${is} in what a mail said`;
    case "tool-output":
      return `${noun} ${is} in what my ${o.who ?? "tool"} returned`;
    case "agent":
      return `${noun} ${is} only in what I said myself${at}`;
    case "inherited":
      return `${noun} ${is} in what I inherited from the agent I was cloned from`;
    case "lesson":
      return `${noun} ${is} in a lesson shared by other people's agents`;
    case "template":
      return `${noun} ${is} in my template's instructions`;
    case "owner":
      return `you wrote ${noun}${at}, but did not ask me to ${verb} ${them} in this message`;
    case "owner-memory":
      return `${noun} ${is} in what you taught me, but you did not ask me to ${verb} ${them} in this message (save it in your address book to ask for it by name)`;
    case "owner-setting":
      return `${noun} ${is} one of your settings, but you did not ask me to ${verb} ${them} in this message`;
  }
}

/** "10:02 UTC". */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}
