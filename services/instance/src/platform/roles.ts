// Whose word counts: every message an agent handles comes from one of three
// roles. The owner is known by inbox id (checked by XMTP's signatures, never
// by a display name); every other member of the conversation, person or
// agent, is a member; whoever reaches it by text or mail is an outsider.
// docs/trust.md has what each role may ask of it.

/** Who a message comes from, as the agent's permissions see it. */
export type Role = "owner" | "member" | "outsider";

export const ROLES: readonly Role[] = ["owner", "member", "outsider"];

/** The role of a member of its conversation: the owner by inbox id, anyone else a member. */
export function memberRole(ownerId: string | undefined, inboxId: string): "owner" | "member" {
  return ownerId !== undefined && inboxId === ownerId ? "owner" : "member";
}
