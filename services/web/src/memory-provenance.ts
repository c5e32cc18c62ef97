// Who taught an entry of an agent's memory, in words for its owner's page
// (docs/memory.md, "Provenance"): the role and inbox (or number) of whoever
// taught it, whether it is a member's version of someone else's fact, and
// the conversation it was learned in. Pure, so its words are tested in memory.
import { short } from "./format";

/** An entry as the agent's ListMemory opens to (the agent-memory file's entries). */
export interface ListedEntry {
  id: string;
  kind: string;
  text: string;
  from?: string;
  role?: string;
  conversationId?: string;
  disputes?: string[];
  confirmedBy?: string;
  inheritedFrom?: string;
  adoptedFrom?: string;
  imported?: boolean;
  feedback?: { signal: string };
}

/** What a role taught as, in words; `from` is their inbox (a number for an outsider). */
function teller(role: string | undefined, from: string | undefined, viewer: string | undefined): string {
  const who = from ? ` ${short(from)}` : "";
  if (role === "owner") return from && from === viewer ? "you (owner)" : `the owner${who}`;
  if (role === "outsider") return `an outsider${who}`;
  // Learned before roles were recorded: a sender other than the owner was a member.
  return `a member${who}`;
}

/** "Taught by a member 0a1b2c…9f8e, their version of another's fact" and the like. */
export function taughtBy(e: ListedEntry, viewer: string | undefined): string {
  if (e.inheritedFrom) {
    const there = e.role ? `, taught there by ${teller(e.role, e.from, undefined)}` : "";
    return `Inherited from its parent ${short(e.inheritedFrom)}${there}`;
  }
  if (e.adoptedFrom) return "Adopted from the pattern pool";
  if (!e.role && !e.from) return e.imported ? "Imported from a memory file" : "Taught by someone unknown";
  if (e.role === "owner" && e.confirmedBy && e.from && e.from !== e.confirmedBy)
    return `Taught by ${teller("member", e.from, viewer)}, confirmed by ${e.confirmedBy === viewer ? "you" : `the owner ${short(e.confirmedBy)}`}`;
  const disputes = e.disputes?.length ? ", their version of another's fact" : "";
  return `Taught by ${teller(e.role, e.from, viewer)}${disputes}`;
}

const SIGNALS: Record<string, string> = { up: "a 👍", down: "a 👎", correction: "a correction" };

/** Where and how: "in conversation 0a1b2c…9f8e, from a 👍"; empty when neither is known. */
export function learnedWhere(e: ListedEntry): string {
  const parts: string[] = [];
  if (e.conversationId) parts.push(`in conversation ${short(e.conversationId)}`);
  if (e.feedback) parts.push(`from ${SIGNALS[e.feedback.signal] ?? e.feedback.signal}`);
  return parts.join(", ");
}
