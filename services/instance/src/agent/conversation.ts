// The agent in its conversation: it listens to its group's stream, catches
// up on what came while it was not listening, and handles each message in
// its turn (the `turns` queue: the owner's first, each member a few
// waiting at most, turn-queue.ts): it gathers the facts, plan.ts plans what to
// do, and here the plan is carried out in order, with the I/O (forget, find
// what a text corrects, the turn or the busy notice, learning). Whom it
// answers and what the model is given are policy.ts's; how an answer goes
// out (a reply, markdown, thinking and typing) is voice.ts's.
// What it holds is its own: its conversation (state.json: who is who, how
// far it has read), its group while it listens, the messages it handled,
// its pace (plan.ts); the other rooms read them, or ask (begin, reset,
// forget).

import { failedPrecondition } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { withRetriedSends } from "../platform/sends.js";
import type { HistoryLine, InboundTextTurn, LlmProvider } from "../model/turn.js";
import { withoutAddress } from "../memory/store.js";
import { FILES, type Workspace } from "../platform/workspace.js";
import { withReactionsSince, type AnswerRef, type FeedbackReader } from "../memory/feedback.js";
import type { PatternAgent } from "../memory/patterns.js";
import type { AgentToolbox } from "../tools/toolbox.js";
import {
  asTextMessage,
  isActions,
  isIntent,
  isReaction,
  isText,
  othersJoined,
  profilesIn,
  REACTION_ADDED,
  SAID_TYPES,
  type AgentGroup,
  type AgentMessage,
  type TextMessage,
} from "../platform/xmtp.js";
import { historyLines, toAnswerAfterGap, type Heard, type Room, type Said } from "./policy.js";
import { BUSY_NOTICE, LLM_LIMITS, noticeDue, spend, type LlmLimits, type Refusal } from "./budget.js";
import {
  NO_PACE,
  planArrival,
  planMessage,
  planText,
  type Arriving,
  type Message,
  type MessagePlan,
  type Pace,
  type TextPlan,
} from "./plan.js";
import type { AgentMemory } from "./agent-memory.js";
import { takeTurn } from "./answer.js";
import type { ContactBook, OpenRequest } from "./planning.js";
import { askToSave } from "./address-book-requests.js";
import { applyProfiles, shownNames } from "./people.js";
import { forgetSender, learn } from "./learning.js";
import type { AgentLife } from "./life.js";
import type { OutsideWords } from "./outside-words.js";
import type { Turns } from "./serial.js";
import type { Settings } from "./settings.js";
import { DONE_AFTER_KEPT, isDone, markDone } from "./read-mark.js";
import type { AgentSignals } from "./signals.js";
import { standingOf, TEXTS_DROPPED, TOO_MANY_WAITING } from "./turn-queue.js";
import type { ConversationState, InstanceDeps } from "./types.js";
import type { Voice } from "./voice.js";

/** SortDirection.Descending (a const enum of the bindings). */
const DESCENDING = 1 as never;

/** What the conversation uses of its agent (agent.ts): the rooms it reads, and asks to change. */
export interface ConversationAgent {
  readonly deps: InstanceDeps;
  readonly log: Logger;
  readonly ws: Workspace;
  /** The agent as the host's pattern exchange knows it. */
  readonly self: PatternAgent;
  readonly turns: Turns;
  readonly life: AgentLife;
  readonly settings: Settings;
  readonly memory: AgentMemory;
  readonly toolbox: AgentToolbox;
  readonly voice: Voice;
  readonly feedback: FeedbackReader;
  readonly outsideWords: OutsideWords;
  readonly llm: LlmProvider;
  readonly signals: AgentSignals;
  readonly openRequest: OpenRequest;
  contacts(): ContactBook | undefined;
}

/** Message ids it remembers having handled (a stream and a catch-up may both deliver one). */
const HANDLED_KEPT = 1000;

/** The newest messages past its read position a catch-up reads (and DONE_AFTER_KEPT more, which may be done already). */
const CATCH_UP_READS = 100;

/** What holds its read position while a catch-up reads (its messages are not queued yet): keys of `waiting`, one a catch-up. */
const CATCHING_UP = "\0catching up ";

export class Conversation {
  /** Where it talks, who is who there and how far it has read: state.json and its copy. */
  private convo: ConversationState | undefined;
  /** Its group while it listens there. */
  private listening: AgentGroup | undefined;
  private stream: { end(): unknown } | undefined;
  private readonly handled = new Set<string>();
  /**
   * The send times of messages queued and not done yet (waiting, running or
   * parked), by id: its read position stays before them (read-mark.ts).
   */
  private readonly waiting = new Map<string, bigint>();
  /** Catch-ups begun: each holds its read position under a key of its own (a reconnect's may overlap a start's). */
  private catchUps = 0;
  /** Its agent chain, the model calls of the last minute, when it last answered and last said it was busy (plan.ts). */
  private pace: Pace = NO_PACE;
  /** Members of its group, itself included; counted again when the group changes. */
  private memberCount: number | undefined;
  /** When it last told each member it dropped a message of theirs (TOO_MANY_WAITING), ms, by inbox id. */
  private readonly dropNoticeAt = new Map<string, number>();
  /** When it last said it dropped texts to its number (TEXTS_DROPPED), ms. */
  private textsDroppedAt: number | undefined;

  /** Says its own profile again (profile.ts): set by its instance; called when others join its group. */
  onOthersJoined: (() => Promise<void>) | undefined;

  constructor(private readonly agent: ConversationAgent) {}

  /** Its conversation (none before a join, and after a Release). */
  get current(): Readonly<ConversationState> | undefined {
    return this.convo;
  }

  /** Its group while it listens there (none while it sleeps, stops or leaves). */
  get group(): AgentGroup | undefined {
    return this.listening;
  }

  /**
   * Members of its conversation now, itself included, the group synced first
   * so that a join or a leave just made counts (the claims service asks
   * before it sends another agent there: docs/claims.md, "A full conversation").
   */
  async countMembers(): Promise<number> {
    const group = this.listening;
    if (!this.convo || !group) throw failedPrecondition("the instance is in no conversation");
    await group.sync();
    return (await group.members()).length;
  }

  /** Members' profile names by inbox id, as they may be shown (people.ts). */
  get names(): Readonly<Record<string, string>> {
    const config = this.agent.settings.config;
    return shownNames(this.convo?.names ?? {}, { ownerId: config?.ownerId, agentName: config?.agentName ?? "" });
  }

  /** state.json as its workspace has it (a start): kept, and returned. */
  async load(): Promise<ConversationState | undefined> {
    this.convo = await this.agent.ws.readJson<ConversationState>(FILES.state);
    return this.convo;
  }

  /** A state.json read and checked by the caller (a dormant start). */
  restore(convo: ConversationState): void {
    this.convo = convo;
  }

  /** Joined (claim.ts): state.json written and kept, then it listens there. */
  async begin(convo: ConversationState, group: AgentGroup): Promise<void> {
    await this.agent.ws.writeJson(FILES.state, convo);
    this.convo = convo;
    await this.listen(group);
  }

  /** A new claim (Configure): no conversation of an earlier one. */
  async reset(): Promise<void> {
    await this.agent.ws.remove(FILES.state);
    this.convo = undefined;
  }

  /** Lets go of its group (a Release, a stop, a sleep): what it says from now on goes nowhere. */
  letGo(): void {
    this.listening = undefined;
  }

  /** A Release: no conversation, no group, nothing handled (state.json goes with the claim's files). */
  forget(): void {
    this.convo = undefined;
    this.listening = undefined;
    this.handled.clear();
    this.waiting.clear();
    this.dropNoticeAt.clear();
    this.textsDroppedAt = undefined;
  }

  /** Who is who, as policy.ts needs it. */
  private room(): Room {
    const config = this.agent.settings.config;
    const convo = this.convo;
    return {
      self: this.agent.life.inboxId,
      agentName: config?.agentName ?? "",
      ownerId: config?.ownerId,
      creatorInboxId: convo?.creatorInboxId,
      agents: convo?.agents ?? [],
    };
  }

  /** After a restart or a wake: find its conversation again and answer what came in meanwhile. */
  async resume(): Promise<void> {
    const convo = this.convo;
    if (!convo) throw new Error(`instance ${this.agent.life.inboxId} has no conversation to resume`);
    const client = this.agent.life.mustClient();
    let group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    if (!group) {
      await client.conversations.sync();
      group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    }
    if (!group) throw new Error(`conversation ${convo.conversationId} is gone from the instance's XMTP database`);
    await this.listen(group);
  }

  /** Streams its group and catches up: from now on it is CLAIMED, answering there. */
  async listen(group: AgentGroup): Promise<void> {
    this.memberCount = undefined;
    const agent = this.agent;
    if (agent.life.stopped) return;
    // What it says there survives the network's rate limit, in order (platform/sends.ts).
    group = withRetriedSends(group, agent.log);
    this.listening = group;
    const stream = await group.stream({
      retryDelay: agent.deps.streamRetryMs ?? 2_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      onError: (err) => agent.log.warn("conversation stream error", { err }),
      // A restarted stream syncs, then subscribes from there: what came in
      // meanwhile is in the local database, not in the stream. Read it.
      onRestart: () => {
        agent.log.info("conversation stream restarted");
        void this.catchUp(group).catch((err: unknown) => agent.log.warn("catching up failed", { err }));
      },
    });
    this.stream = stream;
    agent.life.claimed();
    agent.deps.patterns?.wake(agent.self);
    agent.toolbox.watchMail();
    void (async () => {
      try {
        for await (const m of stream) {
          if (m) this.enqueue(asTextMessage(m), true);
        }
      } catch (err) {
        if (!agent.life.stopped) agent.log.error("conversation stream ended", { err });
      }
    })();
    await this.catchUp(group);
  }

  async endStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) await Promise.resolve(s.end()).catch(() => undefined);
  }

  /** Forgets which messages it handled (a Release, a sleep: its next conversation or wake reads from its cursor). */
  forgetHandled(): void {
    this.handled.clear();
    this.waiting.clear();
  }

  /** Messages in its group past its read position it has not handled, its own excepted. */
  async unhandled(group: AgentGroup): Promise<number> {
    const convo = this.convo;
    if (!convo) return 0;
    const sent = await group.messages({
      sentAfterNs: BigInt(convo.lastSeenNs),
      limit: CATCH_UP_READS + DONE_AFTER_KEPT,
      direction: DESCENDING,
    });
    return sent.filter(
      (m) => m.senderInboxId !== this.agent.life.inboxId && !this.handled.has(m.id) && !isDone(convo, m),
    ).length;
  }

  /**
   * What is past its read position and not done (a host restart or a wake:
   * what came meanwhile, and what was still waiting for its turn; the
   * moment between the join and the stream; a stream reconnect): learn from
   * all of it, answer only the newest text of each person or principal
   * (policy.ts toAnswerAfterGap).
   */
  private async catchUp(group: AgentGroup): Promise<void> {
    const convo = this.convo;
    if (this.listening !== group || this.agent.life.stopped || !convo) return;
    const since = BigInt(convo.lastSeenNs);
    // Until what it reads is queued, its read position must not pass it (the stream may be handling newer ones).
    const hold = `${CATCHING_UP}${++this.catchUps}`;
    this.waiting.set(hold, since + 1n);
    try {
      const read = { sentAfterNs: since, limit: CATCH_UP_READS + DONE_AFTER_KEPT, direction: DESCENDING };
      const sent = (await group.messages(read)).reverse();
      const recent = await group.messages({ limit: 100, direction: DESCENDING });
      const missed = withReactionsSince(sent, recent, since)
        .map(asTextMessage)
        .filter((m) => !this.handled.has(m.id) && !isDone(convo, m));
      const heard = missed.map((m) => ({ m, ...heardOf(m) }));
      const toAnswer = new Set([...toAnswerAfterGap(this.room(), heard)].map((h) => h.m));
      for (const m of missed) this.enqueue(m, toAnswer.has(m));
    } finally {
      this.waiting.delete(hold);
    }
  }

  /** `m` done (handled, dropped, or taken by a waiting question): its read position moves if it may (read-mark.ts). True when it did. */
  private done(m: AgentMessage): boolean {
    this.waiting.delete(m.id);
    const convo = this.convo;
    if (!convo) return false;
    const mark = markDone(convo, m, this.waiting.values());
    if (mark === convo) return false;
    convo.lastSeenNs = mark.lastSeenNs;
    if (mark.doneAfter) convo.doneAfter = mark.doneAfter;
    else delete convo.doneAfter;
    return true;
  }

  /**
   * A message arrives (the stream, a catch-up): the owner's answer to a
   * waiting tool call goes to it now (plan.ts planArrival), and so do the
   * ids of anyone else's buttons; anything else waits for its turn, the
   * owner's ahead of members' (turn-queue.ts), or is dropped when its
   * sender already has their share waiting. `mayAnswer`: false for what a
   * catch-up only learns from.
   */
  private enqueue(m: AgentMessage, mayAnswer: boolean): void {
    const agent = this.agent;
    if (this.handled.has(m.id)) return;
    agent.life.active();
    const arrival = planArrival(arrivingOf(m), {
      self: agent.life.inboxId,
      ownerId: agent.settings.config?.ownerId,
      mayAnswer,
    });
    if (arrival.kind === "offer" && agent.toolbox.answer(arrival.answer)) {
      this.handled.add(m.id);
      // Done now; state.json says so with the next message handled.
      this.done(m);
      return;
    }
    if (arrival.kind === "buttons") agent.toolbox.buttonsSeen(arrival.ids);
    this.handled.add(m.id);
    // The oldest goes first: a Set keeps the order ids were added in.
    for (const oldest of this.handled) {
      if (this.handled.size <= HANDLED_KEPT) break;
      this.handled.delete(oldest);
    }
    const room = this.room();
    const standing = standingOf(m.senderInboxId, room);
    // Only what may become a turn counts against a member's share: a reaction or a catch-up's older message is quick.
    const counted = standing === "member" && mayAnswer && isText(m);
    const turn = agent.turns.offer(() => this.handle(m, mayAnswer).finally(() => this.waiting.delete(m.id)), {
      standing,
      sender: m.senderInboxId,
      counted,
    });
    if (turn) {
      this.waiting.set(m.id, m.sentAtNs);
      turn.catch((err: unknown) => agent.log.error("handling a message failed", { messageId: m.id, err }));
      return;
    }
    // Dropped is done: it must not hold the read position back (state.json says so with the next message handled).
    this.done(m);
    agent.log.warn("message dropped: its sender has their share of the queue waiting", {
      senderInboxId: m.senderInboxId,
    });
    const now = Date.now();
    if (!noticeDue(this.dropNoticeAt.get(m.senderInboxId), now)) return;
    this.dropNoticeAt.set(m.senderInboxId, now);
    void agent.voice
      .replyTo(TOO_MANY_WAITING, { id: m.id, senderInboxId: m.senderInboxId })
      .catch((err: unknown) => agent.log.warn("could not say a message was dropped", { err }));
  }

  /** One message in its turn: who is who from its profiles, the facts, the plan (plan.ts), the plan carried out, read up to here. */
  private async handle(m: AgentMessage, mayAnswer: boolean): Promise<void> {
    const agent = this.agent;
    const convo = this.convo;
    const group = this.listening;
    if (!convo || !group || agent.life.stopped) return;
    // Who is who: only a sender's own profile counts (people.ts).
    let changed = applyProfiles(convo, profilesIn(m), agent.life.inboxId);
    if (m.contentType?.typeId === "group_updated") this.memberCount = undefined;
    if (othersJoined(m, agent.life.inboxId) && this.onOthersJoined)
      void this.onOthersJoined().catch((err: unknown) => agent.log.warn("profile not said again", { err }));
    this.memberCount ??= (await group.members()).length;
    const { plan, pace } = planMessage(messageOf(m), {
      ...this.room(),
      members: this.memberCount,
      participation: agent.settings.participation,
      mayAnswer,
      learnsByRule: agent.llm.kind === "offline",
      callsPerMinute: this.limits.callsPerMinute,
      now: Date.now(),
      pace: this.pace,
    });
    this.pace = pace;
    await this.carryOut(plan, m, group);
    if (this.convo === convo && this.done(m)) changed = true;
    if (changed && this.convo === convo) await agent.ws.writeJson(FILES.state, convo);
  }

  /** What plan.ts planned for `m`, done in its order. */
  private async carryOut(plan: MessagePlan, m: AgentMessage, group: AgentGroup): Promise<void> {
    const agent = this.agent;
    switch (plan.kind) {
      case "ignore":
        return;
      case "quiet":
        // Its owner's participation says not this one: no turn, no learning, no model call.
        agent.log.debug("not answered: its participation", { mode: agent.settings.participation.mode });
        return;
      case "skip":
        agent.log.debug("message from another agent not answered", {
          senderInboxId: m.senderInboxId,
          agentChain: this.pace.agentChain,
        });
        return;
      case "reaction": {
        // Not a turn; a 👍 or 👎 on its own message is learned.
        const memory = agent.memory.current;
        if (memory && agent.feedback.onReaction(group, memory, m)) await agent.memory.save();
        return;
      }
      case "text":
        return this.carryOutText(plan, m as TextMessage, group);
    }
  }

  /** A text's steps: forget, find what it corrects, answer or refuse, learn. */
  private async carryOutText(plan: TextPlan, m: TextMessage, group: AgentGroup): Promise<void> {
    const agent = this.agent;
    const config = agent.settings.config;
    const memory = agent.memory.current;
    if (!config || !memory) return; // released while the message waited for its turn
    // What it learns from, and reads a correction or a confirmation in: the text without the name it is said to.
    const said = { ...m, content: withoutAddress(m.content, config.agentName) };
    // The owner's saves to the address book, each asked apart while the turn goes on (address-book-requests.ts).
    if (plan.role === "owner" && plan.answer.kind !== "none") askToSave(agent, said);
    const forgot = plan.forget ? await forgetSender(agent, memory, m) : undefined;
    const correcting = plan.correction ? await agent.feedback.correctionTarget(group, said) : undefined;
    agent.signals.spoke(m.senderInboxId, correcting !== undefined);
    const { answer } = plan;
    if (answer.kind === "turn") await this.answer(group, { m, correcting, forgot });
    else if (answer.kind === "refused") {
      this.budgetSpent("answer", answer.refused);
      if (answer.notice) await this.busy();
    }
    if (plan.learn === "none") return;
    const byModel = plan.learn === "by-model" ? this.charge("learning", m.senderInboxId, plan.role === "owner") : true;
    await learn(agent, memory, {
      m: said,
      role: plan.role,
      model: config.model,
      limits: this.limits,
      correcting,
      byModel,
      group: this.listening,
    });
  }

  /** A turn that answers `m` or a text to its number (answer.ts), with the conversation read up to `m`. */
  private async answer(
    group: AgentGroup,
    about: {
      m?: TextMessage;
      inboundText?: InboundTextTurn;
      correcting?: AnswerRef | undefined;
      forgot?: number | undefined;
    },
  ): Promise<void> {
    const config = this.agent.settings.config;
    const memory = this.agent.memory.current;
    if (!config || !memory) return;
    // Whose message the turn's further rounds are charged to, as its first was (plan.ts).
    const by = about.inboundText?.from ?? about.m?.senderInboxId ?? "";
    const owner = !about.inboundText && by === config.ownerId;
    await takeTurn(this.agent, {
      group,
      config,
      memory,
      // An outsider's turn reads none of the conversation: its one text back cannot carry what was said here.
      history: about.inboundText ? [] : await this.history(group, about.m),
      names: this.names,
      limits: this.limits,
      nextCompletion: () => this.charge("another round of a turn", by, owner),
      ...about,
    });
  }

  /** What it may spend on the model: its host's limits. */
  private get limits(): LlmLimits {
    return this.agent.deps.llmLimits ?? LLM_LIMITS;
  }

  /**
   * A model call charged when it is made, for a message of `by`: learning's (after the answer) or a turn's further
   * round. Whether it fits the minute's budget, which it then takes a call of.
   */
  private charge(what: "learning" | "another round of a turn", by: string, owner: boolean): boolean {
    const r = spend(this.pace.spent, { by, owner }, Date.now(), this.limits.callsPerMinute);
    this.pace = { ...this.pace, spent: r.spent };
    if (!r.allowed) this.budgetSpent(what, r.refused);
    return r.allowed;
  }

  private budgetSpent(what: "answer" | "learning" | "text" | "another round of a turn", refused: Refusal): void {
    this.agent.log.warn(`${what} skipped: the model budget is spent`, {
      refused,
      perMinute: this.limits.callsPerMinute,
    });
  }

  /** An answer refused for the budget, when the plan says the notice is due (BUSY_NOTICE): said without a model call. */
  private async busy(): Promise<void> {
    await this.agent.voice
      .say(BUSY_NOTICE)
      .catch((err: unknown) => this.agent.log.warn("could not say it is busy", { err }));
  }

  /** A text to its number (the host's SMS webhook), in a turn of its own: answered, or passed on (plan.ts planText). */
  inboundText(t: InboundTextTurn): void {
    const agent = this.agent;
    const turn = agent.turns.offer(
      async () => {
        const group = this.listening;
        if (!group || !agent.settings.config || agent.life.stopped) return;
        agent.log.info("text received", { chars: t.text.length });
        const { plan, pace } = planText(t, {
          callsPerMinute: this.limits.callsPerMinute,
          now: Date.now(),
          pace: this.pace,
        });
        this.pace = pace;
        if (plan.kind === "turn") return this.answer(group, { inboundText: t });
        // Over the budget it is passed on as it came, without the model (and never answered).
        this.budgetSpent("text", plan.refused);
        await agent.outsideWords.add(await agent.voice.say(plan.say));
      },
      { standing: "outsider", sender: t.from, counted: true },
    );
    if (turn) {
      turn.catch((err: unknown) => agent.log.error("handling a text failed", { err }));
      return;
    }
    // Outsiders' share of the queue is full: dropped, and said once in a while (never to the outsider: a text costs).
    agent.log.warn("text dropped: texts to its number have their share of the queue waiting");
    const now = Date.now();
    if (!noticeDue(this.textsDroppedAt, now)) return;
    this.textsDroppedAt = now;
    void agent.voice
      .say(TEXTS_DROPPED)
      .catch((err: unknown) => agent.log.warn("could not say texts were dropped", { err }));
  }

  /** The recent conversation, oldest first; up to `m` (and ending with it) when given. */
  async history(group: AgentGroup, m?: TextMessage): Promise<HistoryLine[]> {
    // What people said only: its own receipts and thinking statuses would take the places of texts.
    const recent = (
      await group.messages({
        limit: this.agent.deps.historyLimit ?? 20,
        direction: DESCENDING,
        contentTypes: SAID_TYPES,
      })
    )
      .reverse()
      .map(asTextMessage);
    return historyLines(
      this.room(),
      this.names,
      recent.map(saidOf),
      m ? { ...saidOf(m), text: m.content } : undefined,
      await this.agent.outsideWords.ids(),
    );
  }
}

/**
 * A message as planArrival reads it: a text's reply, a reaction added, a tap
 * on a button (what may answer the owner's question, tools/approval.ts), or
 * buttons (whose ids may copy the question's).
 */
function arrivingOf(m: AgentMessage): Arriving {
  if (isIntent(m))
    return { senderInboxId: m.senderInboxId, tap: { buttons: m.content.id, action: m.content.actionId } };
  if (isActions(m))
    return { senderInboxId: m.senderInboxId, buttons: [m.content.id, ...m.content.actions.map((a) => a.id)] };
  if (isReaction(m))
    return m.content.action === REACTION_ADDED
      ? { senderInboxId: m.senderInboxId, reaction: { to: m.content.reference, emoji: m.content.content } }
      : { senderInboxId: m.senderInboxId };
  const replyTo = (m as TextMessage).replyTo;
  return isText(m) && replyTo
    ? { senderInboxId: m.senderInboxId, reply: { to: replyTo, text: m.content } }
    : { senderInboxId: m.senderInboxId };
}

/** A message as planMessage reads it. */
function messageOf(m: AgentMessage): Message {
  return { ...heardOf(m), reaction: isReaction(m) };
}

/** A message as policy.ts reads it. */
function heardOf(m: AgentMessage): Heard {
  return {
    senderInboxId: m.senderInboxId,
    text: isText(m) ? m.content : undefined,
    replyToSender: (m as TextMessage).replyToSender,
  };
}

function saidOf(m: AgentMessage): Said {
  return { id: m.id, sentAtNs: m.sentAtNs, ...heardOf(m) };
}
