// What a turn is, for whatever thinks for an agent: the model's messages,
// the conversation as it reads it, what a turn, a lesson and a clone summary
// are given, and the provider every runtime implements (openai.ts,
// offline.ts, OpenClaw's). Types and one error: no I/O here.

import type { Role } from "../platform/roles.js";
import type { Memory, MemoryEntry, MemoryKind, NewEntry } from "../memory/store.js";
import type { FunctionSpec } from "../tools/functions/tool.js";
import type { ToolOutcome } from "../tools/gate/gate.js";
import type { PromptLimits } from "./caps.js";
import type { ActKind, ChosenAct } from "../tools/request/binding.js";
import type { TargetKind } from "../tools/trust/values.js";
import type { Reader } from "../walls/labels.js";

/** A function call the model asks for (OpenAI's `tool_calls[]`). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** Rounds of function calls in one turn before the model must answer. */
export const MAX_TOOL_ROUNDS = 5;

/** How a turn ends when the model budget is spent between its rounds (TurnInput.nextCompletion), after the model's last words. */
export const STOPPED_FOR_BUDGET =
  "I stopped there: I have made as many model calls as I may this minute. Ask me again in a minute to go on.";

/** One line of the conversation, oldest first. */
export interface HistoryLine {
  /** "assistant": this instance said it. */
  role: "user" | "assistant";
  text: string;
  /** Who said it (profile name or short inbox id), for user lines. */
  sender?: string;
  /** Their role, from their inbox id (agent/conversation/policy.ts speakerRole), for user lines. */
  speaker?: string;
  /** Their inbox id, for user lines of a member or the owner: where an act's arguments came from (tools/gate/origins.ts). */
  from?: string;
  /** When it was sent, ms since the epoch. */
  at?: number;
}

export interface TurnInput {
  model: string;
  agentName: string;
  /** IDENTITY.md as read at the start of this turn. */
  identity: string;
  /** Other system sections: tools (handles, never secrets), the owner's settings. */
  context: string;
  memory: Memory;
  /** The recent conversation; the last line is the message to answer. */
  history: HistoryLine[];
  /** The functions of the tools it holds; none: it answers without tools. */
  functions?: FunctionSpec[];
  /** Runs one call through the trust gate (tools/gate/gate.ts). */
  callTool?: (name: string, args: Record<string, unknown>) => Promise<ToolOutcome>;
  /** The turn answers a text message that came to its number. */
  inboundText?: InboundTextTurn;
  /** The last message corrects this earlier answer of the agent's (memory/feedback.ts). */
  correcting?: string;
  /**
   * Who started the turn: the owner's turns see the credentials in memory,
   * a member's or an outsider's never (Memory.visibleTo). Absent: not the owner.
   */
  role?: Role;
  /** The last message asked it to forget what it learned from its sender: how many entries went. */
  forgot?: number;
  /** How much of each message, of the history and of memory the model is given (model/caps.ts); absent: all. */
  limits?: PromptLimits;
  /**
   * Asked before each completion after the turn's first (each round of function results): whether it fits the
   * model budget (agent/conversation/budget.ts), which it then takes a call of. False: the turn ends without it
   * (STOPPED_FOR_BUDGET). The first completion was charged when the turn was planned (agent/conversation/plan.ts); absent: no budget.
   */
  nextCompletion?: () => boolean;
  /**
   * Who reads what the turn makes (walls/labels.ts): its history and memory are what that reader may read, and a
   * runtime that keeps a session (OpenClaw) keeps this reader's. Absent: the turn stands alone (tests, a draft).
   */
  reader?: Reader;
}

export interface InboundTextTurn {
  from: string;
  /** Its own number. */
  to: string;
  text: string;
  /** Its owner lets it answer a text from outside (permissions.ts); otherwise it only passes it on. */
  answer?: boolean;
}

export interface LearnInput {
  model: string;
  memory: Memory;
  /** The message to learn from. */
  message: string;
  /** Its sender's inbox id. */
  from: string;
  /** Its sender's role: the memory the model sees is what that role may see. Absent: not the owner. */
  role?: Role;
  /** The message corrects this earlier answer of the agent's (memory/feedback.ts): learn the corrected fact. */
  correcting?: string;
  /** How much of the message and of memory the model is given (model/caps.ts); absent: all. */
  limits?: PromptLimits;
}

/** What the chooser reads (model/chooser.ts): nothing but the requester's own words and the owner's own names. */
export interface ChooserInput {
  model: string;
  /** The words of the message that may ask for something (parts that cannot are "…"). */
  request: string;
  /** The owner's contacts: each name and the kinds of value saved for it (never the values). */
  contacts: { name: string; kinds: TargetKind[] }[];
  /** The names of the owner's settings (never their values). */
  settings: string[];
  /** What the agent's tools can do. */
  acts: ActKind[];
}

/** What a parent summarizes for its clone (clone/summary.ts). */
export interface SummaryInput {
  model: string;
  /** The owner's directive, or the template's default; may be empty. */
  directive: string;
  /** The kinds that may carry; `entries` holds only these. */
  carry: readonly MemoryKind[];
  entries: readonly MemoryEntry[];
  /** The recent conversation, oldest first. */
  recent: HistoryLine[];
}

export interface LlmProvider {
  /** "openclaw": an OpenClaw gateway thinks for the agent (openclaw/provider.ts). */
  readonly kind: "openai" | "offline" | "openclaw";
  reply(input: TurnInput, signal?: AbortSignal): Promise<string>;
  learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]>;
  /** The entries a clone takes with it, under the directive; only of the kinds that carry. */
  summarize(input: SummaryInput, signal?: AbortSignal): Promise<NewEntry[]>;
  /** The acts a request asks for, read from the request alone (model/chooser.ts); the pool holds them to it. */
  chooseActs(input: ChooserInput, signal?: AbortSignal): Promise<ChosenAct[]>;
}

/**
 * A turn the agent will not take, with what it says in the conversation
 * instead (an OpenClaw agent whose signed files were altered: openclaw/provider.ts).
 */
export class RefusedTurn extends Error {
  constructor(
    message: string,
    /** What the conversation is told. */
    readonly reply: string,
  ) {
    super(message);
    this.name = "RefusedTurn";
  }
}
