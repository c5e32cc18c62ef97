// Whose each piece of phone data is, and where what the agent makes of it
// may go: the pool's code decides, not the model (docs/connections.md,
// "Each person's data is theirs"; the idea is FIDES's, labels that follow
// data into tool calls and replies). A piece is its sender's alone. Only the
// turn of the person it belongs to reads it (walls/labels.ts, the phone rule;
// walls/views.ts piecesFor); whatever that turn makes (its
// reply, the arguments of each tool call) carries the person's label, and
// may repeat the piece's details where others see them only when the person
// asked for it in their own words.

import { repeats, saidIn } from "./parts.js";
import type { Piece } from "./shares.js";

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

/** A piece found repeated in an output. */
export interface Repeated {
  /** Whose it is. */
  whose: string;
  kind: string;
}

/**
 * Which pieces `out` repeats a part of (parts.ts: a distinctive word, a
 * phrase, a phone number, a place's coordinates) that `own` does not say
 * already (the requester's words and what was said here): each part is its
 * own, so that "chemo" said here lets "chemo" go and not "chemo schedule".
 */
export function repeatedIn(out: string, pieces: readonly Piece[], own: string): Repeated[] {
  if (pieces.length === 0) return [];
  const said = saidIn(out);
  const already = saidIn(own);
  return pieces.filter((p) => repeats(p.parts, said, already)).map((p) => ({ whose: p.from, kind: p.kind }));
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
