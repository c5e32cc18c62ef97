// The questions an agent asks its owner and waits on: a tool call the gate
// holds for a yes (gate/gate.ts `ask`), or a save to the address book. Each is
// said in a message of its own that states the act in full, with its
// buttons after it, in the conversation or, where the owner chose, in the
// owner's direct conversation (policy.ts approvalPlace); only the owner's
// reply to that message, reaction on it, tap on its buttons or signed answer
// from outside (service.ts) answers it, and no answer in time is a no.
// Several may wait at once, since a turn that asks steps aside for the next
// (park), which may ask too; each answer is bound to its own question's
// message all the same. What an answer is, is policy.ts's; this holds the
// waiting ones and says them.

import { ApprovalPlace } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import { SYSTEM_CLOCK, type Clock } from "../../platform/clock.js";
import type { Approval } from "../gate/gate.js";
import {
  APPROVAL_TIMEOUT_MS,
  answersSome,
  approvalAnswer,
  approvalButtons,
  approvalPlace,
  approvalQuestion,
  askedDirectly,
  copiesButtons,
  type ApprovalButtons,
  type AskedIn,
  type AskedQuestion,
  type OwnerAnswer,
} from "./policy.js";

/** What the questions use of their agent (the toolbox's deps, ToolboxDeps, hold them). */
export interface QuestionsDeps {
  log: Logger;
  /** How long a question waits for the owner's answer; default APPROVAL_TIMEOUT_MS (10 minutes). */
  approvalTimeoutMs?: number;
  /** What that wait reads the time from; default the machine's (tests: one they advance, platform/clock.ts). */
  clock?: Clock;
  /**
   * Says something in its conversation: the message's id, or undefined when it is in none. `outside`: the text
   * carries words from outside the conversation (a mail's subject), which later turns must not read as its own.
   * `replyTo`: said as a reply to that message, whatever turn runs.
   */
  say(text: string, outside?: boolean, replyTo?: Said): Promise<string | undefined>;
  /** Shows an approval question's buttons (XMTP `actions`) in its conversation, right after the question. */
  buttons?(buttons: ApprovalButtons): Promise<unknown>;
  /**
   * Its owner's direct conversation with it (agent/voice/direct.ts), where questions go when the owner chose so
   * (Permissions.approvals) or is not a member (approvalPlace); none: every question is asked in its conversation,
   * or not at all when the owner is not in it.
   */
  direct?: DirectLine;
  /** Its conversation's name, as a question asked directly names it. */
  conversationName?(): string;
  /** Its owner, as the conversation names them. */
  ownerName(): string;
  /**
   * Waits for the owner's answer without holding the agent's other turns up (agent/turns/serial.ts Turns.park): the turn
   * that asked goes on once it comes. None: the turn waits in its place.
   */
  park?<T>(answer: Promise<T>): Promise<T>;
}

/** The owner's direct conversation with the agent, as a question is asked there. */
export interface DirectLine {
  /** Asks `text` there, hearing the owner's answers there from now on: the message's id, or undefined when it could not. */
  ask(text: string): Promise<string | undefined>;
  /** The question's buttons, right after it. */
  buttons(buttons: ApprovalButtons): Promise<unknown>;
  /** No question waits there any more: it need not listen. */
  idle(): void;
}

/** A message of its conversation, as a reply names it. */
export interface Said {
  id: string;
  senderInboxId: string;
}

/** A question waiting for the owner's answer, as the owner's listing shows it. */
export interface WaitingQuestion {
  /** The id of the message that asked it. */
  id: string;
  statement: string;
  askedAtMs: number;
  expiresAtMs: number;
}

/** A call waiting for the owner's yes or no: the message that asked (once its send returned), and answers and copies of its buttons' ids that came before it did. */
interface Waiting {
  question?: AskedQuestion;
  /** The act in full, as asked; and when it was asked and stops waiting (ms since the epoch). */
  statement: string;
  askedAtMs: number;
  expiresAtMs: number;
  /** Asked in the owner's direct conversation, not in its own. */
  direct: boolean;
  /**
   * Asked for the owner alone about a step they asked for (askPrivately): not
   * listed for answers from outside, nor answered by one; its own message
   * answers it.
   */
  unlisted: boolean;
  early: OwnerAnswer[];
  copies: string[][];
  resolve: (a: Approval) => void;
}

export class OwnerQuestions {
  private readonly waiting = new Set<Waiting>();

  /** `place`: where the owner chose to be asked (Permissions.approvals), read at each question. */
  constructor(
    private readonly deps: QuestionsDeps,
    private readonly place: () => ApprovalPlace,
  ) {}

  /** A question is waiting: its agent must stay awake to hear the answer (agent/life/dormancy.ts). */
  get any(): boolean {
    return this.waiting.size > 0;
  }

  /**
   * A tool call's question (the gate's `ask`): the turn that asked steps
   * aside while it waits (park), the owner and the others are answered
   * meanwhile, and it goes on when the answer comes. `outside`: the
   * statement may quote words from outside the conversation, and is said as
   * such.
   */
  async forCall(statement: string, outside: boolean): Promise<Approval> {
    const { answered } = await this.pose(statement, outside);
    return this.deps.park ? this.deps.park(answered) : answered;
  }

  /**
   * A question about something of its own, not a tool call (a save to the
   * address book: agent/conversation/address-book-requests.ts), asked exactly
   * as a call is. Parks no turn: its caller waits outside the agent's turns,
   * and the conversation goes on meanwhile. `about`: the message it asks
   * about, which the question replies to.
   */
  async ask(statement: string, about?: Said): Promise<Approval> {
    return (await this.pose(statement, false, about)).answered;
  }

  /**
   * A question for the owner alone, whatever they chose for approvals: in
   * their direct conversation with the agent, its own conversation told
   * nothing (a step they asked for from the pool's web page:
   * tools/confirmations/); in its conversation only when it has no direct
   * line. Parks no turn. Not listed for answers from outside: a step
   * confirmed is answered where it was asked, or not at all.
   */
  async askPrivately(statement: string): Promise<Approval> {
    return (await this.pose(statement, false, undefined, true)).answered;
  }

  /**
   * The owner's reply, reaction or tap, if it answers a waiting question:
   * handed over, and true. One that comes before the question's send
   * returned (its id unknown yet) is kept until it did.
   */
  answer(a: OwnerAnswer): boolean {
    for (const waiting of this.waiting) {
      if (waiting.question === undefined) continue;
      const said = approvalAnswer(waiting.question, a);
      if (!said) continue;
      waiting.resolve(said);
      return true;
    }
    // Maybe the answer to a question whose send has not returned: each such question looks at it once it has.
    const unsent = [...this.waiting].filter((w) => w.question === undefined);
    if (unsent.length === 0 || !answersSome(a)) return false;
    for (const waiting of unsent) waiting.early.push(a);
    return true;
  }

  /** The questions waiting, once asked (their message sent), oldest first: what an owner outside the conversation answers (service.ts). */
  list(): WaitingQuestion[] {
    return [...this.waiting]
      .filter((w): w is Waiting & { question: AskedQuestion } => w.question !== undefined && !w.unlisted)
      .map((w) => ({ id: w.question.id, statement: w.statement, askedAtMs: w.askedAtMs, expiresAtMs: w.expiresAtMs }))
      .sort((a, b) => a.askedAtMs - b.askedAtMs);
  }

  /**
   * The owner's signed answer, from outside the conversation, to the waiting
   * question `id` (its signature checked by the caller): handed over, and
   * true; false when no question of that id is waiting (answered, timed out,
   * never asked), and then nothing happens.
   */
  answerSigned(id: string, said: "yes" | "no"): boolean {
    for (const waiting of this.waiting) {
      if (waiting.question?.id !== id || waiting.unlisted) continue;
      waiting.resolve(said);
      return true;
    }
    return false;
  }

  /**
   * Buttons someone else posted, by their ids: if they copy a waiting
   * question's, a tap can no longer say which were meant, and the question's
   * buttons answer nothing from now on (its message still does).
   */
  buttonsSeen(ids: readonly string[]): void {
    for (const waiting of this.waiting) {
      if (waiting.question === undefined) waiting.copies.push([...ids]);
      else if (!waiting.question.copied && copiesButtons(waiting.question.id, ids)) {
        waiting.question.copied = true;
        this.deps.log.warn("someone posted buttons that copy the waiting question's: taps on them approve nothing");
      }
    }
  }

  /** Every waiting question refused (stop, release). */
  refuseAll(): void {
    for (const waiting of this.waiting) waiting.resolve("timeout");
  }

  /**
   * The question said (its buttons after it), and its answer to come: in its
   * conversation, or, where the owner chose, in the owner's direct
   * conversation, its own told only that the owner was asked. Never both:
   * what the owner keeps between the two is not said in the group when the
   * direct conversation cannot be reached; it is not done ("unasked").
   */
  private async pose(
    statement: string,
    outside: boolean,
    about?: Said,
    privately = false,
  ): Promise<{ answered: Promise<Approval> }> {
    const ms = this.deps.approvalTimeoutMs ?? APPROVAL_TIMEOUT_MS;
    const clock = this.deps.clock ?? SYSTEM_CLOCK;
    const expiresAtMs = clock.now() + ms;
    const place = approvalPlace(privately ? ApprovalPlace.DIRECT : this.place(), this.deps.conversationName?.() ?? "");
    // No direct conversation to ask in: its own, where the owner reads it (or answers from the pool's approvals page).
    const direct = place.kind === "direct" ? this.deps.direct : undefined;
    const where: AskedIn = direct ? place : { kind: "conversation" };
    // Waiting before asking: the owner's answer can come back through the stream before the send returns.
    let waiting!: Waiting;
    const answered = new Promise<Approval>((resolve) => {
      const cancelTimer = clock.after(ms, () => done("timeout"));
      const done = (a: Approval) => {
        cancelTimer();
        this.waiting.delete(waiting);
        if (waiting.direct && ![...this.waiting].some((w) => w.direct)) this.deps.direct?.idle();
        resolve(a);
      };
      const asked = {
        statement,
        askedAtMs: clock.now(),
        expiresAtMs,
        direct: where.kind === "direct",
        unlisted: privately,
      };
      waiting = { early: [], copies: [], resolve: done, ...asked };
      this.waiting.add(waiting);
    });
    const text = approvalQuestion(this.deps.ownerName(), statement, ms, where);
    const question = await (direct ? direct.ask(text) : this.deps.say(text, outside, about)).catch((err: unknown) => {
      waiting.resolve("timeout");
      throw err;
    });
    if (question === undefined) waiting.resolve(direct ? "unasked" : "timeout");
    else {
      waiting.question = { id: question, copied: waiting.copies.some((ids) => copiesButtons(question, ids)) };
      for (const a of waiting.early) {
        const said = approvalAnswer(waiting.question, a);
        if (said) waiting.resolve(said);
      }
      if (direct && !privately)
        await this.deps
          .say(askedDirectly(this.deps.ownerName()), false, about)
          .catch((err: unknown) => this.deps.log.warn("could not say the owner was asked directly", { err }));
      if (this.waiting.has(waiting)) {
        const buttons = approvalButtons(question, this.deps.ownerName(), statement, expiresAtMs, where);
        await this.showButtons(buttons, direct);
      }
    }
    return { answered };
  }

  /** The question as buttons too, for clients that show them; best effort: its message asks it already. */
  private async showButtons(buttons: ApprovalButtons, direct?: DirectLine): Promise<void> {
    await (direct ? direct.buttons(buttons) : this.deps.buttons?.(buttons))?.catch((err: unknown) =>
      this.deps.log.warn("could not show the question's buttons", { err }),
    );
  }
}
