// How the agent's words go out (docs/instance.md, "Manners"): what
// manners.ts decides, sent. A turn that answers a message is read (a read
// receipt), shows Convos' thinking status anchored to that message, answers
// (a reply in a group, markdown when structured) and stops thinking naming
// the answer; a turn with no message to anchor to (a text from outside)
// shows a typing indicator instead. What the toolbox says during a turn (an
// approval question) takes the turn's form; between turns (a mail notice),
// a message of its own. An approval question's buttons follow it as a
// message of their own, silent: the question was pushed. The pool's
// statement of what it may do goes as a message of the pool's content type,
// its words in the fallback (docs/statement.md). Signals (receipt,
// thinking, typing) are best effort: one that fails is logged, and the turn
// goes on.

import { AsyncLocalStorage } from "node:async_hooks";
import { encodeStatement, type StatementContent } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import {
  encodeAnswer,
  encodeButtons,
  encodeThinking,
  encodeTransaction,
  encodeTyping,
  type AgentGroup,
  type Buttons,
  type Encoded,
} from "../../platform/xmtp.js";
import type { PaymentMade } from "../../tools/functions/tool.js";
import { answerForm, paymentReference, THINKING_LABEL, type AnswerForm } from "./manners.js";

/** Signals are silent: no push notification for a receipt, a thinking status or a typing indicator. */
const SILENT = { shouldPush: false };
const PUSHED = { shouldPush: true };

export interface VoiceDeps {
  /** Its conversation, while it is in one and not stopped. */
  group(): AgentGroup | undefined;
  log: Logger;
}

/**
 * The turn a call speaks for, and whose voice it is: one storage for every
 * agent of the host, as turns/serial.ts's (an AsyncLocalStorage per agent costs
 * every promise of the host O(agents)).
 */
const speaking = new AsyncLocalStorage<{ voice: Voice; turn: SpokenTurn }>();

export class Voice {
  private current: SpokenTurn | undefined;
  constructor(private readonly deps: VoiceDeps) {}

  /**
   * A turn begins in `group`, answering the message `answering`, or a text
   * from outside (none): read receipt and thinking, or typing.
   */
  async begin(group: AgentGroup, answering?: Answering): Promise<SpokenTurn> {
    const members = await group.members().then(
      (m) => m.length,
      () => 0,
    );
    const turn = new SpokenTurn(group, this.deps.log, members, answering, () => {
      if (this.current === turn) this.current = undefined;
    });
    this.current = turn;
    await turn.start();
    return turn;
  }

  /**
   * `call` (a turn's tool call) with what the toolbox says in it in `turn`'s form, whatever turn began last: a turn
   * parked for its owner's answer (turns/serial.ts) goes on after others began and ended.
   */
  during<T>(turn: SpokenTurn | undefined, call: () => Promise<T>): Promise<T> {
    // A turn that waited aside for its owner speaks as itself when it goes on.
    return turn ? speaking.run({ voice: this, turn }, call) : call();
  }

  /** The toolbox speaks: in its turn's form (`during`, else the running turn's), else a message of its own; its id, or undefined when it is in no conversation. */
  async say(text: string): Promise<string | undefined> {
    const spoken = speaking.getStore();
    const turn = (spoken?.voice === this ? spoken.turn : undefined) ?? this.current;
    if (turn) return turn.say(text);
    const group = this.deps.group();
    return group ? send(group, text, answerForm(text, 0)) : undefined;
  }

  /** A short word in reply to `to`, outside any turn (a message dropped); its id, or undefined when it is in no conversation. */
  async replyTo(text: string, to: Answering): Promise<string | undefined> {
    const group = this.deps.group();
    return group ? send(group, text, { replyTo: to.id, markdown: false }, to.senderInboxId) : undefined;
  }

  /** An approval question's buttons (XMTP `actions`); the message's id, or undefined when it is in no conversation. */
  async buttons(b: Buttons): Promise<string | undefined> {
    const group = this.deps.group();
    return group ? group.send(encodeButtons(b), SILENT) : undefined;
  }

  /**
   * The pool's statement of what it may do (convos-pool.org/statement): the
   * signed statement in the content, the words in the fallback, which is what
   * members' apps show; a message of its own, pushed. Its id, or undefined
   * when it is in no conversation.
   */
  async statement(s: StatementContent): Promise<string | undefined> {
    const group = this.deps.group();
    return group ? group.send(encodeStatement(s), PUSHED) : undefined;
  }

  /** A payment it made, posted as XMTP's transaction reference with a text for clients without it. */
  async payment(p: PaymentMade): Promise<string | undefined> {
    const group = this.deps.group();
    if (!group) return undefined;
    const { reference, fallback } = paymentReference(p);
    return group.send(encodeTransaction(reference, fallback), PUSHED);
  }
}

/** The message a turn answers: its id, and who sent it (a reply names them too). */
export interface Answering {
  id: string;
  senderInboxId: string;
}

/** One turn's voice: its signals, and its answer in the turn's form. */
export class SpokenTurn {
  private answer: string | undefined;

  constructor(
    private readonly group: AgentGroup,
    private readonly log: Logger,
    private readonly members: number,
    private readonly answering: Answering | undefined,
    private readonly done: () => void,
  ) {}

  async start(): Promise<void> {
    const about = this.answering;
    if (about) {
      // Read up to here (a receipt covers the messages before it too), then thinking about this one.
      await this.signal("read receipt", () => this.group.sendReadReceipt());
      await this.signal("thinking", () => this.group.send(this.thinking("start", about), SILENT));
    } else await this.signal("typing", () => this.group.send(encodeTyping(true), SILENT));
  }

  /** Something said in the turn, in its form (an approval question); the message's id. */
  say(text: string): Promise<string> {
    return send(this.group, text, answerForm(text, this.members, this.answering?.id), this.answering?.senderInboxId);
  }

  /** The turn's answer; its id, which the thinking status's stop names. */
  async reply(text: string): Promise<string> {
    this.answer = await this.say(text);
    return this.answer;
  }

  /** The turn is over, answered or not (nothing to say, a failure): thinking stops, or typing does. */
  async end(): Promise<void> {
    this.done();
    const about = this.answering;
    if (about) await this.signal("thinking", () => this.group.send(this.thinking("stop", about), SILENT));
    else await this.signal("typing", () => this.group.send(encodeTyping(false), SILENT));
  }

  /** Convos' thinking status about `about`, the message it answers. */
  private thinking(state: "start" | "stop", about: Answering): Encoded {
    return encodeThinking({
      state,
      targetMessageId: about.id,
      content: THINKING_LABEL,
      ...(state === "stop" && this.answer ? { resultMessageId: this.answer } : {}),
    });
  }

  private async signal(what: string, send: () => Promise<unknown>): Promise<void> {
    await send().catch((err: unknown) => this.log.warn(`could not send a ${what}`, { err }));
  }
}

/** `text` in `form`: a reply (to a message of `replyToInbox`) or a message of its own, markdown or plain. */
function send(group: AgentGroup, text: string, form: AnswerForm, replyToInbox?: string): Promise<string> {
  const content = encodeAnswer(text, form.markdown);
  return form.replyTo
    ? group.sendReply({ reference: form.replyTo, ...(replyToInbox ? { referenceInboxId: replyToInbox } : {}), content })
    : group.send(content, PUSHED);
}
