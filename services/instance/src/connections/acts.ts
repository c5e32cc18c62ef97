// What the agent asks of people's phones (docs/connections.md): the phone
// functions the model is offered (the writes its template declares, and a
// request for a capability), and every rule a call is held to, decided
// here and not by the model. A write goes only to the phone of the person
// whose turn it is, only when their own message asked for it, only where no
// other person's phone could carry it out (Convos sends an invocation to
// every phone in the conversation that has the capability on: reach.ts),
// and never again after their phone said the capability is off, until it
// shares that kind again. What a phone answers is read for every status the
// protocol lists (results.ts).

import { randomBytes, randomUUID } from "node:crypto";
import {
  CapabilityRequestCodec,
  ConnectionInvocationCodec,
  dateToSwiftReference,
  type CapabilityRequestResult,
  type CapabilitySubject,
  type ConnectionCapability,
  type ConnectionInvocationResult,
} from "@convos-pool/convos";
import type { Logger } from "@convos-pool/kit/server";
import type { ToolOutcome } from "../tools/gate/gate.js";
import type { FunctionSpec } from "../tools/functions/tool.js";
import type { Encoded } from "../platform/xmtp.js";
import { asksFor, PHONE_ACTIONS, PhoneInputError, wireArguments, type PhoneAction } from "./actions.js";
import { othersWhoCould } from "./reach.js";
import { afterResult, capabilityName, kindName } from "./results.js";
import type { PhoneShares } from "./shares.js";

/** A kind of phone data a template declares, with the capabilities its agents use. */
export interface Declared {
  kind: string;
  capabilities: readonly string[];
}

/** The turn a phone call is made in: whose it is, and their own words. */
export interface PhoneTurn {
  /** The person whose message it answers: the only phone it may write to. */
  requester: string;
  name: string;
  /** Their message, the only words that may ask for a write. */
  text: string;
  /** Only a person's turn reaches a phone (not a text from outside, not another agent). */
  person: boolean;
  stop?: AbortSignal | undefined;
}

export interface PhoneActsDeps {
  shares: PhoneShares;
  declared(): readonly Declared[];
  /** Sends content into the conversation; its message id. */
  send(content: Encoded): Promise<string>;
  /** Says a line in the conversation (a person told how to turn a capability on). */
  say(text: string): Promise<unknown>;
  /** Its own inbox id: a capability request names its asker. */
  self(): string;
  /** Its conversation's members now (the group synced first) and those whose profile says they are agents. */
  here(): Promise<{ members: readonly string[]; agents: readonly string[] }>;
  log: Logger;
  /** How long a phone's answer is waited for; default 60 s. */
  answerMs?: number;
  /** When a write the person must confirm is asked again; default 60 s. */
  retryMs?: number;
}

export const ASK_ACCESS = "ask_phone_access";
/** Calls to phones in one turn. */
export const MAX_PHONE_CALLS_PER_TURN = 3;
/** How long a back-off or a line said about a capability holds at most. */
const BACK_OFF_MS = 6 * 60 * 60_000;
/** A person is asked for the same capability at most once in this long. */
const ASK_AGAIN_MS = 10 * 60_000;

/** ConvosConnections' kinds as capability subjects (the Convos CLI's SKILL.md, "Subjects vs. kinds"). */
const SUBJECTS: Readonly<Record<string, CapabilitySubject>> = {
  health: "fitness",
  home_kit: "home",
  calendar: "calendar",
  contacts: "contacts",
  location: "location",
  photos: "photos",
  music: "music",
  screen_time: "screen_time",
};

type Answer = ConnectionInvocationResult | CapabilityRequestResult;
interface Waiter {
  person: string;
  resolve(a: Answer): void;
}

export class PhoneActs {
  private readonly waiting = new Map<string, Waiter>();
  /** person, kind, capability → until when their phone is not asked again. */
  private readonly backedOff = new Map<string, number>();
  /** person, kind, capability → when they were last told or asked. */
  private readonly told = new Map<string, number>();
  private readonly made = new WeakMap<PhoneTurn, number>();
  private readonly invocations = new ConnectionInvocationCodec();
  private readonly requests = new CapabilityRequestCodec();

  constructor(private readonly deps: PhoneActsDeps) {}

  /** The functions offered: each write of a kind its template declares with that capability, and the request for one. */
  functions(): FunctionSpec[] {
    const declared = this.deps.declared();
    const writes = Object.entries(PHONE_ACTIONS).filter(([, a]) => allows(declared, a.kind, a.capability));
    if (declared.length === 0) return [];
    const kinds = declared.map((d) => d.kind);
    return [
      ...writes.map(([name, a]) => specOf(name, a)),
      {
        name: ASK_ACCESS,
        description:
          "Ask the person whose message you are answering to let you use a kind of their phone's data here " +
          "(their phone shows them a card with your reason, and they pick yes or no).",
        parameters: {
          type: "object",
          properties: {
            kind: { type: "string", description: `one of ${kinds.join(", ")}` },
            capability: { type: "string", description: "read, write_create, write_update or write_delete" },
            reason: { type: "string", description: "why, in one sentence they will read (at most 300 characters)" },
          },
          required: ["kind", "capability", "reason"],
        },
      },
    ];
  }

  handles(name: string): boolean {
    return name === ASK_ACCESS || Object.hasOwn(PHONE_ACTIONS, name);
  }

  /** One call of the model's, held to the rules above; nothing reaches a phone unless all hold. */
  async call(name: string, raw: Record<string, unknown>, turn: PhoneTurn): Promise<ToolOutcome> {
    const nth = (this.made.get(turn) ?? 0) + 1;
    this.made.set(turn, nth);
    if (nth > MAX_PHONE_CALLS_PER_TURN)
      return { ok: false, error: `not done: I ask a phone at most ${MAX_PHONE_CALLS_PER_TURN} times in one turn` };
    if (turn.stop?.aborted) return { ok: false, error: `not done: ${String(turn.stop.reason)} asked me to stop` };
    if (!turn.person)
      return { ok: false, error: "not done: only a person in this conversation can ask me to use their phone" };
    if (name === ASK_ACCESS) return this.askAccess(raw, turn);
    const action = PHONE_ACTIONS[name];
    return action ? this.write(name, action, raw, turn) : { ok: false, error: `there is no function ${name}` };
  }

  private async write(
    name: string,
    a: PhoneAction,
    raw: Record<string, unknown>,
    turn: PhoneTurn,
  ): Promise<ToolOutcome> {
    const who = turn.requester;
    if (!allows(this.deps.declared(), a.kind, a.capability))
      return { ok: false, error: `not done: I do not use phones' ${kindName(a.kind)} that way` };
    if (!asksFor(a, turn.text)) {
      this.deps.log.info("phone write not asked for in the requester's message: not sent", { action: a.action });
      return {
        ok: false,
        error: `not done: I change ${turn.name}'s ${kindName(a.kind)} only when their own message asks me to; ask them`,
      };
    }
    const key = keyOf(who, a.kind, a.capability);
    if ((this.backedOff.get(key) ?? 0) > Date.now())
      return {
        ok: false,
        error: `not done: ${turn.name}'s phone said ${kindName(a.kind)} → ${capabilityName(a.capability)} is off or not possible; I wait until they turn it on`,
      };
    let args: ReturnType<typeof wireArguments>;
    try {
      args = wireArguments(a, raw);
    } catch (err) {
      if (err instanceof PhoneInputError) return { ok: false, error: err.message };
      throw err;
    }
    const invoke = async (): Promise<Answer | "no answer" | "stopped" | "others"> => {
      // Read again before each send: someone may have joined since (a write asked again a minute later).
      if (!(await this.reachesOnly(who))) return "others";
      const invocationId = `pool-${randomBytes(8).toString("hex")}`;
      const content = this.invocations.encode({
        id: randomUUID().toUpperCase(),
        schemaVersion: 1,
        invocationId,
        kind: a.kind,
        action: { name: a.action, arguments: args },
        issuedAt: dateToSwiftReference(new Date()),
      });
      return this.answerTo(invocationId, who, () => this.deps.send(content), turn.stop);
    };
    const first = await invoke();
    if (first === "others")
      return {
        ok: false,
        error:
          `not done: Convos sends my request to every phone in this conversation that has ${kindName(a.kind)} → ` +
          `${capabilityName(a.capability)} on, and I cannot tell that only ${turn.name}'s would get it: someone ` +
          `else is here. I write to a phone only where its owner is the only person with me (agents aside)`,
      };
    if (first === "stopped") return { ok: false, error: `not done: ${String(turn.stop?.reason)} asked me to stop` };
    if (first === "no answer")
      return { ok: false, error: `no answer from ${turn.name}'s phone yet; Convos may be closed there` };
    const ask = { kind: a.kind, action: a.action, capability: a.capability, person: turn.name };
    const after = afterResult(first, ask);
    this.deps.log.info("phone write answered", {
      action: a.action,
      status: (first as ConnectionInvocationResult).status,
    });
    if (after.backOff) this.backedOff.set(key, Date.now() + BACK_OFF_MS);
    if (after.tell) await this.tellOnce(key, after.tell);
    if (after.retryLater) this.retry(name, invoke, ask);
    return after.ok ? { ok: true, result: after.result } : { ok: false, error: after.result };
  }

  /** A write the person must confirm: asked once more after a while, its outcome said in the conversation. */
  private retry(
    name: string,
    invoke: () => Promise<Answer | "no answer" | "stopped" | "others">,
    ask: Parameters<typeof afterResult>[1],
  ): void {
    const timer = setTimeout(() => {
      void (async () => {
        const again = await invoke();
        const words =
          again === "others"
            ? `${ask.person}, I did not ask your phone again: someone else is in this conversation now.`
            : typeof again === "string"
              ? `${ask.person}, your phone did not answer when I tried again.`
              : afterResult(again, ask).ok
                ? `${ask.person}, done on your phone now.`
                : `${ask.person}, your phone still did not do it (${(again as ConnectionInvocationResult).status}).`;
        await this.deps.say(words);
      })().catch((err: unknown) => this.deps.log.warn("a phone write asked again failed", { name, err }));
    }, this.deps.retryMs ?? 60_000);
    timer.unref();
  }

  private async askAccess(raw: Record<string, unknown>, turn: PhoneTurn): Promise<ToolOutcome> {
    const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
    const kind = text(raw.kind);
    const capability = text(raw.capability) as ConnectionCapability;
    const reason = text(raw.reason);
    const subject = SUBJECTS[kind];
    if (!subject || !allows(this.deps.declared(), kind, capability))
      return { ok: false, error: `not done: I do not use phones' ${kindName(kind)} for ${capability || "that"}` };
    if (!reason) return { ok: false, error: "reason is required" };
    const key = keyOf(turn.requester, kind, capability);
    if ((this.told.get(key) ?? 0) + ASK_AGAIN_MS > Date.now())
      return { ok: false, error: `not done: I asked ${turn.name} about this a moment ago; wait for them` };
    this.told.set(key, Date.now());
    const requestId = `pool-${randomBytes(8).toString("hex")}`;
    const content = this.requests.encode({
      version: 1,
      requestId,
      askerInboxId: this.deps.self(),
      subject,
      capability,
      rationale: reason.slice(0, 300),
    });
    const answer = await this.answerTo(requestId, turn.requester, () => this.deps.send(content), turn.stop, 120_000);
    if (answer === "stopped") return { ok: false, error: `not done: ${String(turn.stop?.reason)} asked me to stop` };
    if (answer === "no answer") return { ok: false, error: `${turn.name} has not answered on their phone yet` };
    const status = (answer as CapabilityRequestResult).status;
    if (status === "approved") {
      for (const c of [capability]) this.backedOff.delete(keyOf(turn.requester, kind, c));
      return {
        ok: true,
        result: `${turn.name} let me use their ${kindName(kind)} (${capabilityName(capability)}) here`,
      };
    }
    return { ok: false, error: `${turn.name} said no (${status}); do not ask again now` };
  }

  /** Whether no phone but `person`'s could carry out a write here now (reach.ts); false when the members cannot be read. */
  private async reachesOnly(person: string): Promise<boolean> {
    try {
      const { members, agents } = await this.deps.here();
      const here = { self: this.deps.self(), members, agents, phones: this.deps.shares.withPhones() };
      return othersWhoCould(person, here).length === 0;
    } catch (err) {
      this.deps.log.warn("could not read who is in the conversation: no phone write", { err });
      return false;
    }
  }

  /**
   * Sends, then waits for the answer that names `id` from `person`'s phone:
   * "no answer" after the wait, "stopped" when the turn was.
   */
  private async answerTo(
    id: string,
    person: string,
    send: () => Promise<string>,
    stop: AbortSignal | undefined,
    ms = this.deps.answerMs ?? 60_000,
  ): Promise<Answer | "no answer" | "stopped"> {
    const answered = new Promise<Answer>((resolve) => this.waiting.set(id, { person, resolve }));
    try {
      await send();
      let timer: NodeJS.Timeout | undefined;
      let onStop: (() => void) | undefined;
      const outcome = await Promise.race([
        answered,
        new Promise<"no answer">((r) => {
          timer = setTimeout(() => r("no answer"), ms);
        }),
        new Promise<"stopped">((r) => {
          if (!stop) return;
          onStop = () => r("stopped");
          if (stop.aborted) onStop();
          else stop.addEventListener("abort", onStop, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onStop) stop?.removeEventListener("abort", onStop);
      return outcome;
    } finally {
      this.waiting.delete(id);
    }
  }

  /**
   * A phone's answer (an invocation's result, a capability request's): to
   * the call waiting for it when it comes from the phone that was asked.
   * True when it was one of its own asks (handled, whoever sent it).
   */
  answered(from: string, answer: Answer): boolean {
    const id = "invocationId" in answer ? answer.invocationId : answer.requestId;
    const waiter = this.waiting.get(id);
    if (!waiter) return false;
    if (from !== waiter.person) {
      this.deps.log.warn("a phone answered what was asked of another person's phone: not taken", { id });
      return true;
    }
    waiter.resolve(answer);
    return true;
  }

  /** `person`'s phone shared `kind` again: they may have turned it on, so their phone is asked again (SKILL.md). */
  heard(person: string, kind: string): void {
    for (const key of [...this.backedOff.keys()])
      if (key.startsWith(`${person}\u0000${kind}\u0000`)) this.backedOff.delete(key);
  }

  /** A line said once per person and capability in a while, by the pool's code, not the model. */
  private async tellOnce(key: string, text: string): Promise<void> {
    if ((this.told.get(`tell${key}`) ?? 0) + BACK_OFF_MS > Date.now()) return;
    this.told.set(`tell${key}`, Date.now());
    await this.deps
      .say(text)
      .catch((err: unknown) => this.deps.log.warn("could not say how to turn a capability on", { err }));
  }
}

const keyOf = (person: string, kind: string, capability: string) => `${person}\u0000${kind}\u0000${capability}`;

function allows(declared: readonly Declared[], kind: string, capability: string): boolean {
  return declared.some((d) => d.kind === kind && d.capabilities.includes(capability));
}

function specOf(name: string, a: PhoneAction): FunctionSpec {
  const entries = Object.entries(a.args);
  return {
    name,
    description: `${a.description} Only when their own message asks for it.`,
    parameters: {
      type: "object",
      properties: Object.fromEntries(entries.map(([n, arg]) => [n, { type: "string", description: arg.description }])),
      required: entries.filter(([, arg]) => arg.required).map(([n]) => n),
    },
  };
}
