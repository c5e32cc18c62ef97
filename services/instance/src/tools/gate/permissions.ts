// Who may ask for which tool: trust levels (trust/levels.ts) say what the agent may
// do at all; this says whose request it acts on, as its owner signed it
// (kit's permissions.ts; the defaults are what a careful owner would choose
// for an agent with a wallet and a phone number in a group of friends,
// docs/trust.md):
//
//   owner     every tool, as its trust level allows
//   member    per tool: allow, ask the owner first (default), or refuse
//   outsider  no tool, but one text back to whoever texted, if the owner
//             lets it answer (not by default); a text is always passed on
//
// Pure; the gate asks here first.

import { Grant, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  approvalPlaceName,
  grantName,
  MEMBER_GRANT_FIELDS,
  outsiderReplyName,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import type { Role } from "../../platform/roles.js";
import type { Origin } from "./origins.js";
import type { Contacts, BoundActs } from "../request/binding.js";
import { type FiringMark, toolWord } from "../functions/tool.js";
import type { Reader } from "../../walls/labels.js";

/** Who a tool call is for: the role and name of whoever started the turn. */
export interface Requester {
  role: Role;
  /** Who they are: an inbox id, or an outsider's number. */
  id: string;
  /** As the conversation names them (a member's display name, an outsider's number). */
  name: string;
  /** An outsider's turn only: it has had its one text back. */
  answered?: boolean;
  /** The conversation the turn runs in (its XMTP group id): where the owner reads each call was asked. */
  conversationId?: string;
  /**
   * The turn has read words from outside the conversation (a mail, which
   * anyone can send): from then on what the model asks for may be what the
   * mail said, so every call that acts waits for the owner (gate.ts), and
   * what the turn says is marked as carrying outside words.
   */
  readOutside?: boolean;
  /**
   * Everything the turn's model has read, tagged with where it came from
   * (agent/conversation/turn-origins.ts; the gate adds each tool's result): an act whose
   * recipient or amount none of the owner's own sources holds waits for the
   * owner (origins.ts). Absent: nothing is known to be the owner's.
   */
  origins?: Origin[];
  /**
   * What the message that started the turn asks for (request/binding.ts): an act
   * runs without asking only when it carries out one of these, each once.
   * Absent: nothing was asked for.
   */
  boundActs?: BoundActs;
  /** The owner's address book, by which a call may name its recipient ("to": "Ana"): the owner's turns only. */
  contacts?: Contacts;
  /** Aborted when someone stopped the turn (its reason: their name): no call runs from then on (gate.ts). */
  stop?: AbortSignal;
  /** The scheduled firing the turn carries out (tools/schedules/firing-run.ts): each effect carries its id. */
  firing?: FiringMark;
}

/** Who reads what `who`'s turn in `conversationId` makes (walls/labels.ts): a person there, or someone outside. */
export function readerOf(who: Requester, conversationId: string): Reader {
  return who.role === "outsider"
    ? { kind: "outsider", conversationId, address: who.id }
    : { kind: "person", conversationId, inboxId: who.id, owner: who.role === "owner" };
}

/** The part of a call whose requester is looked at. */
export interface CallOf {
  toolId: string;
  action: string;
  target: string;
}

export type RoleGrant = { grant: "allow" | "ask" } | { grant: "refuse"; reason: string };

/** What `p` grants `who` for `call`; a refusal says why, in words for the conversation. */
export function grantFor(p: ResolvedPermissions, who: Requester, call: CallOf): RoleGrant {
  if (who.role === "owner") return { grant: "allow" };
  if (who.role === "outsider") return outsiderGrant(p.outsiderReply, who, call);
  const field = MEMBER_GRANT_FIELDS[call.toolId as keyof typeof MEMBER_GRANT_FIELDS];
  const grant = field ? p[field] : Grant.REFUSE;
  if (grant === Grant.ALLOW) return { grant: "allow" };
  if (grant === Grant.ASK) return { grant: "ask" };
  return { grant: "refuse", reason: `my owner has not allowed members to have me use my ${toolWord(call.toolId)}` };
}

/** An outsider may have one text sent back to them, and nothing else. */
function outsiderGrant(reply: OutsiderReply, who: Requester, call: CallOf): RoleGrant {
  const toSender = call.toolId === "sms" && call.action === "send_sms" && call.target === who.id;
  if (!toSender || reply === OutsiderReply.NONE || reply === OutsiderReply.UNSPECIFIED)
    return {
      grant: "refuse",
      reason: "I act on my owner's and my conversation's word only, not on a message from outside it",
    };
  if (who.answered) return { grant: "refuse", reason: "I answer a text from outside once" };
  return { grant: reply === OutsiderReply.ANSWER ? "allow" : "ask" };
}

/** Whether a text from outside is answered at all (the turn's prompt says so). */
export function answersOutsiders(p: ResolvedPermissions): boolean {
  return p.outsiderReply === OutsiderReply.ASK || p.outsiderReply === OutsiderReply.ANSWER;
}

/** The line an approval request adds when someone other than the owner asked. */
export function askedBy(who: Requester): string | undefined {
  return who.role === "owner" ? undefined : `Asked by: ${who.name} (${who.role})`;
}

/** For the activity log and the conversation: "members: texts ask, mail ask, money refuse; texts from outside: none". */
export function describePermissions(p: ResolvedPermissions): string {
  return (
    `members: texts ${grantName(p.memberSms)}, mail ${grantName(p.memberEmail)}, money ${grantName(p.memberCrypto)}; ` +
    `texts from outside: ${outsiderReplyName(p.outsiderReply)}; approvals: ${approvalPlaceName(p.approvals)}`
  );
}
