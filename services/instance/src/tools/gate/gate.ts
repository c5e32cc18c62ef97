// Every tool call goes through here (at most MAX_CALLS_PER_TURN in a turn,
// call-caps.ts): its arguments checked, whose request it
// is (permissions.ts: the owner's, a member's, an outsider's), the agent's
// trust level asked (trust/levels.ts), where its recipient and amount came from
// (origins.ts: from anyone but the owner, the owner approves, at every
// level), the owner's approval awaited when any of these says so (or when
// the turn read a mail before it: a mail's words may be what asks), then
// run, and recorded in the activity log, whatever the outcome.
// A payment is also written to the money ledger before it is sent (ledger.ts),
// with the most its gas may cost: L4's daily limit is counted there, fees too.
// What comes back is for the model (and the offline commands): a result, or
// a failure in plain words, never a stack trace or a secret.

import { ToolCallOutcome } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import type { ResolvedPermissions } from "@convos-pool/kit/content";
import { randomUUID } from "node:crypto";
import type { ActivityLog } from "./activity.js";
import type { AgentTools } from "../functions/agent-tools.js";
import { MAX_CALLS_PER_TURN, OVER_TURN, runsInTurn } from "./call-caps.js";
import type { MoneyLedger } from "./ledger.js";
import { judge, notFromOwner, type Origin } from "./origins.js";
import { askedBy, grantFor, type Requester } from "./permissions.js";
import type { AskLog } from "./asks.js";
import type { Sent } from "../routing/policy.js";
import type { Mailbox } from "../providers/mail.js";
import { ToolInputError, plainFailure, toolWord, type PaymentMade, type PreparedCall } from "../functions/tool.js";
import { WalletError } from "../providers/wallet.js";
import { toolNamed } from "../functions/registry.js";
import { ACT_TOOLS, actOfTool, type Contacts } from "../request/binding.js";
import { decide, type Decision, type TrustFile } from "../trust/levels.js";

export type ToolOutcome = { ok: true; result: string } | { ok: false; error: string };

/** The owner's answer to a request for approval; "unasked": it could not be asked where the owner chose. */
export type Approval = "yes" | "no" | "timeout" | "unasked";

export { MAX_ASKS_PER_HOUR } from "./asks.js";

/** The line an approval request adds when the turn read a mail before it asked. */
export const AFTER_OUTSIDE =
  "Asked after reading words from outside this conversation (a mail): approve only what you asked for.";

export interface GateDeps {
  tools: () => AgentTools | undefined;
  trust: () => TrustFile;
  /** Whose requests it acts on, as its owner set them. */
  permissions: () => ResolvedPermissions;
  activity: () => ActivityLog;
  ledger: () => MoneyLedger;
  /** The questions asked for others than the owner in the last hour (at most MAX_ASKS_PER_HOUR each), on disk. */
  asks: () => AskLog;
  /**
   * Asks the owner in the conversation, stating the action in full; resolves with the answer, or "timeout".
   * `outside`: the statement may quote words from outside the conversation (the model chose its arguments after
   * reading them), so the question is marked as carrying them (agent/state/outside-words.ts).
   */
  ask: (statement: string, outside: boolean) => Promise<Approval>;
  /** A payment went out: posted in the conversation (a transaction reference). */
  paid?: (payment: PaymentMade) => Promise<unknown>;
  /** The mailbox as `who`'s turn may read it (routing/mailbox-view.ts); none: whole. */
  mailView?: (who: Requester) => ((m: Mailbox) => Mailbox) | undefined;
  /** A text or mail went out: where its answer comes back to is recorded (routing/policy.ts); best effort. */
  sent?: (sent: Sent) => Promise<unknown>;
  /**
   * Counted for the agent's daily signals (agent/state/signals.ts): an approval asked or declined, a call that
   * failed; `person`: whose text the turn answers (an inbox of its owner or a member; none for an outsider).
   */
  signal?: (s: ToolSignal, person?: string) => void;
  log: Logger;
}

/** What the gate tells the agent's daily counts. */
export type ToolSignal = "approvalsAsked" | "approvalsDeclined" | "toolCallsFailed";

export class ToolGate {
  /** Calls of each turn so far, by its requester (one object a turn, answer.ts). */
  private readonly made = new WeakMap<Requester, number>();

  constructor(private readonly deps: GateDeps) {}

  async call(name: string, args: Record<string, unknown>, who: Requester): Promise<ToolOutcome> {
    // Whatever the runtime, a turn makes a few calls: past them a flood is not run, nor one line each in the log.
    const nth = (this.made.get(who) ?? 0) + 1;
    this.made.set(who, nth);
    if (!runsInTurn(nth)) {
      if (nth === MAX_CALLS_PER_TURN + 1)
        this.deps.log.warn("tool calls past the turn's cap not run", { role: who.role });
      return { ok: false, error: OVER_TURN };
    }
    const tools = this.deps.tools();
    if (!tools) return { ok: false, error: "I hold no tools" };
    let call: PreparedCall;
    try {
      call = tools.prepare(name, withContact(name, args, who.contacts), this.deps.mailView?.(who), who.firing);
    } catch (err) {
      return { ok: false, error: err instanceof ToolInputError ? err.message : "those arguments could not be read" };
    }
    const trust = this.deps.trust();
    const activity = this.deps.activity();
    const ledger = this.deps.ledger();

    const record = (outcome: ToolCallOutcome, detail: string, approved = false) =>
      activity.record({
        toolId: call.toolId,
        action: call.action,
        target: call.target,
        amountWei: call.amountWei > 0n ? call.amountWei.toString() : "",
        outcome,
        detail,
        trustLevel: trust.level,
        approved,
        askedBy: who.id,
        askedByRole: who.role,
        askedByName: who.name,
        ...(who.conversationId ? { conversationId: who.conversationId } : {}),
      });
    // Someone stopped the turn (agent/conversation/answer.ts): whatever the model still asks for is not done.
    const stopped = async (): Promise<ToolOutcome> => {
      const by = String(who.stop?.reason);
      await record(ToolCallOutcome.REFUSED, `stopped: ${by} asked it to stop`);
      return { ok: false, error: `not done: ${by} asked me to stop` };
    };
    if (who.stop?.aborted) return stopped();
    const money = call.risk === "money";
    // Refusals are counted per requester, so that nobody's flood holds up the owner's own payments.
    const requester = `${who.role}:${who.id}`;
    if (money && !ledger.mayTry(requester)) {
      // A flood of refused payments: refused at once, and not one activity line each.
      await ledger.refused(requester);
      return { ok: false, error: "not done: too many refused payments in the last hour; try again later" };
    }
    const role = grantFor(this.deps.permissions(), who, call);
    const weigh = (feeWei: bigint): Decision =>
      role.grant === "refuse"
        ? { kind: "refuse", reason: role.reason }
        : decide(trust, call.risk, call.amountWei, ledger.spentWei(), feeWei);
    let decision = weigh(0n);
    // A payment's gas counts against the limit too: the most it may cost, asked of the chain unless refused anyway.
    let feeWei = 0n;
    if (call.fee && decision.kind !== "refuse") {
      try {
        feeWei = await call.fee();
      } catch (err) {
        return this.failed(err, call, record, false, who);
      }
      decision = weigh(feeWei);
    }
    // A member's request the level would run on its own still waits for the owner.
    if (role.grant === "ask" && decision.kind === "allow") decision = { kind: "ask" };
    // An act that carries out no request of the message that started the turn may be what someone else wrote: the
    // owner says. One that does uses its act of the request: a second call like it asks.
    const traced = judge(call, who, who.origins ?? [], who.boundActs);
    if (!traced.trusted && decision.kind === "allow") decision = { kind: "ask" };
    // Claimed at once, so that a call like it in the meantime does not carry out the same act; given back if not run.
    const act = traced.trusted && decision.kind !== "refuse" ? traced.act : undefined;
    if (act) act.done = true;
    // After a mail was read in this turn, any act may be what it asked for: the owner says, whoever's turn it is.
    const afterOutside = who.readOutside === true && call.risk !== "read";
    if (afterOutside && decision.kind === "allow") decision = { kind: "ask" };
    if (decision.kind === "refuse") {
      if (money) await ledger.refused(requester);
      await record(ToolCallOutcome.REFUSED, decision.reason);
      return { ok: false, error: `not done: ${decision.reason}` };
    }
    let approved = false;
    if (decision.kind === "ask") {
      if (who.role !== "owner") {
        const asks = this.deps.asks();
        if (!asks.allows(requester)) {
          if (act) act.done = false;
          return {
            ok: false,
            error: "not done: I have asked my owner for you often enough this hour; ask them yourself",
          };
        }
        await asks.add(requester);
      }
      const statement = call.statement ? await call.statement() : sentenceCase(call.summary);
      // A text or mail the model wrote in a turn that read outside words (an outsider's text, a mail, its own message
      // that passed one on) may quote them: later turns read it so.
      const quotes = who.role === "outsider" || who.readOutside === true || readsOutside(who.origins ?? []);
      this.deps.signal?.("approvalsAsked");
      const answer = await this.deps.ask(
        [
          statement,
          askedBy(who),
          traced.trusted ? undefined : notFromOwner(traced.why, who),
          afterOutside ? AFTER_OUTSIDE : undefined,
        ]
          .filter(Boolean)
          .join("\n"),
        quotes,
      );
      if (answer !== "yes" && act) act.done = false;
      // A no (silence is one) closes the act: no later yes to anything else reopens it (agent/conversation/choosing.ts).
      if ((answer === "no" || answer === "timeout") && act) act.declined = true;
      if (answer === "no") {
        this.deps.signal?.("approvalsDeclined");
        await record(ToolCallOutcome.DENIED, "my owner said no");
        return { ok: false, error: `not done: my owner said no to: ${call.summary}` };
      }
      if (answer === "timeout") {
        await record(ToolCallOutcome.TIMED_OUT, "my owner did not answer in time");
        return { ok: false, error: `not done: my owner did not approve in time: ${call.summary}` };
      }
      if (answer === "unasked") {
        await record(ToolCallOutcome.FAILED, "my owner could not be asked in our direct conversation");
        return { ok: false, error: `not done: I could not reach my owner to ask about: ${call.summary}` };
      }
      approved = true;
    }
    // Stopped while the owner was asked: a yes that comes after runs nothing.
    if (who.stop?.aborted) {
      if (act) act.done = false;
      return stopped();
    }
    const paymentId = money ? randomUUID() : undefined;
    if (paymentId) await ledger.reserve(paymentId, { amountWei: call.amountWei, feeWei, to: call.target });
    try {
      const { result, payment, feeWei: paid, sent } = await call.run();
      if (paymentId) await ledger.settle(paymentId, { sent: true, ...(paid !== undefined && { feeWei: paid }) });
      if (who.role === "outsider") who.answered = true;
      if (call.outsideWords) who.readOutside = true;
      // What it returned is read by the model from now on: a source like any other, never the owner's.
      who.origins ??= [];
      who.origins.push({
        kind: call.outsideWords ? "mail" : "tool-output",
        who: toolWord(call.toolId),
        at: Date.now(),
        text: result,
      });
      if (sent && this.deps.sent) await this.deps.sent(sent);
      await record(ToolCallOutcome.DONE, result, approved);
      this.deps.log.info("tool call done", { toolId: call.toolId, action: call.action, approved });
      // Made is made: a reference that could not be posted is logged, and the payment stays done.
      if (payment && this.deps.paid)
        await this.deps
          .paid(payment)
          .catch((err: unknown) => this.deps.log.warn("could not post the payment's transaction reference", { err }));
      return { ok: true, result };
    } catch (err) {
      // A payment that failed may still have gone out (sent, then the receipt lost): then it keeps counting.
      // One the chain reverted moved nothing but paid its fee.
      if (paymentId && err instanceof WalletError && err.notSent) {
        await ledger.settle(paymentId, { sent: false, feeWei: err.feeWei });
        // Nothing went: what was asked for is still to do.
        if (act) act.done = false;
      }
      return this.failed(err, call, record, approved, who);
    }
  }

  /** A call that failed, in plain words for the model and the activity log. */
  private async failed(
    err: unknown,
    call: PreparedCall,
    record: (outcome: ToolCallOutcome, detail: string, approved?: boolean) => Promise<unknown>,
    approved: boolean,
    who: Requester,
  ): Promise<ToolOutcome> {
    const error = plainFailure(err, call.toolId);
    // Failed for the one whose text the turn answers: a person counts once a day however many (docs/rollouts.md).
    this.deps.signal?.("toolCallsFailed", who.role === "outsider" ? undefined : who.id);
    // The error object may carry a provider's details: logged as a message only, never its secrets.
    this.deps.log.warn("tool call failed", { toolId: call.toolId, action: call.action, error });
    await record(ToolCallOutcome.FAILED, error, approved);
    return { ok: false, error };
  }
}

/**
 * The call's arguments with a recipient named by a contact of the owner's
 * address book ("to": "Ana") replaced by the contact's value of the tool's
 * kind; as they were when no contact has that name (or in a turn without the
 * owner's address book).
 */
function withContact(
  name: string,
  args: Record<string, unknown>,
  contacts: Contacts | undefined,
): Record<string, unknown> {
  const toolId = toolNamed(name)?.toolId;
  const act = toolId && actOfTool(toolId);
  if (!contacts || !act || typeof args.to !== "string") return args;
  const contact = contacts.lookup(args.to, ACT_TOOLS[act].kind);
  return contact ? { ...args, to: contact.value } : args;
}

/** Whether the turn read words from outside the conversation: an outsider's, or a mail's. */
function readsOutside(origins: readonly Origin[]): boolean {
  return origins.some((o) => o.kind === "outsider" || o.kind === "mail");
}

/** "look at my inbox" → "Look at my inbox". */
function sentenceCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
