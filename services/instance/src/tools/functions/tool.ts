// What a tool is: one function the model may call, defined in one place
// (`defineTool`): its name, description and parameters for the model, how
// its arguments are read (typed, or an error naming the argument), what the
// gate needs to know of a call (its risk, whom it reaches, how much money it
// moves, how the owner's approval states it) and what it runs. The registry
// (registry.ts) lists them; the model's functions and the dispatch both come
// from it (agent-tools.ts). A call is `prepare`d before the gate (gate/gate.ts)
// decides; nothing runs until it does.

import type { Sent } from "../routing/policy.js";
import type { Mailbox } from "../providers/mail.js";
import { MailError } from "../providers/mail.js";
import { SmsError, type TelnyxClient } from "../providers/telnyx.js";
import type { Risk } from "../trust/levels.js";
import { maxFeeWei, WalletError, type FeeQuote, type WalletTool } from "../providers/wallet.js";

/** The pool tools an agent may hold. */
export type ToolId = "sms" | "email" | "crypto";

/** Each pool tool as the conversation names it: "I have no wallet to do that with". */
export const TOOL_WORDS: Readonly<Record<ToolId, string>> = { sms: "phone number", email: "mailbox", crypto: "wallet" };

/** What the tool `toolId` is called in words; an unknown id as itself. */
export function toolWord(toolId: string): string {
  return Object.hasOwn(TOOL_WORDS, toolId) ? TOOL_WORDS[toolId as ToolId] : toolId;
}

/** What a call runs with, per pool tool: the agent's handle (its number, address, wallet) and the client. */
export interface Reach {
  sms: { handle: string; client: TelnyxClient };
  /** The mailbox is opened on first use. */
  email: { handle: string; mailbox: () => Mailbox };
  /** The wallet is opened on first use. */
  crypto: { handle: string; wallet: () => WalletTool };
}

/** The owner's settings (user tools): a value may be named instead of written out ("personal-email"). */
export type Settings = Readonly<Record<string, string>>;

/** The model's arguments, as it sent them. */
export type RawArguments = Record<string, unknown>;

/** A function for the model: OpenAI's `tools[].function`. */
export interface FunctionSpec {
  name: string;
  description: string;
  parameters: { type: "object"; properties: Record<string, { type: string; description: string }>; required: string[] };
}

/** A payment that went out: what its transaction reference in the conversation says (agent/voice/manners.ts). */
export interface PaymentMade {
  chainId: number;
  /** The transaction's hash. */
  hash: string;
  from: string;
  to: string;
  wei: bigint;
}

/** What a call did: its result in words (for the model and the log), and the payment it made, if it made one. */
export interface Ran {
  result: string;
  payment?: PaymentMade;
  /** What the payment paid for gas (gas used × its price), wei: the ledger settles at it. */
  feeWei?: bigint;
  /** A text or mail it sent, which an answer may come back to: recorded with the turn's conversation (routing/policy.ts). */
  sent?: Sent;
}

/**
 * A call that carries out a scheduled firing (tools/schedules/firing-run.ts): its effect carries the firing id, so
 * that a retry after a crash acts once. A payment's transaction takes the firing's tag as its data.
 */
export interface FiringMark {
  /** `sch_…@2026-12-04T17:00:00Z`. */
  id: string;
  /** A payment's nonce: a retry takes the one signed before it (providers/wallet.ts PaymentMark). */
  nonce?: number | undefined;
  /** Told a payment's transaction once signed, before it is sent. */
  signed?: ((tx: { hash: string; nonce: number }) => Promise<void>) | undefined;
}

/** One call, checked and described, ready to run: what the gate decides on. */
export interface PreparedCall {
  toolId: ToolId;
  action: string;
  risk: Risk;
  target: string;
  amountWei: bigint;
  /** What it would do, in one line for the activity log: "text +15550100001: “running late”". */
  summary: string;
  /** What it would do in full, for the owner's approval (every field the action sends); default: the summary. */
  statement?: () => Promise<string>;
  /** Its result carries words from outside the conversation (mail, which anyone can send). */
  outsideWords?: boolean;
  /**
   * The most its network fee may cost, wei (a payment's gas), asked of the chain once: the daily limit counts it, and
   * `run` is held to it. None: it has no fee.
   */
  fee?: () => Promise<bigint>;
  run(): Promise<Ran>;
}

/** Bad arguments, in words the model (or the person) can act on. */
export class ToolInputError extends Error {}

/** The errors a tool reports in plain words; anything else is reported without its details. */
export function plainFailure(err: unknown, toolId: string): string {
  if (
    err instanceof SmsError ||
    err instanceof MailError ||
    err instanceof WalletError ||
    err instanceof ToolInputError
  )
    return err.message;
  return `the ${toolId} tool failed unexpectedly`;
}

/** One argument of a function: what the model is told of it, and how its value is read. */
export interface Parameter<T> {
  type: "string" | "integer";
  description: string;
  required: boolean;
  /** The model's value of the argument `name`, checked; throws ToolInputError naming it. */
  read(value: unknown, name: string, settings: Settings): T;
}

type ParameterList = Record<string, Parameter<unknown>>;

/** The typed arguments its parameters read. */
export type ArgumentsOf<P extends ParameterList> = { [K in keyof P]: P[K] extends Parameter<infer T> ? T : never };

const absent = (v: unknown) => v === undefined || v === null || v === "";

/**
 * A required text argument, trimmed (a number is taken as its digits); at most `max` characters. `setting`: the
 * value may name one of the owner's settings, which stands for it. `check` turns the text into what the tool takes,
 * or throws ToolInputError.
 */
export function text<T>(
  description: string,
  opts: { max?: number; setting?: boolean; check: (value: string) => T },
): Parameter<T>;
export function text(description: string, opts?: { max?: number; setting?: boolean }): Parameter<string>;
export function text<T>(
  description: string,
  opts: { max?: number; setting?: boolean; check?: (value: string) => T } = {},
): Parameter<T | string> {
  return {
    type: "string",
    description,
    required: true,
    read(v, name, settings) {
      if (absent(v)) throw new ToolInputError(`${name} is required`);
      if (typeof v !== "string" && typeof v !== "number") throw new ToolInputError(`${name} must be text`);
      const s = String(v).trim();
      if (opts.max && s.length > opts.max) throw new ToolInputError(`${name} is longer than ${opts.max} characters`);
      const value = opts.setting && Object.hasOwn(settings, s) ? (settings[s] ?? s) : s;
      return opts.check ? opts.check(value) : value;
    },
  };
}

/** An optional whole number from `min` to `max`; `fallback` when absent. */
export function wholeNumber(
  description: string,
  opts: { min: number; max: number; fallback: number },
): Parameter<number> {
  return {
    type: "integer",
    description,
    required: false,
    read(v, name) {
      const n = absent(v) ? opts.fallback : Number(v);
      if (!Number.isInteger(n) || n < opts.min || n > opts.max)
        throw new ToolInputError(`${name} must be a whole number from ${opts.min} to ${opts.max}`);
      return n;
    },
  };
}

/** Reads every argument of `parameters` in their order: the first bad one throws. */
function readArguments<P extends ParameterList>(parameters: P, raw: RawArguments, settings: Settings): ArgumentsOf<P> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(parameters)) out[name] = p.read(raw[name], name, settings);
  return out as ArgumentsOf<P>;
}

/** One tool, written once: everything below is about one function. */
export interface ToolDefinition<T extends ToolId, P extends ParameterList> {
  /** The function's name for the model, and the action in the activity log. */
  name: string;
  /** The pool tool it needs: without it (or without its provider on this host) it is neither offered nor run. */
  toolId: T;
  /** What the trust level weighs (trust/levels.ts): reading, acting, moving money. */
  risk: Risk;
  /** What the model is told it does; `handle` is the agent's own (its number, address or wallet). */
  description: (handle: string) => string;
  /** Its arguments, in the order they are read; the model is told of them in that order. */
  parameters: P;
  /** Whom or what it reaches (a number, an address, a wallet): its permissions and the log look at it. */
  target: (args: ArgumentsOf<P>, handle: string) => string;
  /** The money it moves; default none. */
  amountWei?: (args: ArgumentsOf<P>) => bigint;
  /** It in one line, for the activity log and a refusal: "text +15550100001: “running late”". */
  summary: (args: ArgumentsOf<P>) => string;
  /** It in full, for the owner's approval (every field it sends); default the summary. */
  statement?: (args: ArgumentsOf<P>, reach: Reach[T]) => Promise<string>;
  /** Its result carries words from outside the conversation (mail, which anyone can send). */
  outsideWords?: boolean;
  /** The most its network fee may cost (a payment's gas), quoted before the gate decides; `run` gets the quote. */
  quote?: (args: ArgumentsOf<P>, reach: Reach[T], firing: FiringMark | undefined) => Promise<FeeQuote>;
  /** `firing`: the scheduled firing the call carries out, which its effect carries. */
  run: (
    args: ArgumentsOf<P>,
    reach: Reach[T],
    quote: FeeQuote | undefined,
    firing: FiringMark | undefined,
  ) => Promise<Ran>;
}

/** A tool as the registry holds it: offered to the model, and prepared for the gate. */
export interface Tool {
  readonly name: string;
  readonly toolId: ToolId;
  /** The function the model is offered, for an agent whose handle of the tool is `handle`. */
  spec(handle: string): FunctionSpec;
  /**
   * The call, its arguments read, for the gate; ToolInputError when the agent cannot or the arguments are bad.
   * `firing`: the scheduled firing it carries out, set by the pool's code (never by a model's arguments).
   */
  prepare(raw: RawArguments, reach: Partial<Reach>, settings: Settings, firing?: FiringMark): PreparedCall;
}

/** A defined tool: a Tool, and its arguments' reader (for tests and callers that want them typed). */
export interface DefinedTool<A> extends Tool {
  parse(raw: RawArguments, settings: Settings): A;
}

export function defineTool<T extends ToolId, P extends ParameterList>(
  def: ToolDefinition<T, P>,
): DefinedTool<ArgumentsOf<P>> {
  const parse = (raw: RawArguments, settings: Settings) => readArguments(def.parameters, raw, settings);
  return {
    name: def.name,
    toolId: def.toolId,
    parse,
    spec(handle) {
      const entries = Object.entries(def.parameters);
      return {
        name: def.name,
        description: def.description(handle),
        parameters: {
          type: "object",
          properties: Object.fromEntries(entries.map(([n, p]) => [n, { type: p.type, description: p.description }])),
          required: entries.filter(([, p]) => p.required).map(([n]) => n),
        },
      };
    },
    prepare(raw, reaches, settings, firing) {
      const reach = reaches[def.toolId];
      if (!reach) throw new ToolInputError(`I have no ${TOOL_WORDS[def.toolId]} to do that with`);
      const args = parse(raw, settings);
      const { statement, quote } = def;
      // One quote a call: what the gate weighs is what the run is held to.
      let quoted: Promise<FeeQuote> | undefined;
      const feeQuote = quote && (() => (quoted ??= quote(args, reach, firing)));
      return {
        toolId: def.toolId,
        action: def.name,
        risk: def.risk,
        target: def.target(args, reach.handle),
        amountWei: def.amountWei?.(args) ?? 0n,
        summary: def.summary(args),
        ...(statement && { statement: () => statement(args, reach) }),
        ...(def.outsideWords && { outsideWords: true }),
        ...(feeQuote && { fee: async () => maxFeeWei(await feeQuote()) }),
        run: async () => def.run(args, reach, feeQuote ? await feeQuote() : undefined, firing),
      };
    },
  };
}

/** A text quoted for the log, cut at `n` characters: “running late”. */
export const quote = (s: string, n = 80) => `“${s.length > n ? `${s.slice(0, n - 1)}…` : s}”`;
