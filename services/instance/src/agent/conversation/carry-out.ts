// Each message's plan carried out in its turn: the conversation gathers the
// facts and has plan.ts plan (listening.ts), and here the plan is carried
// out in its order, with the I/O: what the message teaches, memory's one
// entry (memory/lessons.ts: before the turn, forget and find what a text
// corrects; after it, learn), the turn (answer.ts, given its conversation
// gathered, which it reads in turn-read.ts) or the busy notice. A text to its
// number is planned and answered or passed on here too. What it holds is its
// own conversation's: its pace (plan.ts) but the model calls, which are the
// agent's across its conversations (budget.ts ModelBudget), and when it last
// said it dropped texts to its number.

import type { Logger } from "@convos-pool/kit/server";
import type { InboundTextTurn, LlmProvider } from "../../model/turn.js";
import type { Walls } from "../../memory/walls.js";
import type { AnswerRef } from "../../memory/feedback.js";
import type { AskModel, Lessons } from "../../memory/lessons.js";
import {
  asTextMessage,
  SAID_TYPES,
  type AgentGroup,
  type AgentMessage,
  type TextMessage,
} from "../../platform/xmtp.js";
import { BUSY_NOTICE, LLM_LIMITS, noticeDue, type LlmLimits, type ModelBudget, type Refusal } from "./budget.js";
import { NO_PACE, planText, type MessagePlan, type Pace, type TextPlan } from "./plan.js";
import { pausedByName, pauseSaying, type WhoIsWho } from "./policy.js";
import { takeTurn, type TurnParts } from "./answer.js";
import { askToSave } from "./address-book-requests.js";
import { askToSchedule } from "./schedule-requests.js";
import type { Scheduling } from "../../tools/schedules/scheduling.js";
import type { Turns } from "../turns/serial.js";
import type { HeldMemory } from "../state/memory.js";
import type { InstanceConfig } from "../state/settings.js";
import { TEXTS_DROPPED } from "../turns/queue.js";
import { statementAnswer, statementFileOf } from "../state/statement.js";

/** What carrying out uses of its agent (life/parts.ts). */
export interface CarryOutParts extends TurnParts {
  /** Its reminders, routines and scheduled acts (schedule-requests.ts); none: it keeps no time. */
  readonly scheduling?: Scheduling | undefined;
  readonly deps: {
    readonly llmLimits?: LlmLimits | undefined;
    /** Lines of conversation given to the model; default 20. */
    readonly historyLimit?: number | undefined;
  };
  readonly log: Logger;
  readonly turns: Turns;
  readonly memory: HeldMemory;
  /** What a message teaches it (memory/lessons.ts). */
  readonly lessons: Lessons;
  readonly llm: LlmProvider;
  /** The model calls of the last minute, all its conversations' (one budget per agent). */
  readonly budget: ModelBudget;
  /** Its home conversation: where what came without a conversation of its own is read (memory/walls.ts). */
  homeId(): string | undefined;
}

/** What carrying out reads of its conversation (listening.ts). */
export interface ConversationView {
  /** Its group while it listens there. */
  readonly group: AgentGroup | undefined;
  /** Members' profile names by inbox id, as they may be shown. */
  readonly names: Readonly<Record<string, string>>;
  /** Who is who there. */
  readonly who: WhoIsWho;
  /** Its messages there that carry words from outside (outside-words.ts). */
  readonly outsideWords: { ids(): Promise<ReadonlySet<string>> };
}

/** SortDirection.Descending (a const enum of the bindings). */
const DESCENDING = 1 as never;

/** The recent conversation's texts, oldest first, at most `limit` (default 20): a turn's and a routine's (routine-turn.ts). */
export async function recentSaid(group: AgentGroup, limit = 20): Promise<AgentMessage[]> {
  const said = await group.messages({ limit, direction: DESCENDING, contentTypes: SAID_TYPES });
  return said.reverse().map(asTextMessage);
}

export class CarryOut {
  /** Its agent chain, when it last answered and last said it was busy (plan.ts); `spent` is read from and kept in the agent's budget. */
  private kept: Pace = NO_PACE;
  /** When it last said it dropped texts to its number (TEXTS_DROPPED), ms. */
  private textsDroppedAt: number | undefined;
  /** The messages it is thinking about now, each with what stops its turn (plan.ts planArrival, "stop"). */
  private readonly thinking = new Map<string, AbortController>();

  constructor(
    private readonly agent: CarryOutParts,
    private readonly heard: ConversationView,
  ) {}

  /** Whether it is thinking about a message now, by its id: read as each message arrives, so not copied. */
  readonly thinkingAbout: Pick<ReadonlySet<string>, "has"> = { has: (id) => this.thinking.has(id) };

  /**
   * Stops the turn that thinks about message `id`, as `by` (a name) asked, who is `inboxId`; false when no turn
   * does. A stop that stopped a turn is counted (docs/signals.md), once: a second stop of the same turn stops
   * nothing. It counts as theirs too, per person, whoever's text the turn answered.
   */
  stop(id: string, by: string, inboxId?: string): boolean {
    const turn = this.thinking.get(id);
    if (!turn || turn.signal.aborted) return false;
    turn.abort(by);
    this.agent.signals.stopped(inboxId);
    return true;
  }

  /** Stops every turn thinking here, as `by` (a name, `inboxId`) asked: a person paused it (plan.ts planArrival "pause"). */
  stopAll(by: string, inboxId?: string): void {
    for (const id of this.thinking.keys()) this.stop(id, by, inboxId);
  }

  /** A Release: nothing said of dropped texts. */
  forget(): void {
    this.textsDroppedAt = undefined;
  }

  /** Its pace as a plan reads it: the agent's model calls of the last minute with it. */
  get pace(): Pace {
    return { ...this.kept, spent: this.agent.budget.spent };
  }

  /** One message in its turn, as the conversation planned it (plan.ts planMessage): the pace it leaves kept, the plan carried out. */
  async message(plan: MessagePlan, pace: Pace, m: AgentMessage, group: AgentGroup): Promise<void> {
    this.keep(pace);
    await this.carryOut(plan, m, group);
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
          agentChain: this.kept.agentChain,
        });
        return;
      case "reaction": {
        // Not a turn; a 👍 or 👎 on its own message is learned.
        const memory = agent.memory.current;
        const config = agent.settings.config;
        if (memory && config) await agent.lessons.reaction(group, memory, m, this.walls(config, group));
        return;
      }
      case "statement": {
        // The pool's signed statement for this conversation, as it was posted: no model call, nothing learned. Paused
        // by a person, it says so first (plan.ts).
        const statement = await statementAnswer(agent.ws, statementFileOf(group.id, agent.homeId()));
        const pause = agent.settings.memberPauseIn(group.id);
        const by = pause && pausedByName(this.heard.who, this.heard.names, pause.by);
        await agent.voice.say(by ? `${pauseSaying.pausedNow(by)}\n\n${statement}` : statement);
        return;
      }
      case "text":
        return this.carryOutText(plan, m as TextMessage, group);
    }
  }

  /** A text's steps: what it tells memory now (forget, what it corrects), answer or refuse, learn. */
  private async carryOutText(plan: TextPlan, m: TextMessage, group: AgentGroup): Promise<void> {
    const agent = this.agent;
    const config = agent.settings.config;
    const memory = agent.memory.current;
    if (!config || !memory) return; // released while the message waited for its turn
    // What it learns from, and reads a correction or a confirmation in: the text without the name it is said to (plan.ts).
    const said = { ...m, content: plan.said };
    // The owner's saves to the address book, each asked apart while the turn goes on (address-book-requests.ts).
    if (plan.role === "owner" && plan.answer.kind !== "none") askToSave(agent, said);
    const lesson = await agent.lessons.text(group, memory, said, { forget: plan.forget, correction: plan.correction });
    const { correcting, forgot } = lesson;
    // Another agent is not one of the day's people: days with others must be people's (docs/signals.md).
    if (plan.person) agent.signals.spoke(m.senderInboxId, correcting !== undefined);
    const { answer } = plan;
    // A person's request of time (a reminder, a routine, the owner's act, a stop) is answered by the pool's code, not
    // the model's turn (schedule-requests.ts).
    const timed =
      plan.person && answer.kind === "turn" && (await askToSchedule(agent, said, plan.role, group.id)) !== "none";
    if (answer.kind === "turn" && !timed) await this.answer(group, { m, correcting, forgot });
    else if (answer.kind === "refused") {
      this.budgetSpent("answer", answer.refused);
      if (answer.notice) await this.busy();
    }
    if (plan.learn === "none") return;
    const byModel = plan.learn === "by-model" ? this.charge("learning", m.senderInboxId, plan.role === "owner") : true;
    await lesson.learn({
      role: plan.role,
      ask: byModel ? this.ask(config) : undefined,
      group: this.heard.group,
      walls: this.walls(config, group),
    });
  }

  /** Its learning model, with the claim's model and its host's limits. */
  private ask(config: InstanceConfig): AskModel {
    return (asked) => this.agent.llm.learn({ ...asked, model: config.model, limits: this.limits });
  }

  /** A turn that answers `m` or a text to its number (answer.ts), with its conversation gathered for it to read. */
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
    // Anyone may stop a turn about a message of the conversation while it thinks (plan.ts planArrival).
    const stop = new AbortController();
    const id = about.m?.id;
    if (id) this.thinking.set(id, stop);
    try {
      // Its memory and recent conversation, gathered: the turn reads them within the walls (turn-read.ts), an
      // outsider's none of them.
      await takeTurn(this.agent, {
        group,
        config,
        memory,
        walls: this.walls(config, group),
        who: this.heard.who,
        names: this.heard.names,
        recent: await this.recent(group),
        outside: await this.heard.outsideWords.ids(),
        limits: this.limits,
        nextCompletion: () => this.charge("another round of a turn", by, owner),
        stop: stop.signal,
        ...about,
      });
    } finally {
      if (id && this.thinking.get(id) === stop) this.thinking.delete(id);
    }
  }

  /** The recent conversation's texts, oldest first (none of its receipts and thinking statuses: they would take the places of texts). */
  recent(group: AgentGroup): Promise<AgentMessage[]> {
    return recentSaid(group, this.agent.deps.historyLimit);
  }

  /** What it may spend on the model: its host's limits. */
  get limits(): LlmLimits {
    return this.agent.deps.llmLimits ?? LLM_LIMITS;
  }

  /**
   * A model call charged when it is made, for a message of `by`: learning's (after the answer) or a turn's further
   * round. Whether it fits the minute's budget, which it then takes a call of.
   */
  private charge(what: "learning" | "another round of a turn", by: string, owner: boolean): boolean {
    const r = this.agent.budget.spend({ by, owner, conversation: this.heard.group?.id }, Date.now());
    if (!r.allowed) this.budgetSpent(what, r.refused);
    return r.allowed;
  }

  /** A plan's pace kept: its calls in the agent's budget, the rest here. */
  private keep(pace: Pace): void {
    this.agent.budget.spent = pace.spent;
    this.kept = pace;
  }

  /**
   * The walls its memory is read within (memory/walls.ts), for a message of `group`: its home is where what came
   * without a conversation of its own belongs; in one conversation it reads all of its memory there.
   */
  private walls(config: InstanceConfig, group: AgentGroup): Walls {
    return { ownerId: config.ownerId, home: this.agent.homeId() ?? group.id };
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

  /**
   * A text to its number (the host's SMS webhook), in a turn of its own in this conversation (`within`): answered,
   * or passed on (plan.ts planText).
   */
  text(t: InboundTextTurn, within: (job: () => Promise<void>) => Promise<void>): void {
    const agent = this.agent;
    const turn = agent.turns.offer(
      () =>
        within(async () => {
          const group = this.heard.group;
          if (!group || !agent.settings.config || agent.status.stopped) return;
          agent.log.info("text received", { chars: t.text.length });
          const { plan, pace } = planText(t, {
            callsPerMinute: this.limits.callsPerMinute,
            now: Date.now(),
            pace: this.pace,
          });
          this.keep(pace);
          if (plan.kind === "turn") return this.answer(group, { inboundText: t });
          // Over the budget it is passed on as it came, without the model (and never answered).
          this.budgetSpent("text", plan.refused);
          await agent.outsideWords.add(await agent.voice.say(plan.say));
        }),
      {
        standing: "outsider",
        sender: t.from,
        counted: true,
        ...(this.heard.group ? { conversation: this.heard.group.id } : {}),
      },
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
}
