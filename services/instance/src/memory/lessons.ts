// What a message teaches its agent (docs/memory.md, "What a message
// teaches"; docs/instance.md, "Learning from feedback"): the one entry a
// message's path calls in memory, written thin. A reaction is learned in one
// call (`reaction`); a text in one call before its turn (`text`: what the
// sender taught forgotten when they ask, the answer of its own it corrects
// found), which returns what the turn needs and the learning that follows it
// (`learn`). Each call reads what the decision needs (the agent's own
// message a reaction or reply is about, the learning model's facts), has
// teaching.ts decide everything the message teaches as one value, applies it
// and saves memory once. What it teaches is teaching.ts's to say, with
// feedback.ts's and provenance.ts's rules. The conversation decides when
// (agent/conversation/plan.ts) and calls here. Everything learning reads of
// memory is what the message's conversation reads (memory/walls.ts): the
// learning model's prompt, what it knew already, what a correction
// supersedes or disputes, what the owner confirms or shares. Only "forget
// what you learned from me" reaches every entry: the sender's own.

import type { Logger } from "@convos-pool/kit/server";
import type { AnswerRef, FeedbackReader } from "./feedback.js";
import type { Memory, MemoryEntry, NewEntry } from "./store.js";
import { teachForget, teachReaction, teachText, textSays, type Teaching } from "./teaching.js";
import { memoryHere, type Here, type Walls } from "./walls.js";
import type { Role } from "../platform/roles.js";
import { isReaction, type AgentGroup, type AgentMessage, type TextMessage } from "../platform/xmtp.js";

/**
 * What a text teaches as the learning model reads it (the agent's provider, with its claim's model and limits),
 * given the memory of the text's conversation.
 */
export type AskModel = (asked: {
  memory: Memory;
  message: string;
  from: string;
  role: Role;
  correcting?: string;
}) => Promise<NewEntry[]>;

/** What the lessons use of their agent. */
export interface LessonsDeps {
  log: Logger;
  /** Reactions and corrections on its own messages. */
  feedback: FeedbackReader;
  /** Writes `memory` (the one a change was made on) to its workspace. */
  save(memory: Memory): Promise<void>;
  /** "Forget what you learned from me" was asked: for its daily counts. */
  forgetAsked(): void;
  /** Entries it learned from a text: for the host's pattern exchange. */
  learned(added: MemoryEntry[]): void;
}

/** A text's lesson: what its turn needs, and what the text teaches, learned after the turn. */
export interface TextLesson {
  /** How many entries the sender had it forget (when they asked). */
  forgot?: number | undefined;
  /** The answer of its own the text corrects. */
  correcting?: AnswerRef | undefined;
  /**
   * What the text teaches, recorded with who taught it (`role`,
   * conversation, message); a correction also leaves its entry and takes out
   * the fact it supersedes, if its teller may. The owner's word makes a
   * member's version the owner's. `ask`: the learning model, when its budget
   * allows; without it only a correction's own entry is recorded. `group`:
   * where an owner's "that's right" finds what it confirms. `walls`: whose
   * memory travels and where the home is (memory/walls.ts); the text's
   * conversation reads memory within them.
   */
  learn(how: LearnHow): Promise<void>;
}

/** How a text is learned from, once its turn is over (`TextLesson.learn`). */
export interface LearnHow {
  role: Role;
  ask?: AskModel | undefined;
  group: AgentGroup | undefined;
  walls: Walls;
}

export class Lessons {
  constructor(private readonly deps: LessonsDeps) {}

  /**
   * A reaction (not a turn): a 👍 or 👎 on its own message, or the owner's 👍 on a member's version (feedback.ts),
   * read in `group`'s conversation within `walls`: what it teaches (teaching.ts), applied.
   */
  async reaction(group: AgentGroup, memory: Memory, m: AgentMessage, walls: Walls): Promise<void> {
    if (!isReaction(m)) return;
    const { feedback } = this.deps;
    const answer = feedback.reactedTo(group, m);
    const taught = teachReaction(memory, { ...walls, conversationId: group.id }, m, answer);
    feedback.heard(m, taught.reaction);
    await this.apply(memory, taught);
  }

  /**
   * A text, before its turn: what the sender taught forgotten (`forget`:
   * provenance.ts `taughtBy`), the answer it corrects found (`correction`:
   * feedback.ts). `m` is the text without the name it is said to.
   */
  async text(
    group: AgentGroup,
    memory: Memory,
    m: TextMessage,
    asks: { forget: boolean; correction: boolean },
  ): Promise<TextLesson> {
    const forgot = asks.forget ? await this.forget(memory, m) : undefined;
    const correcting = asks.correction ? await this.deps.feedback.correctionTarget(group, m) : undefined;
    return { forgot, correcting, learn: (how) => this.learn(memory, m, correcting, how) };
  }

  /** Asked to forget what it learned from the sender: forgets what they taught, in every conversation; how much went. */
  private async forget(memory: Memory, m: TextMessage): Promise<number> {
    this.deps.forgetAsked();
    const taught = teachForget(memory, m.senderInboxId);
    await this.apply(memory, taught);
    this.deps.log.info("forgot what a member taught", { forgotten: taught.remove.length });
    return taught.remove.length;
  }

  /** After the turn: what the text says, the learning model asked about it, what it teaches (teaching.ts), applied. */
  private async learn(memory: Memory, m: TextMessage, correcting: AnswerRef | undefined, how: LearnHow): Promise<void> {
    const { role, ask } = how;
    const { log } = this.deps;
    // Where it learns, and all it reads of memory to learn: the text's conversation.
    const here: Here = { ...how.walls, conversationId: m.conversationId };
    const repliedTo = how.group && this.deps.feedback.repliedTo(how.group, m);
    const { said, replied } = textSays(memory, { m, role, here, repliedTo });
    let found: NewEntry[] = [];
    if (!ask && !correcting && replied.length === 0) return;
    try {
      if (ask && said.trim())
        found = await ask({
          memory: memoryHere(memory, here),
          message: said,
          from: m.senderInboxId,
          role,
          ...(correcting ? { correcting: correcting.text } : {}),
        });
    } catch (err) {
      log.warn("learning from a message failed", { err });
      if (!correcting && replied.length === 0) return;
    }
    const taught = teachText(memory, { m, role, here, correcting, found, repliedTo, grouped: how.group !== undefined });
    if (taught.invented > 0) log.warn("facts their message did not say: not learned", { count: taught.invented });
    if (taught.confirmed > 0) log.info("the owner confirmed a member's version", { confirmed: taught.confirmed });
    if (correcting && taught.corrected)
      log.info("correction learned", { messageId: correcting.messageId, ...taught.corrected });
    if (taught.shared > 0) log.info("the owner shared entries with all their conversations", { shared: taught.shared });
    const added = (await this.apply(memory, taught)).filter((e) => !e.feedback);
    if (added.length === 0) return;
    const kinds: Record<string, number> = {};
    for (const a of added) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
    log.info("learned", { added: kinds, total: memory.entries.length });
    this.deps.learned(added);
  }

  /** What a message teaches made memory's, and memory saved once when it changed; the entries added. */
  private async apply(memory: Memory, taught: Teaching): Promise<readonly MemoryEntry[]> {
    if (!taught.changed) return [];
    const added = memory.apply(taught);
    await this.deps.save(memory);
    return added;
  }
}
