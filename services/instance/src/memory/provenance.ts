// Whose word an entry of memory is (docs/memory.md, "Provenance"). Every
// entry records who taught it (`from`, `role`, `conversationId`); these are
// the rules that follow from it, pure, so memory.test.ts and
// provenance.test.ts can check them without a conversation:
//
// - a member's correction takes out only what that member taught; beside
//   anyone else's fact (the owner's above all) it leaves the member's
//   version, kept as what that member says (`disputes`);
// - the owner makes such a version theirs by stating it in their own message
//   (`confirmSaid`: the message's words, never a learning model's, and only
//   as a statement: stated.ts), or by saying it is right as a reply to it,
//   or a 👍 on it (`confirm`, bound to that message by memory/feedback.ts);
// - anyone in the conversation can have the agent forget what it learned
//   from them: the entries whose recorded teacher is their inbox, never
//   entries matched by a name in their text (`isForgetMe`, `taughtBy`);
// - the owner alone marks entries "use this in all my conversations"
//   (`isShareEverywhere`, `markShared`): read everywhere while that inbox
//   owns the agent (memory/walls.ts); feedback never.
//
// What a correction disputes and what the owner confirms are read in the
// conversation of the message at hand (`Here`, memory/walls.ts): a member's
// fact of another conversation is never confirmed, disputed or taken out
// here. What someone taught is forgotten everywhere (`taughtBy`): it is
// their own, and nothing is told of it but a count.

import { ROLES, type Role } from "../platform/roles.js";
import { contentWords, normalize, type Memory, type MemoryEntry, type NewEntry } from "./store.js";
import { statedIn } from "./stated.js";
import { memoryHere, type Here } from "./walls.js";

export function isRole(role: unknown): role is Role {
  return typeof role === "string" && (ROLES as readonly string[]).includes(role);
}

/** Who taught an entry, as the owner's listing shows it. */
export type Teacher = Role | "inherited" | "adopted" | "imported" | "unknown";

export function teacherOf(e: MemoryEntry): Teacher {
  // Imported from a file without this owner's seal: nobody's word (memory/seal.ts).
  if (e.imported && !e.sealedBy) return "imported";
  if (e.inheritedFrom) return "inherited";
  if (e.adoptedFrom) return "adopted";
  return e.role ?? (e.from ? "member" : "unknown");
}

/**
 * Whether a correction by `inboxId` in `role` may take `e` out: the owner's
 * may take out any fact; anyone else's only a fact they taught themselves
 * (never the owner's, one inherited or adopted, or one of unknown origin).
 */
export function correctableBy(e: MemoryEntry, inboxId: string, role: Role): boolean {
  if (e.feedback) return false;
  if (role === "owner") return true;
  if (e.inheritedFrom || e.adoptedFrom || e.role === "owner") return false;
  return e.from !== undefined && e.from === inboxId;
}

/** Of the facts a correction supersedes, those it takes out and those it leaves, disputed. */
export function planCorrection(
  superseded: readonly MemoryEntry[],
  inboxId: string,
  role: Role,
): { remove: MemoryEntry[]; dispute: MemoryEntry[] } {
  const remove = superseded.filter((e) => correctableBy(e, inboxId, role));
  return { remove, dispute: superseded.filter((e) => !remove.includes(e)) };
}

const key = (e: Pick<MemoryEntry, "kind" | "text">) => `${e.kind}:${normalize(e.text)}`;

/**
 * Marks the member's version of disputed facts: the entries of `view` (the
 * conversation's: memory/walls.ts) `inboxId` taught with the text of one of
 * `facts` now say which facts they dispute. Returns how many were marked.
 */
export function markDisputes(
  view: Memory,
  facts: readonly NewEntry[],
  inboxId: string,
  disputed: readonly MemoryEntry[],
): number {
  if (disputed.length === 0) return 0;
  const wanted = new Set(facts.map(key));
  let marked = 0;
  for (const e of view.entries) {
    if (e.feedback || e.from !== inboxId || e.role === "owner" || !wanted.has(key(e))) continue;
    e.disputes = [...new Set([...(e.disputes ?? []), ...disputed.map((d) => d.id)])];
    marked++;
  }
  return marked;
}

/**
 * The owner makes entries theirs: each becomes the owner's (`role`
 * "owner", `confirmedBy`, its teacher kept in `from`), and the facts it
 * disputed go, since the owner now says otherwise. An entry imported as
 * nobody's (memory/seal.ts) is no longer marked imported: it is what the
 * owner said. Only entries read `here` are confirmed or go: an id of
 * another conversation's entry (a reaction naming a message there) changes
 * nothing. Returns the entries confirmed.
 */
export function confirm(memory: Memory, here: Here, ids: readonly string[], ownerId: string): MemoryEntry[] {
  const wanted = new Set(ids);
  const view = memoryHere(memory, here).entries;
  const confirmed = view.filter((e) => wanted.has(e.id) && !e.feedback && e.role !== "owner");
  const disputed = new Set(confirmed.flatMap((e) => e.disputes ?? []));
  const replaced = view.filter((e) => disputed.has(e.id)).map((e) => e.id);
  for (const e of confirmed) {
    e.role = "owner";
    e.confirmedBy = ownerId;
    delete e.disputes;
    // Imported as nobody's word, now said by the owner here: the owner's, no longer the file's.
    if (e.imported && !e.sealedBy) {
      delete e.imported;
      e.from = ownerId;
    }
  }
  memory.remove(replaced.filter((id) => !wanted.has(id)));
  return confirmed;
}

/**
 * The owner's own message states these facts: the entries of `view` (the
 * conversation's) others taught whose whole text (case, spacing and
 * punctuation aside) the owner's message states as the owner's own
 * (stated.ts): not in a question, a quote, a negation, a report or a
 * condition. The owner confirms those. Only the message counts, never what a
 * learning model made of it: a model may restate anything, and a member's
 * fact it restated after the owner's "dinner at 8" is not the owner's word.
 * Feedback, inherited and adopted entries are not facts anyone confirms here.
 */
export function saidByOwner(view: Memory, ownerText: string): string[] {
  const said = ` ${normalize(ownerText)} `;
  const states = statedIn(ownerText);
  return view.entries
    .filter((e) => {
      if (e.feedback || e.role === "owner" || e.inheritedFrom || e.adoptedFrom) return false;
      const fact = normalize(e.text);
      return fact !== "" && said.includes(` ${fact} `) && states(e.text);
    })
    .map((e) => e.id);
}

/** At least this share of a fact's content words must be its message's own (a model may reword, not invent). */
export const GROUNDED_SHARE = 0.5;

/**
 * Whether a fact a model learned from `message` is what the message said: every
 * number in it is in the message, and at least GROUNDED_SHARE of its content
 * words are ("I am vegetarian" may be learned as "Saul is vegetarian"). A
 * learning model is a model too: a hijacked one would otherwise put a fact
 * of its choosing (another member's door code, reworded) into the mouth of
 * whoever spoke last, the owner included. Recipients and amounts are held to
 * the message apart, exactly (tools/trust/values.ts valuesWithin).
 */
export function groundedIn(fact: string, message: string): boolean {
  const said = new Set(message.match(/\d+/g) ?? []);
  if ((fact.match(/\d+/g) ?? []).some((n) => !said.has(n))) return false;
  const words = [...contentWords(fact)];
  if (words.length === 0) return true;
  const own = contentWords(message);
  return words.filter((w) => own.has(w)).length >= words.length * GROUNDED_SHARE;
}

/** The owner's message said facts others taught here (`saidByOwner`): they become the owner's. */
export function confirmSaid(memory: Memory, here: Here, ownerText: string, ownerId: string): MemoryEntry[] {
  const ids = saidByOwner(memoryHere(memory, here), ownerText);
  return ids.length > 0 ? confirm(memory, here, ids, ownerId) : [];
}

const CONFIRMATION = [
  /^(?:(?:yes|yep|yeah|yup|ok|okay)\b[\s,.!-]*)?(?:that'?s|that is|thats|it'?s|it is|this is|they'?re|[\p{L}'-]+ is) (?:right|correct|true)\b(?:[\s,.!]+[\p{L}\s,'-]{0,40})?[.!]*$/iu,
  /^(?:(?:yes|yep|yeah|yup)[\s,.!-]*)?(?:right|correct|exactly|confirmed|true|agreed)[\s.!]*$/iu,
  /^(?:yes|yep|yeah|yup)[.!]*$/iu,
];

/**
 * Whether the owner's text says something just said is right: "that's
 * right", "yes, correct", "Saul is right", "confirmed". Not a question, not
 * negated ("that's not right" is a correction), at most a short tail.
 */
export function isConfirmation(text: string): boolean {
  const t = text.trim();
  if (!t || t.endsWith("?") || /\bnot\b|n't\b/i.test(t)) return false;
  return CONFIRMATION.some((r) => r.test(t));
}

// ---- "forget what you learned from me" ----

const FORGET_OBJECT = [
  "me",
  "about me",
  "everything about me",
  "all about me",
  "everything i (?:said|told you|taught you|said to you)",
  "all (?:that )?i (?:said|told you|taught you)",
  "what i (?:said|told you|taught you|said to you)",
  "(?:everything|all|whatever|what|anything|all that) you (?:have )?(?:learned|learnt|know|remember|heard)(?: (?:from|about|of) me)+(?: and (?:from|about|of) me)?",
].join("|");
const FORGET = new RegExp(`^(?:please |can you |could you |now )?forget (?:${FORGET_OBJECT})(?: please| now| too)?$`);
const VOCATIVE_LEAD = /^(?:hey|hi|ok|okay|@)\s*/;

/**
 * Whether a message asks the agent to forget what it learned from, and
 * about, whoever sent it. The wording: "forget" first (after "please", or
 * the agent's name and a comma), then what: "me", "about me", "what I told
 * you", "everything you learned from me", "what you know about me". Case,
 * punctuation and a leading or trailing "<agent name>," are ignored; a
 * leading or trailing name that is not this agent's means the message is for
 * someone else; a question, "don't forget …" and anything longer are not it.
 */
export function isForgetMe(text: string, agentName: string): boolean {
  let t = text.trim().toLowerCase();
  if (!t || t.length > 200 || t.includes("?")) return false;
  const name = normalize(agentName);
  // A leading "<name>," or trailing ", <name>": it must be this agent.
  const [, leadName, afterLead] = /^([^,:;]{1,60})[,:;]\s*(.+)$/.exec(t) ?? [];
  if (leadName !== undefined && afterLead !== undefined && !/\bforget\b/.test(leadName)) {
    if (normalize(leadName.replace(VOCATIVE_LEAD, "")) !== name) return false;
    t = afterLead;
  }
  const [, beforeTrail, trailName] = /^(.+),\s*([^,]{1,60})$/.exec(t) ?? [];
  if (beforeTrail !== undefined && trailName !== undefined && !/\bforget\b/.test(trailName)) {
    if (normalize(trailName.replace(VOCATIVE_LEAD, "")) !== name) return false;
    t = beforeTrail;
  }
  t = t
    .replace(/[’]/g, "'")
    .replace(/[.!]+$/, "")
    .replace(/[^\p{L}\p{N}' ]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (name && t.startsWith(`${name} `)) t = t.slice(name.length + 1);
  return FORGET.test(t);
}

/**
 * What `inboxId` taught: the entries whose recorded teacher (`from`) is
 * that inbox (facts, reactions, corrections, an inherited or imported one
 * they taught), in every conversation (their own words, wherever said),
 * less a version of theirs the owner confirmed, which is the owner's now. Nothing is matched by what an entry says: a display name is
 * its member's own choice ("the" is in everyone's facts), so only the
 * recorded teacher says whose an entry is.
 */
export function taughtBy(memory: Memory, inboxId: string): MemoryEntry[] {
  return memory.entries.filter(
    (e) => e.from === inboxId && !(e.role === "owner" && e.confirmedBy !== undefined && e.confirmedBy !== inboxId),
  );
}

// ---- "use this in all my conversations" ----

const SHARE_OBJECT = "(?:this|that|it|these|those)";
const SHARE_WHERE = "(?:everywhere|(?:in|with|across|for) all (?:of )?my (?:conversations|chats|groups|group chats))";
const SHARE = new RegExp(
  `^(?:please |can you |could you |now |also |and )*(?:use|remember|know|keep|share) ${SHARE_OBJECT}(?: too)? ${SHARE_WHERE}(?: too| please| as well| from now on)*$`,
);

/** A sentence of a message, as the share phrase is matched: lower case, words and apostrophes only. */
function phraseOf(sentence: string): string {
  return sentence
    .trim()
    .toLowerCase()
    .replace(/[’]/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function sentencesOf(text: string): string[] {
  return text.split(/(?<=[.!?])\s+|\n+/).filter((s) => s.trim());
}

/**
 * Whether a message says "use this in all my conversations": a sentence of
 * it is the phrase ("use this in all my conversations", "remember this
 * everywhere", "share this with all my groups", after "please" or "can
 * you"). What it marks is decided by teaching.ts (the owner's only); the
 * words alone decide nothing here.
 */
export function isShareEverywhere(text: string): boolean {
  return text.length <= 2000 && sentencesOf(text).some((s) => SHARE.test(phraseOf(s)));
}

/** The message without its share phrase: what is left to learn from ("remember this everywhere" is no fact). */
export function withoutShareEverywhere(text: string): string {
  return sentencesOf(text)
    .filter((s) => !SHARE.test(phraseOf(s)))
    .map((s) => s.trim())
    .join(" ");
}

/**
 * Marks `entries` "use this in all my conversations" by `ownerId` (`share`),
 * or takes the mark off; returns those whose mark changed. Feedback is
 * never marked: it is about an answer where it was given (memory/walls.ts).
 */
export function markShared(
  entries: readonly MemoryEntry[],
  share: boolean,
  ownerId: string,
  at = new Date().toISOString(),
): MemoryEntry[] {
  const changed: MemoryEntry[] = [];
  for (const e of entries) {
    if (share) {
      if (e.feedback || e.sharedBy === ownerId) continue;
      e.sharedBy = ownerId;
      e.sharedAt = at;
    } else {
      if (e.sharedBy === undefined) continue;
      delete e.sharedBy;
      delete e.sharedAt;
    }
    changed.push(e);
  }
  return changed;
}

// ---- clone summaries ----

/**
 * A summary's entries with who taught them, from the memory they were made
 * from: an entry of the same kind and text (a model's rewording matches
 * nothing, and carries no provenance).
 */
export function withProvenance(entries: readonly NewEntry[], memory: Memory): NewEntry[] {
  const known = new Map(memory.entries.filter((e) => !e.feedback).map((e) => [key(e), e]));
  return entries.map((n) => {
    const e = known.get(key(n));
    if (!e) return n;
    return {
      ...n,
      ...(e.from ? { from: e.from } : {}),
      ...(e.role ? { role: e.role } : {}),
      ...(e.conversationId ? { conversationId: e.conversationId } : {}),
    };
  });
}

/**
 * The names the owner's listing shows for who taught and who confirmed its
 * entries, by conversation and inbox, as each conversation names them
 * (`names`: its shown names, agent/conversation/people.ts): only theirs,
 * not everyone's there. An inherited entry's teacher was named in its
 * parent's conversation, which this agent never read: none.
 */
export function teacherNames(
  entries: readonly MemoryEntry[],
  names: Readonly<Record<string, Readonly<Record<string, string>>>>,
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const e of entries) {
    const here = e.conversationId && !e.inheritedFrom ? names[e.conversationId] : undefined;
    if (!here || !e.conversationId) continue;
    const named = out[e.conversationId] ?? {};
    for (const inbox of [e.from, e.confirmedBy]) {
      const name = inbox ? here[inbox] : undefined;
      if (inbox && name) named[inbox] = name;
    }
    if (Object.keys(named).length > 0) out[e.conversationId] = named;
  }
  return out;
}
