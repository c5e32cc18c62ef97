// Each teacher's share of memory (docs/memory.md, "Provenance"). Memory
// holds MAX_MEMORY_ENTRIES, and one message may teach 10 facts: without
// shares, a member who talks enough pushes out everything the owner taught.
// So each teacher keeps a share, and past it their own oldest entry goes:
//
//   the owner        no share: the whole memory, and their entries go only to
//                    free places for their own (when nothing but theirs is left)
//   each member      MEMBER_SHARE, by inbox id
//   an outsider      none: what an outsider teaches is never kept
//   inherited        INHERITED_SHARE, all of them together
//   adopted          ADOPTED_SHARE
//   imported         IMPORTED_SHARE: a file's entries that are nobody's word
//   unknown          UNKNOWN_SHARE: older entries that name no teacher
//
// An agent in two or more conversations (docs/design/one-agent-many-conversations.md,
// "Limits across conversations") shares its one memory between them: once
// members' entries are in n ≥ 2 conversations, one conversation's members
// together keep at most conversationShare(n), floor(1000 / n) and at least
// 100, past which that conversation's oldest goes. When memory is still
// full, the oldest entry of anyone but the owner goes, a member's only from
// the conversation whose members hold the most: a flood in one conversation
// takes its own places before another's. The owner's entries go last. In one
// conversation, all as before.
// Pure: Memory.add asks it what to drop after adding.

import type { Role } from "../platform/roles.js";

/** What the policy reads of a memory entry (store.ts MemoryEntry). */
export interface Taught {
  id: string;
  role?: Role | undefined;
  from?: string | undefined;
  inheritedFrom?: string | undefined;
  adoptedFrom?: string | undefined;
  imported?: boolean | undefined;
  conversationId?: string | undefined;
}

/** Memory keeps at most this many entries. */
export const MAX_MEMORY_ENTRIES = 1000;
/** Each member's share: 5 messages of 10 facts. 20 members fill memory, and the owner's still stays. */
export const MEMBER_SHARE = 50;
/** An outsider's share: none (docs/trust.md: an outsider never reaches memory). */
export const OUTSIDER_SHARE = 0;
/** Inherited from a clone's parent: as many as a clone summary carries (model/prompt.ts MAX_SUMMARY_ENTRIES). */
export const INHERITED_SHARE = 200;
/** Adopted from the pattern pool: as many as it adopts (memory/patterns.ts MAX_ADOPTED_PATTERNS). */
export const ADOPTED_SHARE = 20;
/** Imported from a file that is not this owner's own sealed export: nobody's word (memory/seal.ts). */
export const IMPORTED_SHARE = 200;
/** Entries from before `from` was recorded, that name no teacher. */
export const UNKNOWN_SHARE = 200;
/** One conversation's members together, in an agent of many conversations, keep at least this many. */
export const MIN_CONVERSATION_SHARE = 100;

/** Whose share an entry counts in: "owner", "member:<inbox>", or a group. */
export type Shareholder = "owner" | `member:${string}` | "outsider" | "inherited" | "adopted" | "imported" | "unknown";

export function shareholderOf(e: Taught): Shareholder {
  if (e.inheritedFrom) return "inherited";
  if (e.adoptedFrom) return "adopted";
  if (e.role === "owner") return "owner";
  if (e.role === "outsider") return "outsider";
  if (e.role === "member") return `member:${e.from ?? ""}`;
  if (e.imported) return "imported";
  // Learned before roles: a sender is a member (Memory.from fills it in the same way).
  return e.from ? `member:${e.from}` : "unknown";
}

/** How many entries a shareholder keeps; the owner's is the whole memory. */
export function shareOf(holder: Shareholder): number {
  if (holder === "owner") return MAX_MEMORY_ENTRIES;
  if (holder.startsWith("member:")) return MEMBER_SHARE;
  const shares: Record<Exclude<Shareholder, "owner" | `member:${string}`>, number> = {
    outsider: OUTSIDER_SHARE,
    inherited: INHERITED_SHARE,
    adopted: ADOPTED_SHARE,
    imported: IMPORTED_SHARE,
    unknown: UNKNOWN_SHARE,
  };
  return shares[holder as keyof typeof shares];
}

/** What one conversation's members keep together when members' entries are in `conversations` of them: all of memory in one. */
export function conversationShare(conversations: number, max = MAX_MEMORY_ENTRIES): number {
  return conversations < 2 ? max : Math.max(MIN_CONVERSATION_SHARE, Math.floor(max / conversations));
}

/**
 * The conversation whose members' share a member's entry counts in: the one
 * it was learned in. None for anyone else's, nor for a member's entry that
 * names none or was imported (what another agent's file names is no
 * conversation of this one): those count in their teacher's share alone.
 */
export function conversationOf(e: Taught): string | undefined {
  if (e.imported || !e.conversationId || !shareholderOf(e).startsWith("member:")) return undefined;
  return e.conversationId;
}

/**
 * The entries to drop, oldest first (`entries` is in the order learned):
 * 1. each teacher's past their share;
 * 2. with members' entries in two or more conversations, each
 *    conversation's members' past conversationShare;
 * 3. while memory holds more than `max`, the oldest of anyone's but the
 *    owner's (a member's only of the conversation whose members hold the
 *    most, so one conversation's flood takes its own places first), and
 *    only then the owner's.
 */
export function overShare(entries: readonly Taught[], max = MAX_MEMORY_ENTRIES): Set<string> {
  const held = entries.map((e) => ({ id: e.id, holder: shareholderOf(e), conversation: conversationOf(e) }));
  const count = new Map<Shareholder, number>();
  for (const { holder } of held) count.set(holder, (count.get(holder) ?? 0) + 1);
  const drop = new Set<string>();
  for (const { id, holder } of held) {
    const n = count.get(holder) ?? 0;
    if (holder === "owner" || n <= shareOf(holder)) continue;
    drop.add(id);
    count.set(holder, n - 1);
  }
  // Members' entries kept so far, by conversation.
  const members = new Map<string, number>();
  for (const { id, conversation } of held)
    if (conversation !== undefined && !drop.has(id)) members.set(conversation, (members.get(conversation) ?? 0) + 1);
  const keep = members.size >= 2 ? conversationShare(members.size, max) : Number.POSITIVE_INFINITY;
  for (const { id, conversation } of held) {
    if (conversation === undefined || drop.has(id)) continue;
    const n = members.get(conversation) ?? 0;
    if (n <= keep) continue;
    drop.add(id);
    members.set(conversation, n - 1);
  }
  let over = entries.length - drop.size - max;
  for (const ownersToo of [false, true]) {
    while (over > 0) {
      const most = Math.max(0, ...members.values());
      const next = held.find(
        (h) =>
          !drop.has(h.id) &&
          (h.holder === "owner") === ownersToo &&
          (h.conversation === undefined || members.get(h.conversation) === most),
      );
      if (!next) break;
      drop.add(next.id);
      over--;
      if (next.conversation !== undefined) members.set(next.conversation, most - 1);
    }
  }
  return drop;
}
