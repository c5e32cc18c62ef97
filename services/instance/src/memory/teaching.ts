// What a message teaches, decided at once (docs/memory.md, "What a message
// teaches"): pure, as the conversation's plan is (agent/conversation/plan.ts).
// From what the message is (a reaction, a text and the facts its learning
// found, "forget what you learned from me"), who taught it, where, and the
// memory as it is, one value: the entries to add, to take out, and those
// changed (confirmed by the owner, marked disputed or shared), with what it
// counted. The rules are feedback.ts's (reactions, corrections) and
// provenance.ts's (whose word counts), run in their order on a copy of the
// memory, so that each reads memory as the one before left it, as they did
// when they wrote memory one by one; the memory handed in is not changed.
// store.ts `Memory.apply` makes the value memory's, in one place (lessons.ts,
// which saves it once). Nothing here reads a conversation or calls a model:
// the agent's own message a reaction or reply is about is looked up before,
// and what the learning model found is handed in.

import type { Role } from "../platform/roles.js";
import { valuesWithin } from "../tools/gate/origins.js";
import type { TextMessage } from "../platform/xmtp.js";
import {
  confirmationTargetsOf,
  recordCorrection,
  recordReaction,
  shareTargetsOf,
  type AnswerRef,
  type ReactionLearned,
  type ReactionMessage,
} from "./feedback.js";
import {
  confirm,
  confirmSaid,
  groundedIn,
  isShareEverywhere,
  markShared,
  taughtBy,
  withoutShareEverywhere,
} from "./provenance.js";
import { Memory, normalize, type MemoryChange, type NewEntry } from "./store.js";
import { memoryHere, type Here } from "./walls.js";

/**
 * Everything a message teaches, as one value; `changed` when applying it (store.ts `Memory.apply`) changes memory.
 * `add`: new entries, whole, in the order learned; `remove`: ids taken out (forgotten, superseded, undone, or
 * disputed and then replaced by the owner's word); `update`: entries already in memory as they become (confirmed by
 * the owner, marked disputing or shared).
 */
export interface Teaching extends MemoryChange {
  readonly changed: boolean;
  /** Members' versions the owner made theirs. */
  readonly confirmed: number;
  /** Entries the owner marked "use this in all my conversations". */
  readonly shared: number;
  /** Facts the learning model found that the message did not say: not learned. */
  readonly invented: number;
  /** A correction's record (feedback.ts recordCorrection). */
  readonly corrected?: ReturnType<typeof recordCorrection> | undefined;
  /** A reaction's record (feedback.ts recordReaction). */
  readonly reaction?: ReactionLearned | undefined;
}

/** A text after its turn. `m` is the text without the name it is said to. */
export interface TextTaught {
  m: TextMessage;
  role: Role;
  here: Here;
  /** The answer of its own the text corrects. */
  correcting?: AnswerRef | undefined;
  /** What learning found in it (the model's facts; none without the model). */
  found: readonly NewEntry[];
  /** The agent's own message the text replies to (FeedbackReader.repliedTo). */
  repliedTo: AnswerRef | undefined;
  /** Whether its conversation's group is at hand: an owner's "that's right" is read only there. */
  grouped: boolean;
}

/**
 * What reaction `m` teaches in `here`'s conversation (feedback.ts recordReaction): `answer` is the agent's own
 * message a 👍 or 👎 is on (FeedbackReader.reactedTo).
 */
export function teachReaction(memory: Memory, here: Here, m: ReactionMessage, answer: AnswerRef | undefined): Teaching {
  const draft = copyOf(memory);
  const reaction = recordReaction(draft, here, m, answer, here.ownerId);
  return { ...between(memory, draft), confirmed: reaction?.confirmed ?? 0, shared: 0, invented: 0, reaction };
}

/** "Forget what you learned from me": what `from` taught, in every conversation (provenance.ts taughtBy). */
export function teachForget(memory: Memory, from: string): Teaching {
  const remove = taughtBy(memory, from).map((e) => e.id);
  return { changed: remove.length > 0, add: [], remove, update: [], confirmed: 0, shared: 0, invented: 0 };
}

/**
 * What a text says to learn from: "use this in all my conversations" is the owner's alone (a member's phrase changes
 * nothing), and is no fact (`said` is the rest); as a reply it marks what it replied to (`replied`, ids).
 */
export function textSays(
  memory: Memory,
  t: Pick<TextTaught, "m" | "role" | "here" | "repliedTo">,
): { sharing: boolean; said: string; replied: string[] } {
  const { m, here } = t;
  const sharing = t.role === "owner" && m.senderInboxId === here.ownerId && isShareEverywhere(m.content);
  const said = sharing ? withoutShareEverywhere(m.content) : m.content;
  const replied = sharing ? shareTargetsOf(memoryHere(memory, here), m, t.repliedTo).map((e) => e.id) : [];
  return { sharing, said, replied };
}

/**
 * What a text teaches, in this order, each step reading memory as the one before left it: the facts found that
 * the message said (a fact may say only what its teller wrote: provenance.ts groundedIn, tools/gate/origins.ts),
 * recorded with who taught them where; the owner's own words confirm members' versions, and so does the owner's
 * "that's right" as a reply (feedback.ts confirmationTargetsOf); a correction's record (feedback.ts
 * recordCorrection); the owner's "use this in all my conversations" marks what it replied to and what it taught.
 */
export function teachText(memory: Memory, t: TextTaught): Teaching {
  const { m, role, here, correcting } = t;
  const { sharing, said, replied } = textSays(memory, t);
  const draft = copyOf(memory);
  const where = { conversationId: here.conversationId, messageId: m.id };
  const invented = t.found.filter((e) => !valuesWithin(e.text, said) || !groundedIn(e.text, said));
  const found = t.found.filter((e) => !invented.includes(e)).map((e) => ({ ...e, role, ...where }));
  draft.add(found, memoryHere(draft, here).entries);
  let confirmed = 0;
  if (role === "owner") {
    // The owner's own words confirm, never the model's restatement of them (provenance.ts).
    confirmed += confirmSaid(draft, here, m.content, m.senderInboxId).length;
    if (t.grouped)
      confirmed += confirm(
        draft,
        here,
        confirmationTargetsOf(memoryHere(draft, here), m, t.repliedTo),
        m.senderInboxId,
      ).length;
  }
  const corrected = correcting
    ? recordCorrection(draft, here, correcting, m.content, m.senderInboxId, found, role, m.id)
    : undefined;
  const shared = sharing ? share(draft, here, replied, found) : 0;
  return { ...between(memory, draft), confirmed, shared, invented: invented.length, corrected };
}

/**
 * The owner's "use this in all my conversations": what the message it replied to taught (`replied`), and the facts
 * the message itself taught (`found`: added, or known here already), marked theirs to use in every conversation.
 * Only entries read here: nothing of another conversation is marked by naming its message. How many were marked.
 */
function share(draft: Memory, here: Here, replied: readonly string[], found: readonly NewEntry[]): number {
  const facts = new Set(found.map((f) => `${f.kind}:${normalize(f.text)}`));
  const view = memoryHere(draft, here).entries;
  const wanted = new Set(replied);
  const taught = view.filter((e) => !e.feedback && facts.has(`${e.kind}:${normalize(e.text)}`));
  return markShared([...new Set([...view.filter((e) => wanted.has(e.id)), ...taught])], true, here.ownerId).length;
}

/** A copy of `memory` the rules may change: its entries copied too. */
function copyOf(memory: Memory): Memory {
  return new Memory(memory.entries.map((e) => structuredClone(e)));
}

/** What `draft` changed of `memory`: added, taken out, changed. */
function between(memory: Memory, draft: Memory): Pick<Teaching, "changed" | "add" | "remove" | "update"> {
  const before = new Map(memory.entries.map((e) => [e.id, e]));
  const after = new Set(draft.entries.map((e) => e.id));
  const add = draft.entries.filter((e) => !before.has(e.id));
  const remove = memory.entries.filter((e) => !after.has(e.id)).map((e) => e.id);
  const update = draft.entries.filter((e) => {
    const was = before.get(e.id);
    return was !== undefined && JSON.stringify(was) !== JSON.stringify(e);
  });
  return { changed: add.length + remove.length + update.length > 0, add, remove, update };
}
