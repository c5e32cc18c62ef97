// Who taught an entry of an agent's memory, in words for its owner's page
// (docs/memory.md, "Provenance"): the role and name (as the agent knows them
// in that conversation, from their Convos profile), else inbox (or number),
// of whoever taught it, whether it is a member's version of someone else's fact, and
// the conversation it was learned in; imported entries apart, nobody's word
// unless they came from the owner's own export ("The seal"). Pure, so its
// words are tested in memory.
import { short } from "../words/format";

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
  /** Imported from the owner's own export: the inbox of the agent that sealed it. */
  sealedBy?: string;
  feedback?: { signal: string };
  /** The owner marked it "use this in all my conversations" (ShareMemory, or said so in a conversation). */
  shared?: boolean;
  /** Read in every conversation of the agent: shared, the owner's own, or a lesson from the pattern pool. */
  everywhere?: boolean;
}

/** What the page says above the imported entries. */
export const IMPORTED_NOTE =
  "Imported from memory files. They are nobody's word unless they came from your own export: only then do they keep who taught them.";

/** What it learned, and what it imported: the page shows them apart. */
export function byOrigin(entries: readonly ListedEntry[]): { learned: ListedEntry[]; imported: ListedEntry[] } {
  return { learned: entries.filter((e) => !e.imported), imported: entries.filter((e) => e.imported) };
}

/** Names the agent knows people by, by conversation and inbox, as its listing gives them (the names they go by there). */
export type TeacherNames = Readonly<Record<string, Readonly<Record<string, string>>>>;

/**
 * What a role taught as, in words; `from` is their inbox (a number for an
 * outsider), `name` what they go by where they taught it, when known.
 */
function teller(role: string | undefined, from: string | undefined, viewer: string | undefined, name?: string): string {
  const who = from ? ` ${short(from)}` : "";
  if (role === "owner") {
    if (from && from === viewer) return "you (owner)";
    return name ? `the owner, ${name}` : `the owner${who}`;
  }
  if (role === "outsider") return `an outsider${who}`;
  // Learned before roles were recorded: a sender other than the owner was a member.
  return name ? `${name}, a member` : `a member${who}`;
}

/** "Taught by Ana, a member, their version of another's fact" and the like; by short inbox where no name is known. */
export function taughtBy(e: ListedEntry, viewer: string | undefined, names: TeacherNames = {}): string {
  if (e.imported && !e.sealedBy) return "Nobody's word: imported from a file that was not your own export";
  if (e.inheritedFrom) {
    const there = e.role ? `, taught there by ${teller(e.role, e.from, undefined)}` : "";
    return `Inherited from its parent ${short(e.inheritedFrom)}${there}`;
  }
  if (e.adoptedFrom) return "Adopted from the pattern pool";
  if (!e.role && !e.from) return "Taught by someone unknown";
  const here = e.conversationId ? names[e.conversationId] : undefined;
  const nameOf = (inbox: string | undefined) => (inbox ? here?.[inbox] : undefined);
  if (e.role === "owner" && e.confirmedBy && e.from && e.from !== e.confirmedBy) {
    const by = e.confirmedBy === viewer ? "you" : teller("owner", e.confirmedBy, undefined, nameOf(e.confirmedBy));
    return `Taught by ${teller("member", e.from, viewer, nameOf(e.from))}, confirmed by ${by}`;
  }
  const disputes = e.disputes?.length ? ", their version of another's fact" : "";
  return `Taught by ${teller(e.role, e.from, viewer, nameOf(e.from))}${disputes}`;
}

const SIGNALS: Record<string, string> = { up: "a 👍", down: "a 👎", correction: "a correction" };

/**
 * Where and how: "in conversation Tokyo trip, from a 👍, in your export of agent 5e1f00…0000"; empty when none is
 * known. `conversation` names a conversation (by default its short id).
 */
export function learnedWhere(e: ListedEntry, conversation: (id: string) => string = short): string {
  const parts: string[] = [];
  if (e.conversationId) parts.push(`in conversation ${conversation(e.conversationId)}`);
  if (e.feedback) parts.push(`from ${SIGNALS[e.feedback.signal] ?? e.feedback.signal}`);
  if (e.imported && e.sealedBy) parts.push(`in your export of agent ${short(e.sealedBy)}`);
  return parts.join(", ");
}
