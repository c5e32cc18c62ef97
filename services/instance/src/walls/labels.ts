// Whose each piece of data is, and who may read it: the one check of the
// walls (docs/trust.md, "Walls: labels checked where data leaves"; the idea
// is FIDES's, labels that follow data). Every source labels what it holds
// (a line of a conversation, a memory entry, a person's phone data, a mail,
// a text from outside, a credential, a conversation's schedule items), and every place data leaves (a model
// call of any runtime and the session it keeps, a clone's summary, a post,
// where a text or a mail from outside is told) asks `mayRead` here, so that
// a path added later cannot carry its own, laxer rule. The rules are a
// table (`RULES`), each named, each tested alone (labels.test.ts) and by
// the table of sources and sinks (walls.test.ts), which must find a leak
// when any one rule is taken out. Pure: no I/O, nothing of memory's or
// connections' types (they sit above and label their own pieces).

import { createHash } from "node:crypto";

/**
 * Whose a piece is: a person of a conversation (by inbox id), someone outside
 * (a number, a mail address), or nobody's in particular (the template, a
 * clone's inheritance, the pool's lessons, the agent's own words).
 */
export type Whose = { person: string } | { outsider: string } | { nobody: true };

/** How a piece came. */
export type How =
  /** Said in a conversation: a line of its history. */
  | "said"
  /** Learned from what someone said: a memory entry. */
  | "taught"
  /** A number or key someone said: read in the owner's turns only. */
  | "credential"
  /** What a person's phone shares (Convos Connections). */
  | "phone"
  /** A text to the agent's number. */
  | "text"
  /** A mail to the agent's mailbox. */
  | "mail"
  /** The template's instructions (IDENTITY.md): the creator's, the same in every conversation. */
  | "template"
  /** A reminder, routine or scheduled act kept for a conversation: its words, who asked, when. */
  | "scheduled";

/** Where a piece may be read: one conversation, every conversation of the agent, or its owner alone. */
export type Where = { conversation: string } | { everywhere: true } | { ownerOnly: true };

export interface Label {
  whose: Whose;
  where: Where;
  how: How;
}

/**
 * Who reads what leaves:
 *  - a person's turn in a conversation: its model call, and its reply posted there;
 *  - an outsider's turn: the answer to a text or a mail, which may go back to them;
 *  - the owner alone (a conversation of two with the agent);
 *  - a clone: the summary a parent sends into another conversation.
 */
export type Reader =
  | { kind: "person"; conversationId: string; inboxId: string; owner: boolean }
  | { kind: "outsider"; conversationId: string; address: string }
  | { kind: "owner" }
  | { kind: "clone" };

/** One rule: what it keeps out, and why in words for the log. */
export interface Rule {
  name: string;
  why: string;
  denies(label: Label, reader: Reader): boolean;
}

const conversationOf = (r: Reader) => (r.kind === "person" || r.kind === "outsider" ? r.conversationId : undefined);

/** The walls, in order; the first that denies decides. */
export const RULES: readonly Rule[] = [
  {
    name: "conversation",
    why: "it belongs to another conversation, or to the owner alone",
    denies: (l, r) => {
      const here = conversationOf(r);
      if (here === undefined) return false;
      return "ownerOnly" in l.where || ("conversation" in l.where && l.where.conversation !== here);
    },
  },
  {
    name: "outsider",
    why: "a turn for someone outside reads nothing of the conversation but their own words",
    denies: (l, r) =>
      r.kind === "outsider" && l.how !== "template" && !("outsider" in l.whose && l.whose.outsider === r.address),
  },
  {
    name: "phone",
    why: "a person's phone data is read in their own turns only",
    denies: (l, r) =>
      l.how === "phone" && !(r.kind === "person" && "person" in l.whose && l.whose.person === r.inboxId),
  },
  {
    name: "credential",
    why: "a credential is read in the owner's turns only",
    // A clone takes the owner's credentials when the owner's signature chose that kind (clone/summary.ts).
    denies: (l, r) =>
      l.how === "credential" && !(r.kind === "owner" || r.kind === "clone" || (r.kind === "person" && r.owner)),
  },
  {
    name: "clone",
    why: "a clone takes only what every conversation may read",
    denies: (l, r) => r.kind === "clone" && !("everywhere" in l.where),
  },
];

export type Verdict = { ok: true } | { ok: false; rule: string; why: string };

/** Whether `reader` may read a piece labelled `label`: the first rule that denies says why. */
export function mayRead(label: Label, reader: Reader, rules: readonly Rule[] = RULES): Verdict {
  const rule = rules.find((x) => x.denies(label, reader));
  return rule ? { ok: false, rule: rule.name, why: rule.why } : { ok: true };
}

/** Whether `reader` may read it: `mayRead`, as a yes or no. */
export function readable(label: Label, reader: Reader): boolean {
  return mayRead(label, reader).ok;
}

/**
 * The session a runtime that keeps one (OpenClaw) holds for `reader`: two
 * readers share one only when every rule lets each read what the other's
 * turns put there. A person's turns in a conversation keep theirs (the
 * owner's credentials and each person's phone data are theirs alone), as do
 * the turns for each number or address outside in each conversation (its own
 * words and the answers to them); a clone's summary stands alone (`once`, a
 * fresh id each time).
 */
export function sessionOf(reader: Reader, once: () => string): string {
  switch (reader.kind) {
    case "person":
      return `conversation-${reader.conversationId}-${reader.owner ? "owner" : `person-${reader.inboxId}`}`;
    case "owner":
      return "owner";
    case "outsider":
      // A number or an address, named by a digest: a session's name is no place for either.
      return `conversation-${reader.conversationId}-outside-${createHash("sha256").update(reader.address).digest("hex").slice(0, 16)}`;
    case "clone":
      return `clone-summary-${once()}`;
  }
}
