// What an instance learns from its conversation, typed by the three kinds of
// knowledge a clone's summary can carry (docs/memory.md):
//   training         makes it better at its job ("always confirm the date")
//   personalization  who the people are and what they like ("Saul is vegetarian")
//   credentials      accounts and numbers to use ("use this number for SMS")
// Kept in memory.json in the workspace, credentials sealed apart
// (memory-credentials.json, `diskFiles`); rendered into the system prompt at
// every turn, credentials only in the owner's turns (`visibleTo`); a clone's
// summary selects from it (clone/summary.ts), and a clone keeps what it inherited
// marked as such, with its kinds. Every entry says who taught it, in which
// role and conversation (docs/memory.md, "Provenance"; memory/provenance.ts).

import { randomBytes } from "node:crypto";
import { MEMORY_KINDS, type MemoryKind } from "@convos-pool/kit/signing";
import { renderAdoptedHints } from "./hints.js";
import { MAX_MEMORY_ENTRIES, overShare } from "./teacher-shares.js";
import type { Role } from "../platform/roles.js";
import { readable, type Reader } from "../walls/labels.js";
import { jsonObjectIn } from "../platform/json-answer.js";

export { MEMORY_KINDS, MAX_MEMORY_ENTRIES, type MemoryKind };

/** A role's turn as the walls read it, wherever it is (Memory.visibleTo weighs whose turn, not where). */
const ROLE_READERS: Readonly<Record<Role, Reader>> = {
  owner: { kind: "owner" },
  member: { kind: "person", conversationId: "", inboxId: "", owner: false },
  outsider: { kind: "outsider", conversationId: "", address: "" },
};
const EVERYWHERE = { everywhere: true } as const;

export interface MemoryEntry {
  id: string;
  kind: MemoryKind;
  /** The fact, as said (first person kept: "my name is Saul"). */
  text: string;
  /** Inbox of the member it was learned from, when known. */
  from?: string;
  /**
   * The role `from` had when it taught this (platform/roles.ts). Absent: not
   * learned in a conversation (inherited, adopted, imported without one), or
   * an entry older than roles, whose role Memory.from fills in from `from`.
   */
  role?: Role;
  /** The conversation it was learned in. */
  conversationId?: string;
  /** The XMTP id of the message it was learned from. */
  messageId?: string;
  /**
   * A member's version of facts someone else taught (their ids): kept beside
   * them as what that member says, never in their place, until the owner
   * confirms it (memory/provenance.ts).
   */
  disputes?: string[];
  /** The owner confirmed a member's version: the owner's inbox. `role` is then "owner". */
  confirmedBy?: string;
  /** How it was learned: "rule" (offline) or "llm". */
  via: "rule" | "llm";
  /** Taken in from the parent's clone summary: the parent's instance id. */
  inheritedFrom?: string;
  /** Learned from a reaction to, or a correction of, one of the agent's own messages. */
  feedback?: MemoryFeedback;
  /** Adopted from the pattern pool: the pattern's id. */
  adoptedFrom?: string;
  /** Merged in from an agent-memory file the owner imported. */
  imported?: boolean;
  /**
   * Imported from a file sealed by an agent of this same owner at its export
   * (memory/seal.ts): that agent's inbox id. Only then does an imported entry
   * keep who taught it; without it, an imported entry is nobody's word.
   */
  sealedBy?: string;
  /**
   * The owner marked it "use this in all my conversations" (memory/walls.ts):
   * their inbox. It travels while that inbox owns the agent; after a
   * transfer it stays where it was learned.
   */
  sharedBy?: string;
  /** When it was marked shared. */
  sharedAt?: string;
  createdAt: string;
}

/** What a feedback entry is tied to: the agent's message and the signal given on it. */
export interface MemoryFeedback {
  /** The XMTP message id of the agent's message the feedback is about. */
  messageId: string;
  /** "up" and "down": a 👍 or 👎 reaction; "correction": a reply or a "no, …" right after it. */
  signal: "up" | "down" | "correction";
  /** The start of the agent's message, at most 200 characters. */
  about: string;
}

export interface MemoryFile {
  version: 1;
  entries: MemoryEntry[];
}

const MAX_ENTRY_CHARS = 500;

/** What memory-credentials.json seals: the credentials entries, whole. */
export interface SealedMemory {
  version: 1;
  entries: MemoryEntry[];
}

export type NewEntry = Pick<MemoryEntry, "kind" | "text"> &
  Partial<
    Pick<
      MemoryEntry,
      | "from"
      | "via"
      | "inheritedFrom"
      | "feedback"
      | "adoptedFrom"
      | "imported"
      | "sealedBy"
      | "role"
      | "conversationId"
      | "messageId"
      | "disputes"
      | "confirmedBy"
      | "sharedBy"
      | "sharedAt"
    >
  >;

/** A change of memory as one value: entries to add (whole, ids given), ids to take out, entries as they become. */
export interface MemoryChange {
  readonly add: readonly MemoryEntry[];
  readonly remove: readonly string[];
  readonly update: readonly MemoryEntry[];
}

export class Memory {
  constructor(readonly entries: MemoryEntry[] = []) {}

  /**
   * Reads memory.json, and the credentials entries opened from
   * memory-credentials.json (`sealed`), in the order they were learned. With
   * `ownerId`, an entry older than roles gets one from `from`: the owner's
   * when `from` is `ownerId`, else a member's (docs/memory.md, "Provenance").
   */
  static from(file: MemoryFile | undefined, ownerId?: string, sealed?: readonly MemoryEntry[]): Memory {
    const all = [...(file?.entries ?? []), ...(sealed ?? [])]
      .filter((e) => isKind(e.kind) && typeof e.text === "string")
      // Imported before seals, or without one: nobody's, whatever the file said.
      .map((e) => (e.imported && !e.sealedBy ? nobodys(e) : e))
      .map((e) =>
        e.role || !e.from || e.inheritedFrom || e.adoptedFrom || e.imported || ownerId === undefined
          ? e
          : { ...e, role: legacyRole(e, ownerId) },
      );
    if (sealed?.length) all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return new Memory(all);
  }

  toFile(): MemoryFile {
    return { version: 1, entries: this.entries };
  }

  /** What goes to disk: memory.json without credentials entries, and those entries to be sealed. */
  diskFiles(): { plain: MemoryFile; sealed: SealedMemory } {
    return {
      plain: { version: 1, entries: this.entries.filter((e) => e.kind !== "credentials") },
      sealed: { version: 1, entries: this.entries.filter((e) => e.kind === "credentials") },
    };
  }

  /**
   * The memory a turn started by `role` may see: all of it in the owner's
   * turns; no credentials in a member's (its prompt, its recall); nothing in
   * an outsider's, who is never told what it remembers. A view: the entries
   * are shared, the list is not.
   */
  visibleTo(role: Role): Memory {
    // The walls decide (walls/labels.ts): a credential is the owner's alone, an outsider's turn reads no memory.
    const reader = ROLE_READERS[role];
    return new Memory(
      this.entries.filter((e) =>
        readable(
          { whose: { nobody: true }, where: EVERYWHERE, how: e.kind === "credentials" ? "credential" : "taught" },
          reader,
        ),
      ),
    );
  }

  /**
   * Adds what is new (same kind and text, ignoring case and spacing, as an
   * entry of `within`, is not), within each teacher's share
   * (memory/teacher-shares.ts); returns what was added and kept. `within`: what a
   * conversation's learning reads (memory/walls.ts memoryHere); every entry
   * for what is taken in apart from any conversation (a clone's summary,
   * adopted lessons).
   */
  add(candidates: NewEntry[], within: readonly MemoryEntry[] = this.entries): MemoryEntry[] {
    return this.addCounted(candidates, within).added;
  }

  /**
   * `add`, counted: what was added and kept, how many it knew already, and
   * how many new ones it did not keep (their teacher has no share left, or
   * none at all: an outsider). What it knew already is what `within` holds,
   * never the rest of the store: a member teaching in one conversation what
   * was said in another is learned there, not told "I knew that" (an
   * oracle of the other conversation).
   */
  addCounted(
    candidates: NewEntry[],
    within: readonly MemoryEntry[],
  ): { added: MemoryEntry[]; duplicates: number; unkept: number } {
    const known = new Set(within.map((e) => `${e.kind}:${normalize(e.text)}`));
    const added: MemoryEntry[] = [];
    let duplicates = 0;
    for (const c of candidates) {
      const text = c.text.trim().replace(/\s+/g, " ").slice(0, MAX_ENTRY_CHARS);
      if (!text || !isKind(c.kind)) continue;
      const k = `${c.kind}:${normalize(text)}`;
      if (known.has(k)) {
        duplicates++;
        continue;
      }
      known.add(k);
      const entry: MemoryEntry = {
        id: `mem_${randomBytes(6).toString("hex")}`,
        kind: c.kind,
        text,
        ...(c.from ? { from: c.from } : {}),
        via: c.via ?? "rule",
        ...(c.inheritedFrom ? { inheritedFrom: c.inheritedFrom } : {}),
        ...(c.feedback ? { feedback: c.feedback } : {}),
        ...(c.adoptedFrom ? { adoptedFrom: c.adoptedFrom } : {}),
        ...(c.imported ? { imported: true } : {}),
        ...(c.sealedBy ? { sealedBy: c.sealedBy } : {}),
        ...(c.role ? { role: c.role } : {}),
        ...(c.conversationId ? { conversationId: c.conversationId } : {}),
        ...(c.messageId ? { messageId: c.messageId } : {}),
        ...(c.disputes?.length ? { disputes: [...c.disputes] } : {}),
        ...(c.confirmedBy ? { confirmedBy: c.confirmedBy } : {}),
        ...(c.sharedBy ? { sharedBy: c.sharedBy, ...(c.sharedAt ? { sharedAt: c.sharedAt } : {}) } : {}),
        createdAt: new Date().toISOString(),
      };
      this.entries.push(entry);
      added.push(entry);
    }
    const drop = overShare(this.entries);
    if (drop.size > 0) this.remove([...drop]);
    const kept = added.filter((e) => !drop.has(e.id));
    return { added: kept, duplicates, unkept: added.length - kept.length };
  }

  /**
   * Makes a change decided elsewhere memory's, in one place (what a message teaches: memory/teaching.ts): the
   * entries taken out, those changed changed in place (whoever holds one sees it change), the new ones added last,
   * in their order. Returns the entries added.
   */
  apply(change: MemoryChange): readonly MemoryEntry[] {
    this.remove(change.remove);
    const updates = new Map(change.update.map((e) => [e.id, e]));
    for (const e of this.entries) {
      const to = updates.get(e.id);
      if (!to) continue;
      for (const k of Object.keys(e) as (keyof MemoryEntry)[]) if (!(k in to)) delete e[k];
      Object.assign(e, to);
    }
    this.entries.push(...change.add);
    return change.add;
  }

  /** Takes out the entries with these ids (a correction's superseded fact, an undone reaction); returns what went. */
  remove(ids: readonly string[]): MemoryEntry[] {
    const gone = new Set(ids);
    const removed = this.entries.filter((e) => gone.has(e.id));
    if (removed.length > 0) this.entries.splice(0, this.entries.length, ...this.entries.filter((e) => !gone.has(e.id)));
    return removed;
  }

  countByKind(): Record<MemoryKind, number> {
    const out: Record<MemoryKind, number> = { training: 0, personalization: 0, credentials: 0 };
    for (const e of this.entries) out[e.kind]++;
    return out;
  }

  /** The memory as a section of the system prompt. */
  render(): string {
    if (this.entries.length === 0) return "## What you have learned\n\n(nothing yet)";
    const lines = ["## What you have learned", ""];
    for (const kind of MEMORY_KINDS) {
      // Lessons adopted from the pattern pool are hints, in a section of their own (memory/hints.ts).
      const of = this.entries.filter((e) => e.kind === kind && !e.feedback && !e.adoptedFrom);
      if (of.length === 0) continue;
      lines.push(`### ${KIND_TITLES[kind]}`, "");
      for (const e of of) {
        lines.push(renderFact(e));
      }
      lines.push("");
    }
    lines.push(...renderFeedback(this.entries), ...renderAdoptedHints(this.entries));
    return lines.join("\n").trimEnd();
  }

  /**
   * The entries that best answer a question, by shared content words (the
   * offline provider's recall). Feedback entries are about answers, not
   * facts: never recalled.
   */
  recall(question: string, limit = 3): MemoryEntry[] {
    const wanted = contentWords(question);
    if (wanted.size === 0) return [];
    return this.entries
      .map((e, i) => ({ e, i, score: e.feedback ? 0 : [...contentWords(e.text)].filter((w) => wanted.has(w)).length }))
      .filter((x) => x.score > 0)
      .sort((a, b) => b.score - a.score || b.i - a.i)
      .slice(0, limit)
      .map((x) => x.e);
  }
}

const KIND_TITLES: Record<MemoryKind, string> = {
  training: "How to do your job (training)",
  personalization: "About the people here (personalization)",
  credentials: "Accounts and numbers to use (credentials)",
};

const FEEDBACK_TITLES: Record<MemoryFeedback["signal"], string> = {
  down: "Members marked these answers of yours wrong. Do not give them again; if you know nothing better, say so and ask what is right:",
  correction:
    "Members corrected these answers of yours. Take each correction as what that member says: it refines what they taught you, and never overrides what your owner taught you:",
  up: "Members liked these answers of yours; answer in the same way:",
};

/** One fact of the prompt, with who taught it: a member's version of someone else's fact is what that member says. */
function renderFact(e: MemoryEntry): string {
  if (e.inheritedFrom) return `- ${e.text} (inherited from the agent you were cloned from)`;
  const who = e.from ? `${e.role === "outsider" ? "outsider" : "member"} ${shortInbox(e.from)}` : undefined;
  if (e.role === "owner")
    return e.confirmedBy && e.from && e.from !== e.confirmedBy
      ? `- ${e.text} (said by ${who}, confirmed by your owner)`
      : `- ${e.text} (taught by your owner)`;
  if (who && e.disputes?.length)
    return `- ${who} says: ${e.text} (their version of something others taught you; it does not replace what your owner taught you)`;
  return who ? `- ${e.text} (said by ${who})` : `- ${e.text}`;
}

/** The prompt's "Feedback on your earlier answers" (docs/instance.md, "Learning from feedback"): wrong ones first. */
function renderFeedback(entries: readonly MemoryEntry[]): string[] {
  const lines: string[] = [];
  for (const signal of ["down", "owner-correction", "correction", "up"] as const) {
    const of =
      signal === "owner-correction"
        ? entries.filter((e) => e.feedback?.signal === "correction" && e.role === "owner")
        : entries.filter((e) => e.feedback?.signal === signal && (signal !== "correction" || e.role !== "owner"));
    if (of.length === 0) continue;
    lines.push(
      signal === "owner-correction" ? OWNER_CORRECTIONS : FEEDBACK_TITLES[signal],
      "",
      ...of.map(
        (e) => `- ${e.text}${e.role === "owner" ? " (your owner)" : e.from ? ` (member ${shortInbox(e.from)})` : ""}`,
      ),
      "",
    );
  }
  return lines.length > 0 ? ["## Feedback on your earlier answers", "", ...lines] : [];
}

const OWNER_CORRECTIONS =
  "Your owner corrected these answers of yours. What your owner said wins over anything you remembered before:";

/**
 * An imported entry as nobody's word: what it says (kind, text, and the
 * feedback it records), without who taught it or where it came from.
 * `from`, the conversation, the message and where it was inherited or
 * adopted go with the role: they are the file's word, which nothing proves,
 * and `from` is what a member's correction, "forget what you learned from
 * me" and an older entry's role go by (one `from` the owner would load as
 * the owner's). Nor is it shared: only the owner's own mark travels. The
 * owner forgets such entries from the listing.
 */
export function nobodys<T extends NewEntry>(e: T): T {
  const {
    role: _role,
    from: _from,
    confirmedBy: _confirmedBy,
    disputes: _disputes,
    conversationId: _conversationId,
    messageId: _messageId,
    inheritedFrom: _inheritedFrom,
    adoptedFrom: _adoptedFrom,
    sealedBy: _sealedBy,
    sharedBy: _sharedBy,
    sharedAt: _sharedAt,
    ...rest
  } = e;
  return { ...rest, imported: true } as T;
}

/** An entry older than roles: the owner's if the owner said it, else a member's. */
function legacyRole(e: MemoryEntry, ownerId: string): Role {
  return e.from === ownerId ? "owner" : "member";
}

const HEX_KEY = /\b0x[0-9a-fA-F]{8,}\b/g;
const KEY_LIKE = /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{12,}\b/g;
const NUMBER = /\+?\d(?:[\d\s().-]*\d)?/g;
/** A number shorter than this in a credential is not looked for elsewhere (a "2" would mask every line with a 2). */
const MIN_SECRET_DIGITS = 4;

/** Numbers and key-like tokens hidden, so a secret's description does not carry it. */
export function maskSecrets(text: string): string {
  return text.replace(HEX_KEY, "[key]").replace(KEY_LIKE, "[key]").replace(NUMBER, "[number]");
}

/**
 * A line of conversation with its numbers and keys masked when it carries a
 * secret of these credentials entries (one of their keys, or one of their
 * numbers of 4 digits or more, however spaced); else as it was.
 */
export function maskCredentialsIn(text: string, entries: readonly MemoryEntry[]): string {
  const keys = new Set<string>();
  const digits = new Set<string>();
  for (const e of entries) {
    if (e.kind !== "credentials") continue;
    for (const k of [...e.text.matchAll(HEX_KEY), ...e.text.matchAll(KEY_LIKE)]) keys.add(k[0]);
    for (const n of e.text.matchAll(NUMBER)) {
      const d = n[0].replace(/\D/g, "");
      if (d.length >= MIN_SECRET_DIGITS) digits.add(d);
    }
  }
  if (keys.size === 0 && digits.size === 0) return text;
  const said = [...text.matchAll(NUMBER)].map((n) => n[0].replace(/\D/g, ""));
  const carries = [...keys].some((k) => text.includes(k)) || said.some((d) => [...digits].some((s) => d.includes(s)));
  return carries ? maskSecrets(text) : text;
}

/**
 * The conversation as a turn started by `role` reads it: the owner's as it
 * was said; anyone else's with the lines that carry a secret of the
 * credentials in `memory` masked (the owner may have said one in the group,
 * and the agent told it back to the owner).
 */
export function withCredentialsMasked<T extends { text: string }>(
  lines: readonly T[],
  role: Role,
  memory: Memory,
): T[] {
  const credentials = memory.entries.filter((e) => e.kind === "credentials");
  if (role === "owner" || credentials.length === 0) return [...lines];
  return lines.map((l) => ({ ...l, text: maskCredentialsIn(l.text, credentials) }));
}

export function isKind(kind: unknown): kind is MemoryKind {
  return typeof kind === "string" && (MEMORY_KINDS as readonly string[]).includes(kind);
}

export function shortInbox(inboxId: string): string {
  return inboxId.slice(0, 8);
}

/** Lower case, words only: how entries and answers are compared. */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

const STOPWORDS = new Set(
  (
    "a an the is are am was were be been being do does did what whats who whom whose which when where why how " +
    "my your our their his her its me you we they i he she it us them this that these those of to in on at for " +
    "with from by about as and or but if so not no yes can could would should will shall may might must " +
    "tell know remember please again any some there here have has had just"
  ).split(" "),
);

/** The words of `text` that say what it is about (stopwords out, a plural's s dropped): how recall and the prompt's ranking compare. */
export function contentWords(text: string): Set<string> {
  return new Set(
    normalize(text)
      .split(" ")
      .filter((w) => w.length > 1 && !STOPWORDS.has(w))
      .map((w) => (w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w)),
  );
}

// ---- the deterministic rule (offline learning) ----

const CREDENTIAL_HINT =
  /\b(api[ -]?keys?|passwords?|passcodes?|tokens?|secrets?|phone numbers?|numbers? for (sms|texts?|calls?)|telnyx|account (numbers?|ids?)|iban|wallet address|log ?ins?|usernames?|pins?)\b/i;
const TRAINING_START = /^(please\s+)?(always|never|don'?t|do not|make sure|avoid|only)\b/i;
const PERSONAL_START = /^(i am|i'm|im|my|our|we are|we're|we)\b/i;

/**
 * `text` without a leading address to the agent named `agentName`
 * ("Tabby, …", "@tabby …", "hey Tabby: …"): in a group a message names the
 * agent it is for (docs/instance.md, "Participation"), and the name says
 * whom it is for, not what to learn. A name not followed by a comma, colon or
 * the like ("Tabby likes fish") is what is said, and stays; so does anything
 * but a leading address.
 */
export function withoutAddress(text: string, agentName: string): string {
  const name = agentName.trim();
  if (!name) return text;
  const words = name
    .split(/\s+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("\\s+");
  const lead = new RegExp(
    `^\\s*(?:@${words}\\b[\\s,:;!.-]*|(?:(?:hey|hi|hello|ok|okay|dear)\\s+)?${words}\\s*[,:;!-]\\s*|(?:hey|hi|hello|ok|okay|dear)\\s+${words}\\b\\s*)`,
    "i",
  );
  const rest = text.replace(lead, "");
  return rest.trim() ? rest : text;
}

/**
 * Durable facts in a message, by a fixed rule (what the offline provider
 * learns; a real model is asked instead):
 * - "remember (that) X" stores X;
 * - a sentence starting "always / never / don't / make sure / only ..." is training;
 * - "I am ... / my ... is ... / our ... / we ..." is personalization;
 * - anything stored that mentions a password, key, token, phone number for
 *   SMS, account number ... is credentials.
 * Questions are never facts.
 */
export function extractByRule(message: string, from?: string): NewEntry[] {
  const out: NewEntry[] = [];
  for (const raw of message.split(/(?<=[.!?])\s+|\n+/)) {
    let s = raw.trim();
    if (!s || s.endsWith("?")) continue;
    s = s.replace(/[.!]+$/, "").trim();
    const remembered = /^(please\s+)?(remember|note|keep in mind)\b[\s,:]*(that\s+)?(.+)$/i.exec(s);
    let fact: string | undefined;
    let kind: MemoryKind | undefined;
    if (remembered?.[4]) {
      fact = remembered[4].trim();
      kind = TRAINING_START.test(fact) ? "training" : "personalization";
    } else if (TRAINING_START.test(s)) {
      fact = s;
      kind = "training";
    } else if (
      PERSONAL_START.test(s) &&
      /\b(is|are|am|'m|'re|have|like|love|prefer|hate|live|work|eat|need|want)\b/i.test(s)
    ) {
      fact = s;
      kind = "personalization";
    }
    if (!fact || !kind || fact.length < 3) continue;
    if (CREDENTIAL_HINT.test(fact)) kind = "credentials";
    out.push({ kind, text: fact, via: "rule", ...(from ? { from } : {}) });
  }
  return out;
}

/**
 * Whether a line of conversation carries knowledge of a kind outside `carry`:
 * the rule finds such a fact in it, or it repeats an entry of such a kind
 * (the agent's own "Noted: ..." included). A clone summary's prompt leaves
 * these lines out, so the model never sees what the owner did not choose.
 */
export function carriesOtherKind(line: string, carry: readonly MemoryKind[], memory: Memory): boolean {
  if (extractByRule(line).some((f) => !carry.includes(f.kind))) return true;
  const text = normalize(line);
  return memory.entries.some(
    (e) =>
      !carry.includes(e.kind) && (text.includes(normalize(e.text)) || text.includes(normalize(toSecondPerson(e.text)))),
  );
}

/** "my name is Saul" → "your name is Saul": how the offline provider says it back. */
export function toSecondPerson(text: string): string {
  const map: Record<string, string> = {
    i: "you",
    "i'm": "you're",
    im: "you're",
    am: "are",
    me: "you",
    my: "your",
    mine: "yours",
    myself: "yourself",
    we: "you",
    "we're": "you're",
    us: "you",
    our: "your",
    ours: "yours",
  };
  let sawI = false;
  return text.replace(/\b(i'm|we're|i|im|am|me|my|mine|myself|we|us|our|ours)\b/gi, (w) => {
    const lower = w.toLowerCase();
    if (lower === "am") return sawI ? "are" : w;
    if (lower === "i") sawI = true;
    return map[lower] ?? w;
  });
}

// ---- what a real model answers ----

export const EXTRACTION_PROMPT = [
  "You maintain the long-term memory of an assistant in a group conversation.",
  "From the latest message, extract only durable facts worth remembering in later conversations, each as one short sentence.",
  'Kinds: "training" (how the assistant should do its job: rules, preferences about its behaviour),',
  '"personalization" (facts about the people or the group: names, preferences, plans),',
  '"credentials" (accounts, phone numbers, keys or other details to use for tools).',
  "Skip small talk, questions and anything already in memory.",
  'Answer with JSON only: {"entries":[{"kind":"personalization","text":"Saul is vegetarian"}]} or {"entries":[]}.',
].join("\n");

/** Entries from a model's JSON answer; anything malformed is skipped, at most `limit`. */
export function parseExtraction(answer: string, from?: string, limit = 10): NewEntry[] {
  const entries = jsonObjectIn(answer)?.entries;
  if (!Array.isArray(entries)) return [];
  const out: NewEntry[] = [];
  for (const e of entries.slice(0, limit)) {
    const { kind, text } = (e ?? {}) as { kind?: unknown; text?: unknown };
    if (isKind(kind) && typeof text === "string" && text.trim())
      out.push({ kind, text, via: "llm", ...(from ? { from } : {}) });
  }
  return out;
}
