// Each memory entry's label (walls/labels.ts): whose it is, where it may be
// read, how it came. For an agent in more than one conversation (docs/trust.md,
// "Walls: labels checked where data leaves"): what members said, and what the
// agent learned from them, stays in the conversation it was said in; what
// travels is the owner's own, and what the owner marked "use this in all my
// conversations" (`sharedBy`). The label is made here from who taught the
// entry, never by the model (the same provenance the trust rules read,
// memory/provenance.ts); who may read it is the walls' one check. An agent in
// one conversation reads all of its memory, as before: every entry's scope is
// that conversation or everywhere.

import { readable, type Label, type Reader } from "../walls/labels.js";
import { Memory, type MemoryEntry } from "./store.js";

/** Where an entry may be read: in every conversation of the agent, or in one. */
export type Scope = { everywhere: true } | { conversationId: string };

export interface Walls {
  /** The agent's current owner: their own entries travel, a former owner's do not. */
  ownerId: string;
  /** The conversation it was claimed into: where what came without a conversation of its own belongs. */
  home: string;
}

/**
 * The conversation of the message at hand, within its agent's walls: where
 * what the message teaches is learned, and all that learning reads of
 * memory (memory/teaching.ts, feedback.ts, provenance.ts).
 */
export interface Here extends Walls {
  conversationId: string;
}

const EVERYWHERE: Scope = { everywhere: true };

/**
 * An entry's scope, in this order:
 *  - adopted from the pattern pool: everywhere (other agents' lessons, scanned, given as hints);
 *  - marked "use this in all my conversations" by the current owner, or taught or confirmed by them: everywhere,
 *    but feedback on an answer, anyone's (it may repeat what members said where the answer was);
 *  - inherited from a clone's parent, or imported: the home (the summary or the file was taken in there);
 *  - anything else (members', outsiders', feedback, a former owner's or their mark): the conversation it was learned in.
 */
export function scopeOf(e: MemoryEntry, walls: Walls): Scope {
  if (portable(e, walls.ownerId)) return EVERYWHERE;
  if (e.inheritedFrom || e.imported) return { conversationId: walls.home };
  return { conversationId: e.conversationId ?? walls.home };
}

/**
 * Whether `e` is read in every conversation of an agent owned by `ownerId`
 * (scope everywhere): what a clone's summary may carry (clone/summary.ts).
 */
export function portable(e: MemoryEntry, ownerId: string): boolean {
  if (e.adoptedFrom) return true;
  if (e.feedback) return false;
  return isShared(e, ownerId) || ownersOwn(e, ownerId);
}

/** Marked "use this in all my conversations" by `ownerId`: a former owner's mark no longer counts. */
export function isShared(e: MemoryEntry, ownerId: string): boolean {
  return e.sharedBy !== undefined && e.sharedBy === ownerId;
}

/** The owner's own: taught by their inbox in the owner's role, or a member's version they confirmed. */
function ownersOwn(e: MemoryEntry, ownerId: string): boolean {
  if (e.confirmedBy !== undefined) return e.confirmedBy === ownerId;
  return e.role === "owner" && e.from === ownerId;
}

/** `e`'s label: its teacher's, read where its scope says; a credential as one. */
export function labelOf(e: MemoryEntry, walls: Walls): Label {
  const scope = scopeOf(e, walls);
  return {
    whose: e.from ? { person: e.from } : { nobody: true },
    where: "everywhere" in scope ? scope : { conversation: scope.conversationId },
    how: e.kind === "credentials" ? "credential" : "taught",
  };
}

/** The owner's turn in `conversationId`: who reads the most there, so what learning there reads. */
const conversationView = (conversationId: string, walls: Walls): Reader => ({
  kind: "person",
  conversationId,
  inboxId: walls.ownerId,
  owner: true,
});

/** Whether `e` may be read in `conversationId` (by its owner there, who reads the most). */
export function readableIn(e: MemoryEntry, conversationId: string, walls: Walls): boolean {
  return readable(labelOf(e, walls), conversationView(conversationId, walls));
}

/**
 * The memory `reader` may read: a view (the entries are shared, the list is
 * not). A turn's model call reads this, whatever its runtime.
 */
export function memoryFor(memory: Memory, reader: Reader, walls: Walls): Memory {
  return new Memory(memory.entries.filter((e) => readable(labelOf(e, walls), reader)));
}

/**
 * The memory a turn in `conversationId` reads, before whose turn it is: a
 * view, as Memory.visibleTo gives one (the entries are shared, the list is
 * not), taken before it.
 */
export function memoryIn(memory: Memory, conversationId: string, walls: Walls): Memory {
  return memoryFor(memory, conversationView(conversationId, walls), walls);
}

/**
 * The memory read `here`, taken now: what learning reads again after each
 * change it makes, so that what it just added is in it and what it took out
 * is not.
 */
export function memoryHere(memory: Memory, here: Here): Memory {
  return memoryIn(memory, here.conversationId, here);
}

/** Whether a clone may take `e` (walls/labels.ts, its clone rule): what every conversation of the agent reads. */
export function carriedByClone(e: MemoryEntry, ownerId: string): boolean {
  // Home is no matter here: what is read in one conversation only stays out, whichever it is.
  return readable(labelOf(e, { ownerId, home: "" }), { kind: "clone" });
}
