// Learning from feedback on the agent's own messages (docs/instance.md,
// "Learning from feedback"). A 👍 or 👎 reaction, or a correction (a reply to
// one of its messages, or a "no, …" just after one), becomes a training entry
// tied to that message (`feedback: {messageId, signal, about}`); a correction
// also teaches the corrected fact and takes out the fact the wrong answer came
// from when its teller may (memory/provenance.ts: a member only what they taught;
// beside anyone else's fact the member's version stays, disputed). The rules here are fixed and deterministic: the offline provider's
// answers change visibly, and tests can see them change. Each reads memory
// as the conversation of the feedback reads it (memory/walls.ts): a fact of
// another conversation is never what an answer came from, taken out,
// disputed, confirmed or known here. The rules that change memory
// (`recordReaction`, `recordCorrection`) change the memory they are handed:
// memory/teaching.ts hands them a copy, and what changed is what the message
// teaches.

import type { Logger } from "@convos-pool/kit/server";
import type { Reaction } from "@xmtp/node-sdk";
import { memberRole, type Role } from "../platform/roles.js";
import { confirm, confirmSaid, isConfirmation, isShareEverywhere, markDisputes, planCorrection } from "./provenance.js";
import { memoryHere, type Here, type Walls } from "./walls.js";
import {
  extractByRule,
  normalize,
  toSecondPerson,
  type Memory,
  type MemoryEntry,
  type MemoryFeedback,
  type NewEntry,
} from "./store.js";
import {
  REACTION_ADDED,
  REACTION_REMOVED,
  isReaction,
  readableText,
  SAID_TYPES,
  type AgentGroup,
  type AgentMessage,
  type TextMessage,
} from "../platform/xmtp.js";

export type FeedbackSignal = MemoryFeedback["signal"];

/** A reaction message, as platform/xmtp.ts isReaction narrows it. */
export type ReactionMessage = AgentMessage & { content: Reaction };

/** One of the agent's own messages that feedback is about. */
export interface AnswerRef {
  messageId: string;
  text: string;
}

/** How much of the agent's message an entry quotes (`feedback.about`). */
export const ABOUT_CHARS = 200;
/** How much of a correction an entry quotes. */
const CORRECTION_CHARS = 250;
/** A text correction without a reply refers to the agent's message only if it is among this many text messages before it. */
export const CORRECTION_WINDOW = 3;
const DESCENDING = 1; // SortDirection.Descending (a const enum of the bindings)

// Skin tones and the emoji variation selector: 👍🏽 is 👍, ❤️ is ❤.
const EMOJI_VARIANTS = /[\u{1F3FB}-\u{1F3FF}\uFE0F]/gu;
const UP = new Set(["👍", "❤", "♥", "💯", "+1", ":+1:", ":thumbsup:", ":heart:"]);
const DOWN = new Set(["👎", "-1", ":-1:", ":thumbsdown:"]);

/** 👍, ❤️, 💯 or "+1" say an answer was good; 👎 or "-1" that it was wrong; any other reaction teaches nothing. */
export function reactionSignal(emoji: string): "up" | "down" | undefined {
  const bare = emoji.trim().replace(EMOJI_VARIANTS, "").toLowerCase();
  return UP.has(bare) ? "up" : DOWN.has(bare) ? "down" : undefined;
}

// What a correction starts with. "No" alone, and "no thanks", "no problem" … are not corrections.
const NO = /^(?:no|nope|nah)\b(?![\s,.!]*(?:thanks|thank you|problem|worries|need|rush|idea|way)\b)[\s,.:;!-]*/i;
const EXPLICIT =
  /^(?:wrong|incorrect|correction|actually|not quite|(?:that'?s|that is|thats|this is|it'?s|it is) (?:wrong|incorrect|not (?:right|correct|true|it|what i (?:said|meant)))|i (?:said|meant|told you|wrote))\b/i;
/** "not vegan, vegetarian" / "not vegan but vegetarian". */
const NOT_X_Y = /^not\s+([^,;.]+?)\s*(?:[,;]\s*(?:but\s+)?|\s+but\s+)(.+)$/i;

/**
 * Whether a text message starts like a correction: "no, …", "nope, …",
 * "actually …", "that's wrong …", "I said …", "not X, Y". After a question
 * of the agent's, "no, …" is an answer, so only the explicit forms count
 * ("no, I said …", "that's wrong …").
 */
export function looksLikeCorrection(text: string, afterQuestion = false): boolean {
  const t = text.trim();
  if (EXPLICIT.test(t) || NOT_X_Y.test(t)) return true;
  const no = NO.exec(t);
  if (!no) return false;
  const rest = t.slice(no[0].length).trim();
  if (!rest) return false;
  return !afterQuestion || EXPLICIT.test(rest) || NOT_X_Y.test(rest);
}

const ACKNOWLEDGEMENT =
  /^(?:thanks?|thank you|thx|ok|okay|great|yes|yep|yeah|yup|cool|perfect|nice|good|sure|sounds good|awesome|exactly|right|correct|lol|haha|love it)\b/i;
/** Longer replies that do not start like a correction are new requests, not corrections. */
const SHORT_REPLY_WORDS = 6;

/**
 * Whether a reply to one of the agent's messages corrects it: it starts like
 * a correction, or it is a short statement ("vegetarian!", "Shibuya") that is
 * neither a question nor an acknowledgement ("thanks", "great").
 */
export function replyCorrects(text: string): boolean {
  const t = text.trim();
  // "Use this in all my conversations" marks what it replies to (teaching.ts); it says nothing is wrong.
  if (isShareEverywhere(t)) return false;
  if (looksLikeCorrection(t)) return true;
  if (!t || t.endsWith("?") || ACKNOWLEDGEMENT.test(t)) return false;
  return t.split(/\s+/).length <= SHORT_REPLY_WORDS;
}

/** The start of the agent's message, as entries quote it. */
export function aboutOf(answer: string): string {
  const t = answer.trim().replace(/\s+/g, " ");
  return t.length > ABOUT_CHARS ? t.slice(0, ABOUT_CHARS) : t;
}

/** The training entry a 👍, 👎 or correction leaves, tied to the agent's message. */
export function feedbackEntry(signal: FeedbackSignal, answer: AnswerRef, from: string, correction?: string): NewEntry {
  const about = aboutOf(answer.text);
  const text =
    signal === "down"
      ? `Your answer "${about}" was marked wrong.`
      : signal === "up"
        ? `Your answer "${about}" was marked good.`
        : `Your answer "${about}" was corrected: "${(correction ?? "").trim().slice(0, CORRECTION_CHARS)}".`;
  return { kind: "training", text, via: "rule", from, feedback: { messageId: answer.messageId, signal, about } };
}

// ---- which facts an answer came from ----

/** The facts an answer says back (the offline provider's "your diet is vegan" from "my diet is vegan"). */
export function answerSources(answer: string, memory: Memory): MemoryEntry[] {
  const said = ` ${normalize(answer)} `;
  return memory.entries.filter((e) => {
    if (e.feedback) return false;
    const own = normalize(e.text);
    const back = normalize(toSecondPerson(e.text));
    return (own && said.includes(` ${own} `)) || (back && said.includes(` ${back} `));
  });
}

/** Facts that answers marked 👎 were drawn from: the offline provider does not say them again. */
export function disownedFacts(memory: Memory): Set<string> {
  const out = new Set<string>();
  for (const w of memory.entries) {
    if (w.feedback?.signal !== "down") continue;
    for (const e of answerSources(w.feedback.about, memory)) out.add(e.id);
  }
  return out;
}

/** The offline recall, less the facts of answers marked wrong; `withheld` says whether any were left out. */
export function recallHeedingFeedback(
  memory: Memory,
  question: string,
  limit = 3,
): { found: MemoryEntry[]; withheld: boolean } {
  const disowned = disownedFacts(memory);
  const all = memory.recall(question, limit + disowned.size);
  const found = all.filter((e) => !disowned.has(e.id)).slice(0, limit);
  return { found, withheld: all.some((e) => disowned.has(e.id)) };
}

// ---- the corrected fact ----

const VERB =
  /\b(is|are|am|m|re|s|was|were|have|has|like|likes|love|loves|prefer|prefers|hate|hates|live|lives|work|works|eat|eats|need|needs|want|wants)\b/;
const CONTRACTED: Record<string, string> = { m: "am", re: "are", s: "is" };
const PREPOSITION = /^(in|at|on|from|to|with|near|by)\b/i;

/** "my diet is vegan" → "my diet is": what a fact is about, compared between an old fact and its correction. */
export function subjectOf(text: string): string | undefined {
  const n = normalize(text);
  const verb = VERB.exec(n);
  const word = verb?.[1];
  if (!verb || !word) return undefined;
  return `${n.slice(0, verb.index).trim()} ${CONTRACTED[word] ?? word}`.trim();
}

/** The correction less its lead: "no, I said vegetarian" → "vegetarian". */
export function correctedPart(text: string): string {
  let t = text.trim();
  for (let changed = true; changed; ) {
    const before = t;
    t = t
      .replace(NO, "")
      .replace(/^(?:wrong|incorrect|correction|actually|not quite)\b[\s,.:;!-]*/i, "")
      .replace(
        /^(?:that'?s|that is|thats|this is|it'?s|it is) (?:wrong|incorrect|not (?:right|correct|true|it|what i (?:said|meant)))\b[\s,.:;!-]*/i,
        "",
      )
      .replace(/^i (?:said|meant|told you|wrote)\b[\s,:]*(?:that\s+)?/i, "")
      .trim();
    changed = t !== before;
  }
  return t.replace(/[.!]+$/, "").trim();
}

/**
 * The corrected fact, by rule (the offline provider's learning from a
 * correction): a whole fact in the correction ("no, I am vegetarian") as the
 * offline rule reads it; else its bare value put in place of the wrong fact's
 * ("no, I said vegetarian" after "your diet is vegan" → "my diet is
 * vegetarian"). Which fact was wrong: the one naming X in "not X, Y", else
 * the only fact the answer came from; none when that is ambiguous.
 */
export function correctionByRule(text: string, answer: string, memory: Memory, from?: string): NewEntry[] {
  const rest = correctedPart(text);
  if (!rest) return [];
  const whole = extractByRule(rest, from);
  if (whole.length > 0) return whole;
  const notXY = NOT_X_Y.exec(rest);
  const yNotX = /^(.+?),?\s+not\s+([^,;.]+)$/i.exec(rest);
  const wrongWord = notXY?.[1] ?? yNotX?.[2];
  const value = (notXY?.[2] ?? yNotX?.[1] ?? rest).replace(/^(?:it'?s|it is|rather|but|just)\s+/i, "").trim();
  if (!value || value.endsWith("?")) return [];
  const sources = answerSources(answer, memory);
  const target = wrongWord
    ? sources.find((s) => ` ${normalize(s.text)} `.includes(` ${normalize(wrongWord)} `))
    : sources.length === 1
      ? sources[0]
      : undefined;
  if (!target) return [];
  const verb =
    /^(.*?\b(?:is|are|am|'m|'re|was|were|have|has|like|likes|love|loves|prefer|prefers|hate|hates|live|lives|work|works|eat|eats|need|needs|want|wants))\b\s*(.*)$/i.exec(
      target.text,
    );
  if (!verb) return [];
  const keptPreposition = PREPOSITION.exec(verb[2] ?? "")?.[1];
  const fact = `${verb[1]} ${keptPreposition && !PREPOSITION.test(value) ? `${keptPreposition} ` : ""}${value}`;
  return [{ kind: target.kind, text: fact, via: "rule", ...(from ? { from } : {}) }];
}

/**
 * The facts a correction takes out: of those of `view` (the conversation's)
 * the wrong answer came from, the ones about the same thing as a corrected
 * fact ("my diet is …"), else the only one, when the correction brought a
 * fact of its kind.
 */
export function supersededBy(answer: string, view: Memory, facts: readonly NewEntry[]): MemoryEntry[] {
  if (facts.length === 0) return [];
  const kept = new Set(facts.map((f) => normalize(f.text)));
  const sources = answerSources(answer, view).filter((s) => !kept.has(normalize(s.text)));
  const subjects = new Set(facts.map((f) => subjectOf(f.text)));
  subjects.delete(undefined);
  const same = sources.filter((s) => subjects.has(subjectOf(s.text)));
  if (same.length > 0) return same;
  const [only, ...others] = sources;
  return only && others.length === 0 && facts.some((f) => f.kind === only.kind) ? sources : [];
}

// ---- in the conversation ----

/**
 * What a catch-up reads, oldest first: the messages sent since, and the
 * reactions sent since on any of the `recent` messages. The SDK's listing
 * folds a reaction (added or taken back) into the message it is on, which
 * may be older than `sinceNs`: only the stream delivers reactions by
 * themselves.
 */
export function withReactionsSince(
  missed: readonly AgentMessage[],
  recent: readonly AgentMessage[],
  sinceNs: bigint,
): AgentMessage[] {
  const reactions: AgentMessage[] = recent.flatMap((m) => m.reactions ?? []).filter((r) => r.sentAtNs > sinceNs);
  return [...missed, ...reactions].sort((a, b) => (a.sentAtNs < b.sentAtNs ? -1 : a.sentAtNs > b.sentAtNs ? 1 : 0));
}

export interface FeedbackDeps {
  /** The instance's own inbox: feedback counts only on its messages. */
  inboxId: () => string;
  /** Its owner's inbox: whose feedback is the owner's. */
  ownerId: () => string | undefined;
  /** A message by id from the instance's XMTP database. */
  lookup: (messageId: string) => AgentMessage | undefined;
  /**
   * `inboxId`'s 👍 or 👎 on its own message `messageId` added (1) or taken back (-1): for its daily counts,
   * which count each person, message and signal once (agent/state/signals.ts).
   */
  reacted?: (r: { inboxId: string; messageId: string; signal: "up" | "down" }, by: 1 | -1) => void;
  log: Logger;
}

/**
 * Reads feedback in the instance's conversation; the instance decides who it
 * learns from (people and principals) and saves the memory.
 */
export class FeedbackReader {
  constructor(private readonly deps: FeedbackDeps) {}

  /** One of its own text messages in `group`, by id. */
  private ownAnswer(group: AgentGroup, messageId: string): AnswerRef | undefined {
    const m = this.deps.lookup(messageId);
    if (!m || m.conversationId !== group.id || m.senderInboxId !== this.deps.inboxId()) return undefined;
    const text = readableText(m);
    return text === undefined ? undefined : { messageId: m.id, text };
  }

  /**
   * A 👍 or 👎 on one of its own messages adds a training entry tied to it;
   * taking the reaction back removes that entry. The owner's 👍 on a
   * member's message confirms the member's versions learned from it
   * (memory/provenance.ts `confirm`; taking it back does not undo that).
   * Other reactions, and reactions to others' messages, change nothing.
   * Memory is read as `group`'s conversation reads it, within `walls`
   * (memory/walls.ts): a 👍 naming a message of another conversation
   * confirms nothing there. True when memory changed.
   */
  onReaction(group: AgentGroup, memory: Memory, m: AgentMessage, walls: Walls): boolean {
    if (!isReaction(m)) return false;
    const answer = this.reactedTo(group, m);
    const learned = recordReaction(memory, { ...walls, conversationId: group.id }, m, answer, this.deps.ownerId());
    this.heard(m, learned);
    return learned !== undefined && learned.changed > 0;
  }

  /** The agent's own message in `group` a 👍 or 👎 `m` is on; none for any other reaction or message. */
  reactedTo(group: AgentGroup, m: ReactionMessage): AnswerRef | undefined {
    if (!reactionSignal(m.content.content)) return undefined;
    return this.ownAnswer(group, m.content.reference);
  }

  /** A reaction learned (`recordReaction`): logged, and a 👍 or 👎 on its own message counted for the day. */
  heard(m: AgentMessage, learned: ReactionLearned | undefined): void {
    if (!learned) return;
    if (learned.confirmed !== undefined) {
      this.deps.log.info("the owner confirmed a member's version", { confirmed: learned.confirmed });
      return;
    }
    const { messageId, signal, by, changed } = learned;
    this.deps.reacted?.({ inboxId: m.senderInboxId, messageId, signal }, by);
    if (by === -1) this.deps.log.info("reaction taken back", { messageId, signal, removed: changed });
    else this.deps.log.info("reaction learned", { messageId, signal, added: changed });
  }

  /**
   * The agent's message a text corrects, if it does: the message it replies
   * to (when that is the agent's and the reply reads as a correction), or,
   * for a text that starts like a correction, the agent's latest message
   * among the CORRECTION_WINDOW text messages before it.
   */
  async correctionTarget(group: AgentGroup, m: TextMessage): Promise<AnswerRef | undefined> {
    if (m.replyTo) {
      const answer = this.ownAnswer(group, m.replyTo);
      return answer && replyCorrects(m.content) ? answer : undefined;
    }
    if (!looksLikeCorrection(m.content)) return undefined;
    const texts = (await this.saidBefore(group, m))?.slice(0, CORRECTION_WINDOW);
    if (!texts) return undefined;
    const latest = texts.find((t) => t.message.senderInboxId === this.deps.inboxId());
    if (!latest) return undefined;
    const answer: AnswerRef = { messageId: latest.message.id, text: latest.text };
    return looksLikeCorrection(m.content, answer.text.trim().endsWith("?")) ? answer : undefined;
  }

  /**
   * The members' versions an owner's "that's right" confirms (memory/provenance.ts):
   * only as a reply, bound to the message it replies to: the disputing
   * entries learned from that message (the member's correction), or said
   * back by it when it is the agent's answer. A confirmation that replies to
   * nothing confirms nothing: a bare "yes" may be about anything said
   * lately, and a member can arrange what was said lately. None for
   * anything but a confirmation. `view`: the memory of `group`'s
   * conversation (memory/walls.ts).
   */
  confirmationTargets(group: AgentGroup, view: Memory, m: TextMessage): string[] {
    return confirmationTargetsOf(view, m, this.repliedTo(group, m));
  }

  /**
   * What an owner's "use this in all my conversations" marks as a reply
   * (teaching.ts): the facts of `view` the agent's answer said back, when it
   * replies to one of the agent's messages in `group`; else the entries
   * learned from the message it replies to. Nothing for a text that replies
   * to nothing. `view`: the memory of `group`'s conversation (memory/walls.ts).
   */
  shareTargets(group: AgentGroup | undefined, view: Memory, m: TextMessage): MemoryEntry[] {
    return shareTargetsOf(view, m, group && this.repliedTo(group, m));
  }

  /** The agent's own message in `group` that `m` replies to, if it replies to one. */
  repliedTo(group: AgentGroup, m: TextMessage): AnswerRef | undefined {
    return m.replyTo ? this.ownAnswer(group, m.replyTo) : undefined;
  }

  /**
   * The text messages said in `group` before `m`, newest first (of the 20
   * messages before it), each with its text; undefined, and logged, when the
   * group cannot be read.
   */
  private async saidBefore(
    group: AgentGroup,
    m: TextMessage,
  ): Promise<{ message: AgentMessage; text: string }[] | undefined> {
    let before: AgentMessage[];
    try {
      before = await group.messages({
        sentBeforeNs: m.sentAtNs,
        limit: 20,
        direction: DESCENDING as never,
        contentTypes: SAID_TYPES,
      });
    } catch (err) {
      this.deps.log.warn("could not read what a correction refers to", { messageId: m.id, err });
      return undefined;
    }
    return before.flatMap((b) => {
      const text = b.id === m.id ? undefined : readableText(b);
      return text === undefined ? [] : [{ message: b, text }];
    });
  }
}

/**
 * After a correction was learned: its training entry, tied to the corrected
 * message, and the facts it supersedes taken out, those its teller may take
 * out (memory/provenance.ts); the others stay, and the teller's version of them is
 * marked as disputing them. The owner's correction that says a fact a
 * member taught, in its own words, makes it the owner's. `facts` is what learning found in it (added or
 * already known); `role` is the teller's; `messageId` the correction's. All
 * of it `here`, the correction's conversation: what is read there alone is
 * superseded, disputed or confirmed, and the entry is recorded there.
 */
export function recordCorrection(
  memory: Memory,
  here: Here,
  answer: AnswerRef,
  correction: string,
  from: string,
  facts: readonly NewEntry[],
  role: Role = "member",
  messageId?: string,
): { added: number; superseded: number; disputed?: number; confirmed?: number } {
  const confirmed = role === "owner" ? confirmSaid(memory, here, correction, from).length : 0;
  const plan = planCorrection(supersededBy(answer.text, memoryHere(memory, here), facts), from, role);
  const superseded = memory.remove(plan.remove.map((e) => e.id));
  const disputed = markDisputes(memoryHere(memory, here), facts, from, plan.dispute);
  const entry: NewEntry = {
    ...feedbackEntry("correction", answer, from, correction),
    role,
    conversationId: here.conversationId,
    ...(messageId ? { messageId } : {}),
  };
  const added = memory.add([entry], memoryHere(memory, here).entries);
  return {
    added: added.length,
    superseded: superseded.length,
    ...(disputed ? { disputed } : {}),
    ...(confirmed ? { confirmed } : {}),
  };
}

/** What a confirmation bound to a reply confirms (FeedbackReader.confirmationTargets), given `answer`: the agent's own message it replies to, if it does. */
export function confirmationTargetsOf(view: Memory, m: TextMessage, answer: AnswerRef | undefined): string[] {
  const pending = view.entries.filter((e) => e.disputes?.length);
  if (!m.replyTo || pending.length === 0 || !isConfirmation(m.content)) return [];
  const said = answer ? answerSources(answer.text, view).filter((e) => e.disputes?.length) : [];
  if (said.length > 0) return said.map((e) => e.id);
  return pending.filter((e) => e.messageId === m.replyTo).map((e) => e.id);
}

/** What "use this in all my conversations" marks as a reply (FeedbackReader.shareTargets), given the agent's own message it replies to. */
export function shareTargetsOf(view: Memory, m: TextMessage, answer: AnswerRef | undefined): MemoryEntry[] {
  if (!m.replyTo) return [];
  if (answer) return answerSources(answer.text, view);
  return view.entries.filter((e) => e.messageId === m.replyTo && !e.feedback);
}

/**
 * What a reaction did to memory (`recordReaction`): the owner's 👍 confirmed members' versions (`confirmed`), or a
 * 👍 or 👎 on the agent's own message was added (`by` 1) or taken back (-1); `changed`: entries changed.
 */
export type ReactionLearned =
  | { confirmed: number; changed: number }
  | { confirmed?: undefined; messageId: string; signal: "up" | "down"; by: 1 | -1; changed: number };

/**
 * A reaction's rules (FeedbackReader.onReaction), on `memory` read `here`: the owner's 👍 on a member's correction
 * confirms the version learned from that message; else a 👍 or 👎 on `answer` (the agent's own message it is on,
 * looked up) adds its training entry, and taking it back removes the entry that person's reaction left. Nothing for
 * any other reaction.
 */
export function recordReaction(
  memory: Memory,
  here: Here,
  m: ReactionMessage,
  answer: AnswerRef | undefined,
  ownerId: string | undefined,
): ReactionLearned | undefined {
  const reaction = m.content;
  const signal = reactionSignal(reaction.content);
  const entry = signal && answer && feedbackEntry(signal, answer, m.senderInboxId);
  if (signal === "up" && reaction.action === REACTION_ADDED && m.senderInboxId === ownerId) {
    // The owner's 👍 on a member's correction confirms the version learned from that message, and nothing else.
    const versions = memoryHere(memory, here).entries.filter(
      (e) => e.disputes?.length && e.messageId === reaction.reference,
    );
    const confirmed = confirm(
      memory,
      here,
      versions.map((e) => e.id),
      m.senderInboxId,
    ).length;
    if (confirmed > 0) return { confirmed, changed: confirmed };
  }
  if (!signal || !answer || !entry) return undefined;
  if (reaction.action === REACTION_REMOVED) {
    const undone = memoryHere(memory, here).entries.filter(
      (e) => e.feedback?.messageId === answer.messageId && e.feedback.signal === signal && e.from === m.senderInboxId,
    );
    memory.remove(undone.map((e) => e.id));
    return { messageId: answer.messageId, signal, by: -1, changed: undone.length };
  }
  if (reaction.action !== REACTION_ADDED) return undefined;
  const added = memory.add(
    [
      {
        ...entry,
        role: memberRole(ownerId, m.senderInboxId),
        conversationId: here.conversationId,
        messageId: m.id,
      },
    ],
    memoryHere(memory, here).entries,
  );
  return { messageId: answer.messageId, signal, by: 1, changed: added.length };
}
