// What a turn read, each piece tagged with where it came from, for the gate's
// origin rule (tools/gate/origins.ts, docs/trust.md "Where a recipient came
// from"): the conversation's lines (the owner's, members', words from
// outside it passed on, its own) and the names members go by, the memory the turn's starter may see (who
// taught each entry: memory/provenance.ts), the owner's settings, IDENTITY.md
// (the template's text) and a text to its number. The gate adds what each
// tool returns in the turn. Pure.

import type { HistoryLine, InboundTextTurn } from "../../model/turn.js";
import type { MemoryEntry } from "../../memory/store.js";
import type { Origin } from "../../tools/gate/origins.js";
import { senderName } from "./policy.js";

export interface TurnRead {
  /** The conversation as the turn's model reads it (masked as for its starter). */
  history: readonly HistoryLine[];
  /** The memory entries the turn's starter may see (Memory.visibleTo). */
  memory: readonly MemoryEntry[];
  /** IDENTITY.md: the template's instructions. */
  identity: string;
  /** The owner's settings (the claim's user config). */
  userConfig: Readonly<Record<string, string>>;
  /** Members' profile names by inbox id: who taught an entry. */
  names: Readonly<Record<string, string>>;
  /** A text to its number the turn answers. */
  inboundText?: InboundTextTurn | undefined;
}

/** Everything `t` holds, tagged with its source. */
export function turnOrigins(t: TurnRead): Origin[] {
  const origins: Origin[] = [
    ...Object.entries(t.userConfig).map(([key, value]): Origin => ({ kind: "owner-setting", who: key, text: value })),
    ...t.memory.map((e) => memoryOrigin(e, t.names)),
    ...t.history.map(lineOrigin),
    ...namesOf(t.history),
  ];
  if (t.identity) origins.push({ kind: "template", text: t.identity });
  const text = t.inboundText;
  if (text) origins.push({ kind: "outsider", who: text.from, id: text.from, text: text.text });
  return origins;
}

/** The name each member goes by, as the model reads it before their lines: their own choice, so their word. */
function namesOf(history: readonly HistoryLine[]): Origin[] {
  const seen = new Map<string, Origin>();
  for (const h of history)
    if (h.role === "user" && h.from && h.sender && h.speaker !== "owner" && !seen.has(h.from))
      seen.set(h.from, { kind: "member", who: h.sender, id: h.from, text: h.sender, isName: true });
  return [...seen.values()];
}

/** A line of the conversation: by the role of its sender, from the sender's inbox id (policy.ts historyLines). */
function lineOrigin(h: HistoryLine): Origin {
  const at = h.at;
  if (h.role === "assistant") return { kind: "agent", at, text: h.text };
  if (h.speaker === "owner") return { kind: "owner", who: h.sender, id: h.from, at, text: h.text };
  // Its own message that passed on a text or a mail: the words are an outsider's, whose number it does not keep.
  if (h.speaker === "outsider") return { kind: "outsider", at, text: h.text };
  return { kind: "member", who: h.sender, id: h.from, at, text: h.text };
}

/**
 * An entry of memory, by who taught it: the owner's (taught or confirmed), or
 * a member's (an entry whose teacher is unknown counts as one); inherited from
 * a clone's parent, or a lesson adopted from the pattern pool, whoever taught
 * it there; feedback on an answer of its own is its own words. An entry
 * imported without its owner's seal (memory/seal.ts) is nobody's: someone's
 * but the owner's, whatever it says.
 */
function memoryOrigin(e: MemoryEntry, names: Readonly<Record<string, string>>): Origin {
  if (e.imported && !e.sealedBy) return { kind: "member-memory", text: e.text };
  if (e.inheritedFrom) return { kind: "inherited", text: e.text };
  // A reaction or a correction quotes its own answer ("Your answer "…" was marked good"): its words, not the reactor's.
  if (e.feedback) return { kind: "agent", text: e.text };
  if (e.adoptedFrom) return { kind: "lesson", text: e.text };
  if (e.role === "owner") return { kind: "owner-memory", id: e.from, text: e.text };
  return {
    kind: "member-memory",
    who: e.from ? senderName(names, e.from) : undefined,
    id: e.from,
    text: e.text,
  };
}
