// Where each entry of an agent's memory may be read, for its owner's memory
// page (docs/web.md, "What it knows"): in every conversation of the agent, or
// only in one, and whether the owner's "In all my conversations" toggle
// (ShareMemory) changes that. The agent decides scopes (its memory/walls.ts);
// this mirrors its rules to say which entries the toggle can move, and names
// conversations as the agent's Conversations section does. Pure.
import type { AgentConversation } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { short } from "../words/format";
import type { ListedEntry } from "./memory-provenance";

export type Reach =
  /** Read in all its conversations whatever the toggle: the owner's own, or a lesson from the pattern pool. */
  | { kind: "always"; why: "yours" | "pattern" | "agent" }
  /** Feedback on an answer: it stays in the conversation of that answer, and the agent refuses to share it. */
  | { kind: "stays"; conversationId: string }
  /** The owner's choice: `shared` read in all its conversations, else only in `conversationId`. */
  | { kind: "toggle"; shared: boolean; conversationId: string };

/** Taught by the owner's inbox in the owner's role, or a member's version the owner confirmed (memory/walls.ts). */
function ownersOwn(e: ListedEntry, ownerId: string | undefined): boolean {
  if (!ownerId) return false;
  if (e.confirmedBy !== undefined) return e.confirmedBy === ownerId;
  return e.role === "owner" && e.from === ownerId;
}

/**
 * Where `e` is read, for the agent owned by `ownerId` whose home conversation is `home`. What the agent took in
 * from outside a conversation (a parent's summary, an imported file) or learned before conversations were
 * recorded belongs to the home.
 */
export function reachOf(e: ListedEntry, ownerId: string | undefined, home: string): Reach {
  const conversationId = e.inheritedFrom || e.imported ? home : e.conversationId || home;
  if (e.adoptedFrom) return { kind: "always", why: "pattern" };
  if (e.feedback) return { kind: "stays", conversationId };
  if (ownersOwn(e, ownerId)) return { kind: "always", why: "yours" };
  // The agent's word over this mirror: read everywhere though none of the rules above says why.
  if (e.everywhere && !e.shared) return { kind: "always", why: "agent" };
  return { kind: "toggle", shared: e.shared === true, conversationId };
}

/** The entry with the owner's mark as ShareMemory left it: what the page shows until it is listed again. */
export function withShared(e: ListedEntry, share: boolean): ListedEntry {
  return { ...e, shared: share, everywhere: share };
}

/**
 * A conversation as the owner knows it: its name from the agent's list of conversations (the home's from the
 * agent's own `conversationName` when the list has none), else a short id; "its home conversation" when the id is
 * unknown.
 */
export function conversationLabel(
  conversationId: string,
  conversations: readonly AgentConversation[],
  home?: { conversationId: string; name: string },
): string {
  if (!conversationId) return "its home conversation";
  const listed = conversations.find((c) => c.conversationId === conversationId)?.name.trim();
  if (listed) return listed;
  if (home && home.conversationId === conversationId && home.name.trim()) return home.name.trim();
  return short(conversationId);
}

/** The sentence beside the entry: where it is read, and why when the toggle cannot change it. */
export function reachWords(r: Reach, label: (conversationId: string) => string): string {
  switch (r.kind) {
    case "always":
      return r.why === "yours"
        ? "Known in all its conversations: you taught or confirmed it."
        : r.why === "pattern"
          ? "Known in all its conversations: a lesson from the pattern pool."
          : "Known in all its conversations.";
    case "stays":
      return `Only in ${label(r.conversationId)}: feedback on its answer there stays there.`;
    case "toggle":
      return r.shared ? "Known in all its conversations: you shared it." : `Only in ${label(r.conversationId)}.`;
  }
}
