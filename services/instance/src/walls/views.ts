// What of a conversation's pieces a reader may read, for the sources that
// come as lists (lines of its history, people's phone data, the items kept
// for it): each labelled here, decided by the walls' one check (labels.ts). Pure.

import { readable, type Label, type Reader } from "./labels.js";

/** A line of a conversation as the model reads it: who said it (the pool set their role from their inbox id). */
interface Line {
  role?: string;
  from?: string | undefined;
  speaker?: string | undefined;
}

/**
 * A line's label: its sender's (none: the agent's own), said in
 * `conversationId`; the owner's own words travel, as what the owner taught
 * does (a clone takes them), the agent's own stay (they may repeat what
 * members said).
 */
export function lineLabel(l: Line, conversationId: string): Label {
  const owners = l.role !== "assistant" && l.speaker === "owner";
  return {
    whose: l.from ? { person: l.from } : { nobody: true },
    where: owners ? { everywhere: true } : { conversation: conversationId },
    how: "said",
  };
}

/**
 * The lines of conversation `conversationId` that `reader` may read: a turn
 * there reads them all, an outsider's turn none, a clone the owner's own.
 */
export function linesFor<L extends Line>(lines: readonly L[], conversationId: string, reader: Reader): L[] {
  return lines.filter((l) => readable(lineLabel(l, conversationId), reader));
}

/**
 * What people's phones shared in conversation `conversationId` that `reader`
 * may read: each piece its sender's, their own turns' alone.
 */
export function piecesFor<P extends { from: string }>(
  pieces: readonly P[],
  conversationId: string,
  reader: Reader,
): P[] {
  return pieces.filter((p) =>
    readable({ whose: { person: p.from }, where: { conversation: conversationId }, how: "phone" }, reader),
  );
}

/** An item kept for a conversation (a reminder, a routine, a scheduled act) as a listing reads it. */
interface Scheduled {
  conversationId: string;
  askedBy: string;
}

/**
 * An item's label: its asker's, read in its own conversation. The owner's
 * listing across every conversation (the owner alone) reads them all.
 */
export function itemLabel(i: Scheduled): Label {
  return { whose: { person: i.askedBy }, where: { conversation: i.conversationId }, how: "scheduled" };
}

/**
 * The items `reader` may be shown, of those the schedules service answered:
 * a conversation's people its own alone, whatever the service says it was
 * asked for (the control plane may lie: docs/schedules.md); someone outside
 * and a clone none.
 */
export function itemsFor<I extends Scheduled>(items: readonly I[], reader: Reader): I[] {
  return items.filter((i) => readable(itemLabel(i), reader));
}
