// Who may ask for which tool: trust levels (trust.ts) say what the agent may
// do at all; this says whose request it acts on. Pure; the gate asks here
// first. The defaults are what a careful owner would choose for an agent
// with a wallet and a phone number in a group of friends (docs/trust.md):
//
//   owner     every tool, as its trust level allows
//   member    asks the owner first, whatever the level (an approval request)
//   outsider  no tool at all: a text or a mail is relayed, never acted on

import type { Role } from "../agent/roles.js";

/** allow: as the trust level says; ask: the owner approves first; refuse: never on this role's word. */
export type Grant = "allow" | "ask" | "refuse";

/** The pool's tools, by id. */
export type ToolId = "sms" | "email" | "crypto";

export type PermissionTable = Readonly<Record<Role, Readonly<Record<ToolId, Grant>>>>;

export const DEFAULT_PERMISSIONS: PermissionTable = {
  owner: { sms: "allow", email: "allow", crypto: "allow" },
  member: { sms: "ask", email: "ask", crypto: "ask" },
  outsider: { sms: "refuse", email: "refuse", crypto: "refuse" },
};

/** Who a tool call is for: the role and name of whoever started the turn. */
export interface Requester {
  role: Role;
  /** As the conversation names them (a member's display name, an outsider's number). */
  name: string;
}

const TOOL_WORDS: Record<ToolId, string> = { sms: "phone number", email: "mailbox", crypto: "wallet" };

/** What `table` grants `who` for a call of `toolId`; a refusal says why, in words for the conversation. */
export function grantFor(
  table: PermissionTable,
  who: Requester,
  toolId: string,
): { grant: "allow" | "ask" } | { grant: "refuse"; reason: string } {
  const grant = (table[who.role] as Record<string, Grant | undefined>)[toolId] ?? "refuse";
  if (grant !== "refuse") return { grant };
  const tool = TOOL_WORDS[toolId as ToolId] ?? toolId;
  return {
    grant,
    reason:
      who.role === "outsider"
        ? `I act on my owner's and my conversation's word only, not on a message from outside it`
        : `my owner has not allowed ${who.role}s to have me use my ${tool}`,
  };
}

/** The line an approval request adds when someone other than the owner asked. */
export function askedBy(who: Requester): string | undefined {
  return who.role === "owner" ? undefined : `Asked by: ${who.name} (${who.role})`;
}
