// What an agent may do in its conversation, in words (docs/statement.md):
// what changed between two statements (statementChanges) and the words
// members read and the agent gives to "what can you do here?"
// (statementText); the message that carries them with the signed statement
// is statement-codec.ts's. Pure:
// the claims service computes the changes it signs with these, and a reader
// can compute them again from the two statements. Signing and checking are
// in signing/statement.ts.
import {
  ApprovalPlace,
  Grant,
  OutsiderReply,
  SpendLimitKind,
  type Permissions,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { AgentStatement, StatementTool } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { formatEther } from "viem";
import { CONNECTION_KIND_WORDS, connectionUses, isConnectionKind } from "./connections.js";
import { DEFAULT_PERMISSION_VALUES, type ResolvedPermissions } from "./permissions.js";
import { PARTICIPATION_SUMMARIES, type ParticipationModeName } from "./participation.js";
import { TRUST_LEVEL_SUMMARIES, type TrustLevelName } from "./trust.js";

/** The facts a statement states; everything but its date, its chain and its changes. */
export type StatementFacts = Omit<
  AgentStatement,
  "$typeName" | "$unknown" | "issuedAt" | "previous" | "sequence" | "changes" | "dailySpendLimitKind"
> & {
  /** CONFIRMED_IN_CONVOS for a limit confirmed there; left out or unspecified: signed, or none. */
  dailySpendLimitKind?: SpendLimitKind;
};

/** Whether the facts' limit was confirmed in Convos rather than signed. */
export const limitConfirmed = (f: Pick<StatementFacts, "dailySpendLimitKind">): boolean =>
  f.dailySpendLimitKind === SpendLimitKind.CONFIRMED_IN_CONVOS;

/** The kinds of pool tools a statement lists, with how people call them. */
export const STATEMENT_TOOL_WORDS: Record<string, string> = {
  wallet: "a wallet",
  phone: "a phone number",
  mailbox: "a mailbox",
};

/** How a member asks for the statement: any of these in a text, case aside (plan.ts answers it without the model). */
export const ASKS_WHAT_IT_MAY_DO: readonly RegExp[] = [
  /\bwhat (?:can|may|could) you do here\b/i,
  /\bwhat are you allowed to do\b/i,
  /\bwhat (?:can|may) you do in this (?:conversation|group|chat)\b/i,
  /\bwhat are your (?:permissions|powers)\b/i,
];

/** Whether a text asks what the agent may do here. */
export function asksWhatItMayDo(text: string): boolean {
  return ASKS_WHAT_IT_MAY_DO.some((r) => r.test(text));
}

function trustName(level: number): string {
  return level >= 1 && level <= 4 ? `L${level}` : "unset";
}

function toolWords(kind: string): string {
  return STATEMENT_TOOL_WORDS[kind] ?? `a ${kind}`;
}

function eth(wei: string): string {
  try {
    return `${formatEther(BigInt(wei))} ETH`;
  } catch {
    return `${wei} wei`;
  }
}

const toolKey = (t: Pick<StatementTool, "kind" | "handle">) => `${t.kind}\u0000${t.handle}`;

function connectionName(kind: string): string {
  return isConnectionKind(kind) ? CONNECTION_KIND_WORDS[kind].name : kind;
}

/**
 * A member's grant by the tool it is for: the kind of pool tool a statement
 * lists, what members' requests are called, and what they have it do.
 */
export const STATEMENT_GRANTS = [
  { field: "memberSms", kind: "phone", requests: "texts", plural: true, act: "send texts" },
  { field: "memberEmail", kind: "mailbox", requests: "mail", plural: false, act: "send mail" },
  { field: "memberCrypto", kind: "wallet", requests: "payments", plural: true, act: "move money" },
] as const satisfies readonly {
  field: keyof ResolvedPermissions;
  kind: string;
  requests: string;
  plural: boolean;
  act: string;
}[];

/** The kind of pool tool whose number outsiders text (`outsider_reply`). */
const OUTSIDER_KIND = "phone";

/** What happens to a text from outside, by the owner's choice. */
const OUTSIDER_WORDS: Record<number, string> = {
  [OutsiderReply.NONE]: "passed on, not answered",
  [OutsiderReply.ASK]: "passed on; one text back to the sender if the owner approves",
  [OutsiderReply.ANSWER]: "passed on; one text back to the sender, as its trust level allows",
};

/** Where the owner is asked to approve. */
const APPROVAL_WORDS: Record<number, string> = {
  [ApprovalPlace.CONVERSATION]: "asked of the owner in this conversation",
  [ApprovalPlace.DIRECT]: "asked of the owner privately",
};

/**
 * Every field of the stated permissions, an unset one as its default;
 * undefined when the statement states none (made before the pool stated
 * them). Unlike resolvePermissions it never throws: a value this reader
 * does not know is kept, and said as unknown.
 */
function statedPermissions(p: Permissions | undefined): ResolvedPermissions | undefined {
  if (!p) return undefined;
  return {
    memberSms: p.memberSms || DEFAULT_PERMISSION_VALUES.memberSms,
    memberEmail: p.memberEmail || DEFAULT_PERMISSION_VALUES.memberEmail,
    memberCrypto: p.memberCrypto || DEFAULT_PERMISSION_VALUES.memberCrypto,
    outsiderReply: p.outsiderReply || DEFAULT_PERMISSION_VALUES.outsiderReply,
    approvals: p.approvals || DEFAULT_PERMISSION_VALUES.approvals,
  };
}

function grantWords(g: Grant, plural: boolean): string {
  if (g === Grant.ALLOW) return "allowed";
  if (g === Grant.ASK) return plural ? "ask the owner first" : "asks the owner first";
  if (g === Grant.REFUSE) return "refused";
  return `unknown (${g})`;
}

/**
 * The lines of who may ask for what, for the tools it holds only: members'
 * requests for each tool, texts from outside when it has a number, where
 * approvals are asked when it has any tool. None when the statement states
 * no permissions, or the agent holds no tool.
 */
function permissionLines(s: AgentStatement): string[] {
  const p = statedPermissions(s.permissions);
  const kinds = new Set(s.tools.map((t) => t.kind));
  if (!p || kinds.size === 0) return [];
  const lines: string[] = [];
  const members = STATEMENT_GRANTS.filter((g) => kinds.has(g.kind)).map(
    (g) => `${g.requests} ${grantWords(p[g.field], g.plural)}`,
  );
  if (members.length > 0) lines.push(`- Members' requests: ${members.join("; ")}`);
  if (kinds.has(OUTSIDER_KIND))
    lines.push(`- Texts from outside: ${OUTSIDER_WORDS[p.outsiderReply] ?? `unknown (${p.outsiderReply})`}`);
  lines.push(`- Approvals: ${APPROVAL_WORDS[p.approvals] ?? `unknown (${p.approvals})`}`);
  return lines;
}

/**
 * What changed in who may ask for what, in words, each field on its own
 * (whether or not it holds the tool: the statement carries every field).
 * From a statement that stated none, only that they are stated now.
 */
function permissionChanges(prev: Permissions | undefined, next: Permissions | undefined): string[] {
  const a = statedPermissions(prev);
  const b = statedPermissions(next);
  if (!a && !b) return [];
  if (!a) return ["who may ask it for what is now stated"];
  if (!b) return ["who may ask it for what is no longer stated"];
  const out: string[] = [];
  for (const g of STATEMENT_GRANTS) {
    const to = b[g.field];
    if (a[g.field] === to) continue;
    if (to === Grant.ALLOW) out.push(`the owner now lets members have it ${g.act} without asking`);
    else if (to === Grant.ASK) out.push(`members' requests to ${g.act} now ask the owner first`);
    else if (to === Grant.REFUSE) out.push(`the owner no longer lets members have it ${g.act}`);
    else out.push(`members' requests to ${g.act} are now unknown (${to})`);
  }
  if (a.outsiderReply !== b.outsiderReply)
    out.push(`texts from outside are now ${OUTSIDER_WORDS[b.outsiderReply] ?? `unknown (${b.outsiderReply})`}`);
  if (a.approvals !== b.approvals)
    out.push(`approvals are now ${APPROVAL_WORDS[b.approvals] ?? `unknown (${b.approvals})`}`);
  return out;
}

/**
 * What changed from `prev` to `next`, in words, in a fixed order (owner,
 * template, version and what it brought, tools, connections, trust, limit,
 * participation, who may ask for what). Empty when nothing did. A tool or connection that comes
 * or goes with a new version is said as the version's ("version 8 adds a
 * wallet"); otherwise on its own ("a phone number was removed").
 */
export function statementChanges(prev: StatementFacts, next: StatementFacts): string[] {
  const out: string[] = [];
  if (prev.ownerId !== next.ownerId) out.push(`the agent passed from owner ${prev.ownerId} to ${next.ownerId}`);
  if (prev.templateId !== next.templateId) out.push(`it now runs template ${next.templateId}`);
  const newVersion = prev.templateId === next.templateId && prev.templateVersion !== next.templateVersion;
  const by = newVersion ? `version ${next.templateVersion}` : "";
  const before = new Set(prev.tools.map(toolKey));
  const after = new Set(next.tools.map(toolKey));
  const added = next.tools.filter((t) => !before.has(toolKey(t)));
  const removed = prev.tools.filter((t) => !after.has(toolKey(t)));
  const prevConn = new Map(prev.connections.map((c) => [c.kind, connectionUses(c)]));
  const nextConn = new Map(next.connections.map((c) => [c.kind, connectionUses(c)]));
  const connAdded = next.connections.filter((c) => !prevConn.has(c.kind));
  const connRemoved = prev.connections.filter((c) => !nextConn.has(c.kind));
  const connChanged = next.connections.filter(
    (c) => prevConn.has(c.kind) && prevConn.get(c.kind) !== nextConn.get(c.kind),
  );
  const brought = added.length + removed.length + connAdded.length + connRemoved.length + connChanged.length > 0;
  if (newVersion && !brought) {
    out.push(`it was updated from version ${prev.templateVersion} to version ${next.templateVersion}`);
  }
  for (const t of added)
    out.push(by ? `${by} adds ${toolWords(t.kind)} (${t.handle})` : `${toolWords(t.kind)} was added (${t.handle})`);
  for (const t of removed) {
    out.push(
      by ? `${by} removes ${toolWords(t.kind)} (${t.handle})` : `${toolWords(t.kind)} was removed (${t.handle})`,
    );
  }
  for (const c of connAdded) {
    const w = `the ${connectionName(c.kind)} connection (${connectionUses(c)})`;
    out.push(by ? `${by} adds ${w}` : `${w} was added`);
  }
  for (const c of connRemoved) {
    const w = `the ${connectionName(c.kind)} connection`;
    out.push(by ? `${by} removes ${w}` : `${w} was removed`);
  }
  for (const c of connChanged) {
    const w = `the ${connectionName(c.kind)} connection now may ${connectionUses(c)}`;
    out.push(by ? `with ${by}, ${w}` : w);
  }
  if (prev.trustLevel !== next.trustLevel) {
    const from = `from ${trustName(prev.trustLevel)} to ${trustName(next.trustLevel)}`;
    // A new version may lower the highest level its template allows; the owner sets it otherwise.
    if (newVersion) out.push(`with ${by}, trust went ${from}`);
    else out.push(`the owner ${next.trustLevel > prev.trustLevel ? "raised" : "lowered"} trust ${from}`);
  }
  // A limit confirmed in Convos says so: it rests on the pool's and the agent's words, not the owner's signature.
  const how = limitConfirmed(next) ? ", confirmed in Convos (not signed)" : "";
  if (prev.dailySpendLimitWei !== next.dailySpendLimitWei) {
    if (!next.dailySpendLimitWei) out.push("the daily spending limit was removed");
    else if (!prev.dailySpendLimitWei)
      out.push(`the owner set a daily spending limit of ${eth(next.dailySpendLimitWei)}${how}`);
    else
      out.push(
        `the owner changed the daily spending limit from ${eth(prev.dailySpendLimitWei)} to ${eth(next.dailySpendLimitWei)}${how}`,
      );
  } else if (next.dailySpendLimitWei && limitConfirmed(prev) !== limitConfirmed(next)) {
    out.push(
      !limitConfirmed(next)
        ? `the owner signed the daily spending limit of ${eth(next.dailySpendLimitWei)}`
        : `the daily spending limit of ${eth(next.dailySpendLimitWei)} is now${how.replace(",", "")}`,
    );
  }
  if (prev.participation !== next.participation) {
    out.push(
      `the owner changed when it speaks from ${prev.participation || "unset"} to ${next.participation || "unset"}`,
    );
  }
  out.push(...permissionChanges(prev.permissions, next.permissions));
  return out;
}

/** How the text names who and what: the owner's name in the conversation, when the agent knows one. */
export interface StatementShown {
  /** The owner's profile name where the statement is posted (as members see it); else a short id is said. */
  ownerName?: string | undefined;
}

/** An inbox id as people can read it when no name is known: its first 8 hex digits. */
function shortId(inboxId: string): string {
  return inboxId.length > 8 ? `${inboxId.slice(0, 8)}…` : inboxId;
}

/**
 * The statement in words: what members read (the fallback of the message
 * that carries it, statement-codec.ts) and what the agent answers "what can
 * you do here?" with. The owner by their name in the conversation, the
 * template by its version as the store writes it ("v7"), and what changed;
 * no signature (the message's content carries it). A statement that states
 * no permissions (made before the pool stated them) reads as it did then:
 * without their lines.
 */
export function statementText(s: AgentStatement, shown: StatementShown = {}): string {
  const trust = trustName(s.trustLevel);
  const summary = TRUST_LEVEL_SUMMARIES[trust as TrustLevelName];
  const confirmed = limitConfirmed(s) ? " (confirmed in Convos, not signed)" : "";
  const limit = s.dailySpendLimitWei ? `, up to ${eth(s.dailySpendLimitWei)} a day${confirmed}` : "";
  const tools = s.tools.map((t) => `${toolWords(t.kind).replace(/^an? /, "")} ${t.handle}`);
  const connections = s.connections.map((c) => `${connectionName(c.kind)} (${connectionUses(c)}): ${c.reason}`);
  const speaks = PARTICIPATION_SUMMARIES[s.participation as ParticipationModeName];
  const lines = [
    `What I may do here (statement ${s.sequence}, ${s.issuedAt.slice(0, 10)}):`,
    `- Owner: ${shown.ownerName || shortId(s.ownerId)}`,
    `- Template: ${s.agentName} v${s.templateVersion}`,
    `- Trust: ${trust}${summary ? ` (${summary})` : ""}${limit}`,
    `- Tools: ${tools.length > 0 ? tools.join("; ") : "none"}`,
    ...permissionLines(s),
    `- Phone connections: ${connections.length > 0 ? connections.join("; ") : "none"}`,
    `- Speaks: ${s.participation}${speaks ? ` (${speaks})` : ""}`,
  ];
  if (s.sequence > 1)
    lines.push(`Changed: ${s.changes.length > 0 ? s.changes.join("; ") : "nothing; the same facts, dated again"}.`);
  return lines.join("\n");
}

/** The line that carried the signed statement in a text posted before the statement had a content type of its own. */
export const STATEMENT_SIGNED_PREFIX = "Signed by the pool: ";

/** The signed statement (compact JWS) a text posted the old way carries on its last line, if any. */
export function statementJwsIn(text: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith(STATEMENT_SIGNED_PREFIX));
  const jws = line?.slice(STATEMENT_SIGNED_PREFIX.length).trim();
  return jws && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws) ? jws : undefined;
}
