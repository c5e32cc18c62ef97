// The agent in one of its conversations: it hears its group's messages from the
// agent's one stream (conversations.ts), catches
// up on what came while it was not listening, reads each message once as it
// arrives and queues it for its turn (plan.ts `arrive`; the `turns` queue:
// the owner's first, each member a few waiting at most, turns/queue.ts);
// what its arrival settles (the owner's answer to a question, a stop, a
// person's pause and the owner's resume) is done then, not queued. In
// its turn a message's facts are gathered here (how many members, its pace)
// and planned in one call (plan.ts planMessage, who is who from its
// profiles included), and the plan is carried out by carry-out.ts; then its
// read position moves (read-mark.ts). Whom it answers and what the model is
// given are policy.ts's; how an answer goes out is voice/'s.
// What it holds is its own: its conversation (who is who, how far it has
// read; its files are files.ts's), its group while it listens, the messages it handled,
// and what a turn there uses of this conversation only: its voice, an owner's
// open request, what phones shared here, words from outside (5.1 of the
// design). The agent's conversations are conversations.ts's; a turn here runs
// within this conversation (`turnIn`), so the agent's rooms reach these pieces.

import { AsyncLocalStorage } from "node:async_hooks";
import { failedPrecondition } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import { withRetriedSends } from "../../platform/sends.js";
import type { HistoryLine, InboundTextTurn } from "../../model/turn.js";
import type { Workspace } from "../../platform/workspace.js";
import { saveState, type ConversationState, type ConversationTools } from "./files.js";

export type { ConversationState };
import { withReactionsSince } from "../../memory/feedback.js";
import type { PatternAgent } from "../../memory/patterns.js";
import { asTextMessage, type AgentGroup, type AgentMessage, type TextMessage } from "../../platform/xmtp.js";
import { addressedTo, pausedByName, pauseSaying, tellsDropped, toAnswerAfterGap, type WhoIsWho } from "./policy.js";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { agentsOnArrival, arrive, heardOf, planMessage, type Read } from "./plan.js";
import { CarryOut, type CarryOutParts } from "./carry-out.js";
import { shownNames } from "./people.js";
import { conversationLines } from "./turn-read.js";
import { OutsideWords } from "../state/outside-words.js";
import { Voice } from "../voice/send.js";
import { OpenRequest } from "./choosing.js";
import { PhoneActs } from "../../connections/acts.js";
import { keptIn } from "../../connections/kept.js";
import { PhoneShares } from "../../connections/shares.js";
import type { AgentToolbox } from "../../tools/toolbox/toolbox.js";
import { DONE_AFTER_KEPT, isDone, markDone } from "./read-mark.js";
import { TOO_MANY_WAITING } from "../turns/queue.js";
import { Backlog, BUSY_ANSWER_SHORTLY, COULD_NOT_GET_TO_THIS, tooLate } from "../turns/backlog.js";
import { BUSY_NOTICE_EVERY_MS } from "./budget.js";
import { swiftReferenceToDate, type ConnectionPayload } from "@convos-pool/convos";

/** What people's phones send, and what agents ask of them (ConvosConnections): read, never a turn. */
const PHONE_TYPES = new Set([
  "connection_payload",
  "connection_invocation",
  "connection_invocation_result",
  "capability_request",
  "capability_request_result",
  "connection_event",
]);

/** SortDirection.Descending (a const enum of the bindings). */
const DESCENDING = 1 as never;

/** What the conversation uses of its agent (life/parts.ts): the rooms of the agent it reads, and asks to change. */
export interface ConversationParts extends CarryOutParts {
  readonly deps: CarryOutParts["deps"] & {
    /** The agent's stream's reconnect delay (conversations.ts); default 2 s. */
    readonly streamRetryMs?: number | undefined;
    /** The host's pattern exchange: told the agent listens again. */
    readonly patterns?: { wake(agent: PatternAgent): void } | undefined;
  };
  readonly log: Logger;
  readonly ws: Workspace;
  /** The agent as the host's pattern exchange knows it. */
  readonly self: PatternAgent;
  readonly toolbox: AgentToolbox;
  /** Its owner's direct conversation with it: what is the owner's alone is told there (voice/direct.ts). */
  readonly ownerLine: { tell(text: string): Promise<string | undefined> };
}

/** What a conversation asks of the agent's conversations (conversations.ts). */
export interface ConversationScope {
  /** The agent's one stream open and carrying `group`, which it hands this conversation's messages. */
  openStream(group: AgentGroup): Promise<void>;
}

/**
 * The conversation a turn runs in, with the agent's conversations it is one
 * of: one storage for every agent of the host, as turns/serial.ts's (an
 * AsyncLocalStorage per agent costs every promise of the host O(agents)).
 */
const turnIn = new AsyncLocalStorage<{ scope: ConversationScope; conversation: Conversation }>();

/** `job` as a turn of `c`: what the agent's rooms reach while it runs is `c`'s (conversations.ts `here`). */
export function within<T>(c: Conversation, job: () => Promise<T>): Promise<T> {
  return turnIn.run({ scope: c.scope, conversation: c }, job);
}

/** The conversation of the turn running now, when it is one of `scope`'s. */
export function turnRunningIn(scope: ConversationScope): Conversation | undefined {
  const running = turnIn.getStore();
  return running?.scope === scope ? running.conversation : undefined;
}

/** Message ids it remembers having handled (a stream and a catch-up may both deliver one). */
const HANDLED_KEPT = 1000;

/** The newest messages past its read position a catch-up reads (and DONE_AFTER_KEPT more, which may be done already). */
const CATCH_UP_READS = 100;

/** What holds its read position while a catch-up reads (its messages are not queued yet): keys of `waiting`, one a catch-up. */
const CATCHING_UP = "\0catching up ";

export class Conversation {
  /** Where it talks, who is who there and how far it has read: its state.json and its copy (none once it left). */
  private convo: ConversationState | undefined;
  /** How its words go out here: replies, markdown, thinking and typing, payments (voice/send.ts). */
  readonly voice: Voice;
  /** An owner's request here it did not carry out, open for the owner's yes here (choosing.ts). */
  readonly openRequest = new OpenRequest();
  /** What people's phones share with it here, each piece its sender's, kept across restarts (connections/shares.ts). */
  readonly phones: PhoneShares;
  /** What it asks of people's phones here (connections/acts.ts). */
  readonly phoneActs: PhoneActs;
  /** Its messages here that carry words from outside the conversation (outside-words.ts). */
  readonly outsideWords: OutsideWords;
  /** Its group while it listens there. */
  private listening: AgentGroup | undefined;
  private readonly handled = new Set<string>();
  /**
   * The send times of messages queued and not done yet (waiting, running or
   * parked), by id: its read position stays before them (read-mark.ts).
   */
  private readonly waiting = new Map<string, bigint>();
  /**
   * Messages waiting for their turn that a person said to the agent: what a
   * member's message waits behind (turns/backlog.ts). Chatter it was not
   * asked about, and other agents' words, go quickly and do not count; nor
   * does a busy notice go to an agent, whose answer to it would be chatter
   * for every other agent's queue.
   */
  private readonly asks = new Set<string>();
  /** Catch-ups begun: each holds its read position under a key of its own (a reconnect's may overlap a start's). */
  private catchUps = 0;
  /** The group's name as last read (groupName). */
  private lastGroupName = "";
  /** Members of its group by inbox id, itself included; read again when the group changes. */
  private members: ReadonlySet<string> | undefined;
  /** When it last told each member it dropped a message of theirs (TOO_MANY_WAITING), ms, by inbox id. */
  private readonly dropNoticeAt = new Map<string, number>();
  /** Members' messages waiting, and whom it told it is busy (turns/backlog.ts). */
  private readonly backlog = new Backlog(BUSY_NOTICE_EVERY_MS);
  /** Whether each member's newest profile to arrive says they are an agent, before its turn applies it (plan.ts agentsOnArrival). */
  private readonly announced = new Map<string, boolean>();

  /** Says its own profile again (face/profile.ts): set by the agent (face/agent.ts); called when others join its group. */
  onOthersJoined: (() => Promise<void>) | undefined;

  /** Each message's plan, carried out in its turn. */
  private readonly carryOut: CarryOut;

  constructor(
    private readonly agent: ConversationParts,
    /** The agent's conversations it is one of. */
    readonly scope: ConversationScope,
    convo?: ConversationState,
    /** Whether its tools act here: the owner's choice when they added it (the home: shared). */
    readonly tools: ConversationTools = "shared",
  ) {
    this.convo = convo;
    this.carryOut = new CarryOut(agent, this);
    this.voice = new Voice({
      group: () => (agent.status.stopped ? undefined : this.listening),
      log: agent.log,
    });
    this.outsideWords = new OutsideWords(agent.ws, () => this.convo?.conversationId);
    this.phones = new PhoneShares(
      keptIn(agent.ws, {
        conversationId: () => this.convo?.conversationId,
        key: () => agent.status.wallet?.phonesKey(),
        log: agent.log,
      }),
    );
    this.phoneActs = new PhoneActs({
      shares: this.phones,
      declared: () => agent.declaredConnections(),
      send: async (content) => {
        const group = agent.status.stopped ? undefined : this.listening;
        if (!group) throw new Error("not in a conversation");
        return group.send(content);
      },
      say: (text) => this.voice.say(text),
      self: () => agent.status.inboxId,
      // Who could carry out a write to a phone (connections/reach.ts): the members now, a join just made included.
      here: async () => {
        const group = this.listening;
        if (!group) throw new Error("not in a conversation");
        await group.sync();
        return { members: (await group.members()).map((m) => m.inboxId), agents: this.convo?.agents ?? [] };
      },
      log: agent.log,
    });
  }

  /** Its conversation's id (none once it left). */
  get id(): string | undefined {
    return this.convo?.conversationId;
  }

  /** Its conversation (none before a join, and after a Release). */
  get current(): Readonly<ConversationState> | undefined {
    return this.convo;
  }

  /**
   * Its group's name (the name Convos shows), read from the group while it
   * listens there and the last one read while it sleeps; "" in none. The host
   * reports it (ListInstances) so its owner's pages name the conversation.
   */
  get groupName(): string {
    const group = this.listening;
    if (group) {
      try {
        this.lastGroupName = group.name ?? "";
      } catch {
        // A client closing under it: what it read last stands.
      }
    }
    return this.convo ? this.lastGroupName : "";
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

  /** Lets go of its group (a Release, a stop, a sleep): what it says from now on goes nowhere. */
  letGo(): void {
    this.listening = undefined;
  }

  /** A Release, or it left: no conversation, no group, nothing handled, nothing of this conversation's people kept (its files go with it). */
  forget(): void {
    this.convo = undefined;
    this.listening = undefined;
    this.handled.clear();
    this.waiting.clear();
    this.asks.clear();
    this.dropNoticeAt.clear();
    this.announced.clear();
    this.carryOut.forget();
    this.openRequest.clear();
    // What people's phones shared here was theirs, for this conversation.
    this.phones.forget();
  }

  /** Who is who, as policy.ts needs it. */
  get who(): WhoIsWho {
    return this.whoIsWho();
  }

  private whoIsWho(): WhoIsWho {
    const config = this.agent.settings.config;
    const convo = this.convo;
    return {
      self: this.agent.status.inboxId,
      agentName: config?.agentName ?? "",
      ownerId: config?.ownerId,
      creatorInboxId: convo?.creatorInboxId,
      agents: convo?.agents ?? [],
    };
  }

  /** After a restart or a wake: find its conversation again and answer what came in meanwhile. */
  async resume(): Promise<void> {
    const convo = this.convo;
    if (!convo) throw new Error(`instance ${this.agent.status.inboxId} has no conversation to resume`);
    const client = this.agent.status.mustClient();
    let group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    if (!group) {
      await client.conversations.sync();
      group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    }
    if (!group) throw new Error(`conversation ${convo.conversationId} is gone from the instance's XMTP database`);
    await this.listen(group);
  }

  /**
   * Listens to its group and catches up: from now on it is CLAIMED,
   * answering there. The agent's stream carries the group before the
   * catch-up reads, so what is said between the two is heard by one of them.
   */
  async listen(group: AgentGroup): Promise<void> {
    this.members = undefined;
    const agent = this.agent;
    if (agent.status.stopped) return;
    // What it says there survives the network's rate limit, in order (platform/sends.ts).
    group = withRetriedSends(group, agent.log);
    this.listening = group;
    await this.scope.openStream(group);
    agent.status.claimed();
    agent.deps.patterns?.wake(agent.self);
    agent.toolbox.watchMail();
    // What phones shared here before a restart, before what came meanwhile is read.
    await this.phones.restore();
    await this.catchUp(group);
  }

  /** A message of its group from the agent's stream: queued while it listens; unread otherwise, for its next catch-up reads it. */
  heard(m: AgentMessage): void {
    if (this.listening && !this.agent.status.stopped) this.enqueue(asTextMessage(m), true);
  }

  /** The agent's stream restarted: it syncs, then subscribes from there, so what came meanwhile is in the local database, not in the stream. Read it. */
  restarted(): void {
    const group = this.listening;
    if (!group) return;
    void this.catchUp(group).catch((err: unknown) => this.agent.log.warn("catching up failed", { err }));
  }

  /** Forgets which messages it handled (a Release, a sleep: its next conversation or wake reads from its cursor). */
  forgetHandled(): void {
    this.handled.clear();
    this.waiting.clear();
    this.asks.clear();
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
      (m) => m.senderInboxId !== this.agent.status.inboxId && !this.handled.has(m.id) && !isDone(convo, m),
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
    if (this.listening !== group || this.agent.status.stopped || !convo) return;
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
      const toAnswer = new Set([...toAnswerAfterGap(this.whoIsWho(), heard)].map((h) => h.m));
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
   * owner's ahead of members' (turns/queue.ts), or is dropped when its
   * sender already has their share waiting. `mayAnswer`: false for what a
   * catch-up only learns from.
   */
  private enqueue(m: AgentMessage, mayAnswer: boolean): void {
    const agent = this.agent;
    if (this.handled.has(m.id)) return;
    if (this.fromPhone(m)) {
      this.handled.add(m.id);
      this.done(m);
      return;
    }
    agent.status.active();
    // Read once, planned, and its standing in the queue (plan.ts arrive).
    const {
      read,
      plan: arrival,
      standing,
      counted,
    } = arrive(m, {
      self: agent.status.inboxId,
      ownerId: agent.settings.config?.ownerId,
      creator: this.convo?.creatorInboxId,
      mayAnswer,
      thinkingAbout: this.carryOut.thinkingAbout,
      agents: agentsOnArrival(this.convo?.agents ?? [], this.announced),
      agentName: agent.settings.config?.agentName,
      memberPause: agent.settings.memberPauseIn(this.convo?.conversationId),
      pausedByOwner: agent.settings.participationIn(this.convo?.conversationId).mode === ParticipationMode.PAUSED,
    });
    // Own profiles only: what the creator's snapshot vouches for waits for its turn (people.ts).
    for (const p of read.profiles)
      if (p.inboxId !== agent.status.inboxId && !p.vouched) this.announced.set(p.inboxId, p.agent);
    const offered = arrival.kind === "offer" && agent.toolbox.answer(arrival.answer);
    // The owner's "stop" that answers no question pauses it (plan.ts).
    const act = arrival.kind === "offer" && !offered ? arrival.orElse?.kind : arrival.kind;
    const taken =
      offered ||
      (arrival.kind === "stop" && this.stopTurn(arrival.turn, m.senderInboxId)) ||
      ((act === "pause" || act === "resume" || act === "only-owner-resumes") && this.pauseAsked(act, m));
    if (taken) {
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
    const member = standing === "member" && counted;
    const queuedAt = Date.now();
    const asks = counted && this.announced.get(m.senderInboxId) !== true && addressedTo(this.whoIsWho(), read.message);
    // Asks already waiting before this one (the turn running not counted); this one's until its turn starts,
    // which may be at once, inside offer.
    const ahead = this.asks.size;
    if (asks) this.asks.add(m.id);
    const turn = agent.turns.offer(
      () => {
        this.asks.delete(m.id);
        return within(this, () => this.turn(m, read, mayAnswer, member ? queuedAt : undefined)).finally(() => {
          this.waiting.delete(m.id);
          if (member && asks) this.backlog.left(m.senderInboxId);
        });
      },
      {
        standing,
        sender: m.senderInboxId,
        counted,
        ...(this.convo ? { conversation: this.convo.conversationId } : {}),
      },
    );
    if (turn) {
      this.waiting.set(m.id, m.sentAtNs);
      turn.catch((err: unknown) => agent.log.error("handling a message failed", { messageId: m.id, err }));
      // Behind others: told once while theirs wait, never once a message (turns/backlog.ts).
      if (member && asks && this.backlog.joined(m.senderInboxId, ahead, Date.now()))
        this.replyAside(BUSY_ANSWER_SHORTLY, m);
      return;
    }
    this.asks.delete(m.id);
    // Dropped is done: it must not hold the read position back (state.json says so with the next message handled).
    this.done(m);
    agent.log.warn("message dropped: its sender has their share of the queue waiting", {
      senderInboxId: m.senderInboxId,
    });
    const now = Date.now();
    if (!tellsDropped(this.whoIsWho(), read.message, this.dropNoticeAt.get(m.senderInboxId), now)) return;
    this.dropNoticeAt.set(m.senderInboxId, now);
    void this.voice
      .replyTo(TOO_MANY_WAITING, { id: m.id, senderInboxId: m.senderInboxId })
      .catch((err: unknown) => agent.log.warn("could not say a message was dropped", { err }));
  }

  /**
   * What a person's phone sent (ConvosConnections: connections/): a payload
   * kept as its sender's, an answer to what it asked of a phone; never a
   * turn. True for every message of those types, whatever it holds.
   */
  private fromPhone(m: AgentMessage): boolean {
    const type = m.contentType?.authorityId === "convos.org" ? m.contentType.typeId : undefined;
    if (!type || !PHONE_TYPES.has(type)) return false;
    const from = m.senderInboxId;
    const content = m.content as Record<string, unknown> | undefined;
    // Whoever sends what a phone sends has a phone here, whatever their profile says (connections/reach.ts).
    if (from !== this.agent.status.inboxId) this.phones.heardFrom(from, type, m.sentAt);
    if (!content || from === this.agent.status.inboxId || this.convo?.agents.includes(from)) return true;
    if (type === "connection_payload") {
      const payload = content as unknown as ConnectionPayload;
      const captured = typeof payload.capturedAt === "number" ? swiftReferenceToDate(payload.capturedAt) : m.sentAt;
      // A payload from the future is as new as its arrival: it must not outrank what comes later.
      const at = new Date(Math.min(+captured, +m.sentAt));
      if (this.phones.receive(from, payload, at)) this.phoneActs.heard(from, String(payload.source));
    } else if (type === "connection_invocation_result" || type === "capability_request_result")
      this.phoneActs.answered(from, content as never);
    return true;
  }

  /** Someone asked it to stop thinking about message `id`: its turn ends (answer.ts), and says who stopped it. */
  private stopTurn(id: string, sender: string): boolean {
    const by = this.names[sender] ?? (sender === this.agent.settings.config?.ownerId ? "my owner" : "a member");
    const stopped = this.carryOut.stop(id, by, sender);
    if (stopped) this.agent.log.info("turn stopped", { messageId: id, by: sender });
    return stopped;
  }

  /**
   * A person's pause here, the owner's resume, or a member's resume refused
   * (plan.ts planArrival): kept at once, so that no turn after it answers,
   * every turn under way stopped, then said in the pool's words
   * (policy.ts pauseSaying) once it is written. True: the message is done.
   */
  private pauseAsked(act: "pause" | "resume" | "only-owner-resumes", m: AgentMessage): boolean {
    const agent = this.agent;
    const id = this.convo?.conversationId;
    if (!id) return false;
    const name = (inboxId: string) => pausedByName(this.whoIsWho(), this.names, inboxId);
    const settings = agent.settings;
    const was = settings.memberPauseIn(id);
    let written: Promise<void>;
    let say: () => string;
    if (act === "pause") {
      written = settings.setMemberPause(id, { by: m.senderInboxId, at: new Date().toISOString() });
      this.carryOut.stopAll(name(m.senderInboxId), m.senderInboxId);
      say = () => pauseSaying.paused(name(m.senderInboxId));
    } else if (act === "resume") {
      written = settings.setMemberPause(id, undefined);
      say = () => pauseSaying.resumed(settings.participationIn(id));
    } else {
      if (!was) return false;
      written = settings.setMemberPause(id, { ...was, toldOnlyOwner: true });
      say = () => pauseSaying.onlyOwner(name(was.by));
    }
    agent.log.info(`conversation ${act === "pause" ? "paused" : act === "resume" ? "resumed" : "stays paused"}`, {
      by: m.senderInboxId,
    });
    void written
      .then(() => this.voice.replyTo(say(), { id: m.id, senderInboxId: m.senderInboxId }))
      .catch((err: unknown) => agent.log.warn("could not keep or say a pause", { err }));
    return true;
  }

  /** Says `text` in reply to `m`, without the model and without holding its turn. */
  private replyAside(text: string, m: AgentMessage): void {
    void this.voice
      .replyTo(text, { id: m.id, senderInboxId: m.senderInboxId })
      .catch((err: unknown) => this.agent.log.warn("could not say it is behind", { err }));
  }

  /**
   * One message in its turn, as read on its arrival: the facts gathered and
   * planned in one call (plan.ts: who is who from its profiles first), who is
   * who kept, the plan carried out (carry-out.ts), read up to here.
   * `queuedAt`: when a member's message joined the queue; an answer past its
   * bound is not given (turns/backlog.ts).
   */
  private async turn(m: AgentMessage, read: Read, mayAnswer: boolean, queuedAt?: number): Promise<void> {
    const agent = this.agent;
    const convo = this.convo;
    const group = this.listening;
    if (!convo || !group || agent.status.stopped) return;
    if (m.contentType?.typeId === "group_updated") this.members = undefined;
    if (read.othersJoined && this.onOthersJoined)
      void this.onOthersJoined().catch((err: unknown) => agent.log.warn("profile not said again", { err }));
    const members = await this.knowMembers(group);
    // Who is who: a sender's own profile, and the creator's snapshot for those who said none (people.ts).
    const { plan, pace, who } = planMessage(
      read.message,
      {
        ...this.whoIsWho(),
        members: members.size,
        mayAnswer,
        participation: agent.settings.participation,
        memberPaused: agent.settings.memberPauseIn(group.id) !== undefined,
        learnsByRule: agent.llm.kind === "offline",
        callsPerMinute: this.carryOut.limits.callsPerMinute,
        conversation: group.id,
        conversations: agent.budget.conversations(),
        now: Date.now(),
        pace: this.carryOut.pace,
      },
      { names: convo.names, profiled: convo.profiled, profiles: read.profiles },
    );
    if (who) {
      convo.names = who.names;
      convo.agents = who.agents;
      convo.profiled = who.profiled;
    }
    let changed = who !== undefined;
    const late =
      queuedAt !== undefined &&
      plan.kind === "text" &&
      plan.answer.kind === "turn" &&
      tooLate(Date.now() - queuedAt, this.carryOut.limits.answerWithinMs);
    // Too late to be worth the model: said so instead, neither answered nor learned from.
    if (late) this.replyAside(COULD_NOT_GET_TO_THIS, m);
    else await this.carryOut.message(plan, pace, m, group);
    if (this.convo === convo && this.done(m)) changed = true;
    if (changed && this.convo === convo) await saveState(agent.ws, convo);
  }

  /** Its group's members, read when not known since the group last changed. */
  async knowMembers(group: AgentGroup): Promise<ReadonlySet<string>> {
    this.members ??= new Set((await group.members()).map((member) => member.inboxId));
    return this.members;
  }

  /** A text to its number (the host's SMS webhook), in a turn of its own here (carry-out.ts). */
  inboundText(t: InboundTextTurn): void {
    this.carryOut.text(t, (job) => within(this, job));
  }

  /** The recent conversation, oldest first; up to `m` (and ending with it) when given. */
  async history(group: AgentGroup, m?: TextMessage): Promise<HistoryLine[]> {
    const recent = await this.carryOut.recent(group);
    return conversationLines(this.whoIsWho(), this.names, recent, m, await this.outsideWords.ids());
  }
}
