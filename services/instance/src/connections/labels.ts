// Whose each piece of phone data is, and where what the agent makes of it
// may go: the pool's code decides, not the model (docs/connections.md,
// "Each person's data is theirs"; the idea is FIDES's, labels that follow
// data into tool calls and replies). A piece is its sender's alone. Only the
// turn of the person it belongs to reads it; whatever that turn makes (its
// reply, the arguments of each tool call) carries the person's label, and
// may repeat the piece's details where others see them only when the person
// asked for it in their own words.

import type { Piece } from "./shares.js";

/** The pieces a turn may read: its requester's own, nobody else's. */
export function readableBy(person: string, pieces: readonly Piece[]): Piece[] {
  return pieces.filter((p) => p.from === person);
}

/** Where an output goes: the conversation (every member reads it), or out of it through a tool. */
export type Sink = "conversation" | "tool";

/** What the person's own message says of sharing: in the conversation, or on through a tool (a mail, a text). */
const SHARE_HERE =
  /\b(share|show|tell|post|read out|list)\b[^.!?]*\b(everyone|everybody|the group|us all|all of us|here|with (them|us|the others))\b|\b(share (it|this|that|them|my)|for everyone to see)\b/i;
const SEND_ON = /\b(send|e-?mail|mail|text|forward|share)\b/i;

/** Whether `text`, a person's own message, asks to let others see what their phone shared, through `sink`. */
export function asksToShare(text: string, sink: Sink): boolean {
  return sink === "conversation" ? SHARE_HERE.test(text) : SEND_ON.test(text);
}

/** A value of a piece found in an output. */
export interface Repeated {
  /** Whose it is. */
  whose: string;
  kind: string;
}

/** Which values of `pieces` `out` repeats that `own` (the requester's own words, already said here) does not. */
export function repeatedIn(out: string, pieces: readonly Piece[], own: string): Repeated[] {
  const said = normalize(out);
  const mine = normalize(own);
  const found: Repeated[] = [];
  for (const p of pieces)
    for (const v of p.values)
      if (containsWord(said, v) && !containsWord(mine, v)) found.push({ whose: p.from, kind: p.kind });
  return found;
}

/** What the pool decides of an output of a turn that read phone data. */
export type Release = { ok: true } | { ok: false; whose: string[]; kinds: string[] };

/**
 * Whether `out` may go to `sink`: yes when it repeats nothing of the pieces
 * that was not said here already (`turn.said`: the request and the recent
 * conversation), or when everything it repeats is the requester's own and
 * their message itself (`turn.text`, and nothing else) asked to share it
 * that way.
 */
export function mayRelease(
  turn: { requester: string; text: string; said?: string },
  out: string,
  pieces: readonly Piece[],
  sink: Sink,
): Release {
  const found = repeatedIn(out, pieces, `${turn.text}\n${turn.said ?? ""}`);
  if (found.length === 0) return { ok: true };
  const ownOnly = found.every((r) => r.whose === turn.requester);
  if (ownOnly && asksToShare(turn.text, sink)) return { ok: true };
  return { ok: false, whose: [...new Set(found.map((r) => r.whose))], kinds: [...new Set(found.map((r) => r.kind))] };
}

const normalize = (s: string) => s.toLowerCase().replace(/\s+/g, " ");

/** `value` in `text` as a whole: "dentist" in "the dentist at 3", not "lunch" in "lunchbox". */
function containsWord(text: string, value: string): boolean {
  let at = text.indexOf(value);
  while (at >= 0) {
    const before = text[at - 1] ?? "";
    const after = text[at + value.length] ?? "";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return true;
    at = text.indexOf(value, at + 1);
  }
  return false;
}
