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
// When memory is still full, the oldest entry of anyone but the owner goes.
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

/**
 * The entries to drop, oldest first (`entries` is in the order learned):
 * each teacher's past their share, then, while memory holds more than
 * `max`, the oldest of anyone's but the owner's, and only then the owner's.
 */
export function overShare(entries: readonly Taught[], max = MAX_MEMORY_ENTRIES): Set<string> {
  const held = entries.map((e) => ({ id: e.id, holder: shareholderOf(e) }));
  const count = new Map<Shareholder, number>();
  for (const { holder } of held) count.set(holder, (count.get(holder) ?? 0) + 1);
  const drop = new Set<string>();
  for (const { id, holder } of held) {
    const n = count.get(holder) ?? 0;
    if (holder === "owner" || n <= shareOf(holder)) continue;
    drop.add(id);
    count.set(holder, n - 1);
  }
  let over = entries.length - drop.size - max;
  for (const ownersToo of [false, true]) {
    for (const { id, holder } of held) {
      if (over <= 0) return drop;
      if (drop.has(id) || (holder === "owner") !== ownersToo) continue;
      drop.add(id);
      over--;
    }
  }
  return drop;
}
