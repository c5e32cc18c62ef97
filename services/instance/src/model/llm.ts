// How an instance talks to a model: an OpenAI-compatible chat-completions
// endpoint (OpenRouter, vLLM, Ollama, OpenAI ...), or, with none configured,
// an offline provider that needs no key, says so in every answer, and is
// deterministic (it answers from memory), so tests can see learning work.

import type { Role } from "../platform/roles.js";
import {
  EXTRACTION_PROMPT,
  extractByRule,
  parseExtraction,
  toSecondPerson,
  withoutAddress,
  type Memory,
  type MemoryEntry,
  type MemoryKind,
  type NewEntry,
  shortInbox,
} from "../memory/store.js";
import type { FunctionSpec } from "../tools/agent-tools.js";
import type { ToolOutcome } from "../tools/gate.js";
import { offlineCommand } from "../tools/commands.js";
import { aboutOf, correctionByRule, recallHeedingFeedback } from "../memory/feedback.js";
import { capText, historyWithin, memorySection, type PromptLimits } from "./caps.js";

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

/** One line of the conversation, oldest first. */
export interface HistoryLine {
  /** "assistant": this instance said it. */
  role: "user" | "assistant";
  text: string;
  /** Who said it (profile name or short inbox id), for user lines. */
  sender?: string;
  /** Their role, from their inbox id (agent/policy.ts speakerRole), for user lines. */
  speaker?: string;
}

/** A person's line as the model reads it: "[owner] Saul: text". */
export function userLine(h: Pick<HistoryLine, "sender" | "speaker" | "text">): string {
  const label = h.speaker ? `[${h.speaker}] ` : "";
  return h.sender || label ? `${label}${h.sender ?? "member"}: ${h.text}` : h.text;
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
  /** Runs one call through the trust gate (tools/gate.ts). */
  callTool?: (name: string, args: Record<string, unknown>) => Promise<ToolOutcome>;
  /** The turn answers a text message that came to its number. */
  inboundText?: InboundTextTurn;
  /** The last message corrects this earlier answer of the agent's (feedback.ts). */
  correcting?: string;
  /**
   * Who started the turn: the owner's turns see the credentials in memory,
   * a member's or an outsider's never (Memory.visibleTo). Absent: not the owner.
   */
  role?: Role;
  /** The last message asked it to forget what it learned from and about its sender: how many entries went. */
  forgot?: number;
  /** How much of each message, of the history and of memory the model is given (prompt-caps.ts); absent: all. */
  limits?: PromptLimits;
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
  /** The message corrects this earlier answer of the agent's (feedback.ts): learn the corrected fact. */
  correcting?: string;
  /** How much of the message and of memory the model is given (prompt-caps.ts); absent: all. */
  limits?: PromptLimits;
}

/** What a parent summarizes for its clone (clone.ts). */
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
}

/** At most this many entries in a clone summary (and at most 32 KiB, clone.ts). */
export const MAX_SUMMARY_ENTRIES = 200;

export const SUMMARY_PROMPT = [
  "You hand over what an assistant has learned to a copy of itself that will work in another conversation.",
  "Write the durable knowledge the copy should bring, as short self-contained sentences, following the owner's directive:",
  "bring what it asks for, and leave out everything it excludes.",
  'Kinds: "training" (how to do the job), "personalization" (the people and their preferences), "credentials" (accounts, numbers, keys to use).',
  "Use only the kinds listed as allowed; never include anything of another kind.",
  'Answer with JSON only: {"entries":[{"kind":"training","text":"Only suggest local restaurants"}]}.',
].join("\n");

/** The chat-completions messages that ask for a clone summary. */
export function summaryMessages(input: SummaryInput): ChatMessage[] {
  const memory = input.entries.map((e) => `- [${e.kind}] ${e.text}`).join("\n") || "(nothing)";
  const recent =
    input.recent
      .map((h) => (h.role === "assistant" ? `you: ${h.text}` : userLine({ sender: "member", ...h })))
      .join("\n") || "(nothing)";
  return [
    {
      role: "system",
      content: `${SUMMARY_PROMPT}\n\nAllowed kinds: ${input.carry.join(", ")}\n\nThe owner's directive: ${input.directive || "(none: bring everything of the allowed kinds)"}\n\nWhat you remember:\n${memory}`,
    },
    { role: "user", content: `The recent conversation:\n${recent}` },
  ];
}

/**
 * The system prompt of a turn: IDENTITY.md first, then the context, then the
 * memory its starter may see, within the limits (the entries that matter
 * most for the message it answers).
 */
export function systemPrompt(
  input: Pick<TurnInput, "identity" | "context" | "memory" | "role" | "limits" | "inboundText"> &
    Partial<Pick<TurnInput, "history">>,
): string {
  const memory = input.memory.visibleTo(input.role ?? "member");
  const about = input.inboundText?.text ?? input.history?.at(-1)?.text ?? "";
  return [input.identity.trimEnd(), input.context.trim(), memorySection(memory, about, input.limits?.memoryTokens ?? 0)]
    .filter(Boolean)
    .join("\n\n");
}

/** The chat-completions messages of a turn. */
export function turnMessages(input: TurnInput): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: systemPrompt(input) },
    ...(input.limits ? historyWithin(input.history, input.limits) : input.history).map<ChatMessage>((h) =>
      h.role === "assistant" ? { role: "assistant", content: h.text } : { role: "user", content: userLine(h) },
    ),
  ];
  const last = messages.at(-1);
  if (input.correcting && last?.role === "user") {
    last.content += `\n(This corrects your earlier answer: "${aboutOf(input.correcting)}")`;
  }
  if (input.forgot !== undefined && last?.role === "user") {
    last.content += `\n(As they asked, you have forgotten the ${input.forgot} entries of your memory learned from them or about them. Tell them so, and repeat nothing you knew about them.)`;
  }
  const t = input.inboundText && {
    ...input.inboundText,
    text: capText(input.inboundText.text, input.limits?.messageTokens ?? 0),
  };
  if (t) {
    messages.push({
      role: "user",
      content:
        `[outsider] A text message came to your number ${t.to} from ${t.from}: "${t.text}"\n` +
        (t.answer
          ? `You may answer it once with send_sms to ${t.from}, if it calls for an answer; tell the sender nothing you remember. Then say in one or two sentences, for the conversation, what came and what you did.`
          : `Your owner has you pass on texts from outside, not answer them: say in one or two sentences, for the conversation, what came.`),
    });
  }
  return messages;
}

// ---- OpenAI-compatible chat completions ----

export interface OpenAiOptions {
  /** For example https://openrouter.ai/api/v1; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  /** Used when the instance's config names none. */
  model?: string | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
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

export class LlmError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "LlmError";
  }
}

/** A minimal chat-completions client (POST {baseUrl}/chat/completions, bearer key). */
export class ChatCompletionsClient {
  private readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: OpenAiOptions) {
    this.url = `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    this.fetch = opts.fetch ?? fetch;
  }

  get defaultModel(): string | undefined {
    return this.opts.model;
  }

  async complete(
    req: { model: string; messages: ChatMessage[]; temperature?: number; maxTokens?: number; user?: string },
    signal?: AbortSignal,
  ): Promise<string> {
    const message = await this.chat(req, signal);
    if (typeof message.content !== "string")
      throw new LlmError("chat completions answered without choices[0].message.content");
    return message.content;
  }

  /** One chat completion; with `tools`, the answer may be function calls instead of text. */
  async chat(
    req: {
      model: string;
      messages: ChatMessage[];
      temperature?: number;
      maxTokens?: number;
      tools?: FunctionSpec[];
      /** OpenAI's `user`: a gateway that keeps sessions (OpenClaw's) keeps one per value. */
      user?: string;
    },
    signal?: AbortSignal,
  ): Promise<{ content: string | null; tool_calls?: ToolCall[] }> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 120_000);
    const res = await this.fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.opts.apiKey}` },
      body: JSON.stringify({
        model: req.model,
        messages: req.messages,
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
        ...(req.tools?.length ? { tools: req.tools.map((f) => ({ type: "function", function: f })) } : {}),
        ...(req.user ? { user: req.user } : {}),
      }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }).catch((err: unknown) => {
      throw new LlmError(`chat completions request failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    const text = await res.text();
    if (!res.ok) throw new LlmError(`chat completions answered HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    let body: { choices?: { message?: { content?: unknown; tool_calls?: unknown } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new LlmError("chat completions answered something that is not JSON", res.status);
    }
    const message = body.choices?.[0]?.message;
    const calls = Array.isArray(message?.tool_calls)
      ? (message.tool_calls as ToolCall[]).filter(
          (c) => typeof c?.id === "string" && typeof c.function?.name === "string",
        )
      : [];
    if (calls.length > 0)
      return { content: typeof message?.content === "string" ? message.content : null, tool_calls: calls };
    if (typeof message?.content !== "string")
      throw new LlmError("chat completions answered without choices[0].message.content", res.status);
    return { content: message.content };
  }
}

export class OpenAiProvider implements LlmProvider {
  readonly kind: LlmProvider["kind"] = "openai";
  readonly client: ChatCompletionsClient;

  constructor(opts: OpenAiOptions) {
    this.client = new ChatCompletionsClient(opts);
  }

  /** The messages of a turn; a runtime that keeps its own session sends less (openclaw/provider.ts). */
  protected turnMessages(input: TurnInput): ChatMessage[] {
    return turnMessages(input);
  }

  /** The session a turn or a summary belongs to (`user`); none: each call stands alone. */
  protected session(_purpose: "turn" | "summary"): string | undefined {
    return undefined;
  }

  protected model(requested: string): string {
    const model = requested || this.client.defaultModel;
    if (!model) throw new LlmError("no model: the instance's config names none and the host has no default");
    return model;
  }

  /**
   * A turn: with functions, the model may call them (through the trust gate)
   * for up to MAX_TOOL_ROUNDS rounds, each result going back to it, before
   * it answers in words.
   */
  async reply(input: TurnInput, signal?: AbortSignal): Promise<string> {
    const model = this.model(input.model);
    const messages = this.turnMessages(input);
    const tools = input.callTool ? input.functions : undefined;
    const user = this.session("turn");
    for (let round = 0; ; round++) {
      const answer = await this.client.chat(
        { model, messages, ...(tools && round < MAX_TOOL_ROUNDS ? { tools } : {}), ...(user ? { user } : {}) },
        signal,
      );
      if (!answer.tool_calls?.length) return (answer.content ?? "").trim();
      messages.push({ role: "assistant", content: answer.content, tool_calls: answer.tool_calls });
      for (const call of answer.tool_calls) {
        let args: Record<string, unknown> = {};
        let outcome: ToolOutcome;
        try {
          args = call.function.arguments ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
          outcome = await input.callTool!(call.function.name, args);
        } catch {
          outcome = { ok: false, error: "the arguments were not a JSON object" };
        }
        // A tool's result (a mail read out) is cut like a message: each later round sends it again.
        const content = capText(JSON.stringify(outcome), input.limits?.messageTokens ?? 0);
        messages.push({ role: "tool", tool_call_id: call.id, content });
      }
    }
  }

  async learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]> {
    const message = capText(input.message, input.limits?.messageTokens ?? 0);
    const memory = input.memory.visibleTo(input.role ?? "member");
    const answer = await this.client.complete(
      {
        model: this.model(input.model),
        temperature: 0,
        messages: [
          {
            role: "system",
            content: `${EXTRACTION_PROMPT}\n\n${memorySection(memory, message, input.limits?.memoryTokens ?? 0)}`,
          },
          {
            role: "user",
            content: input.correcting
              ? `Your earlier answer: "${aboutOf(input.correcting)}"\n${input.role === "owner" ? "Your owner" : "A member"} corrected it: ${message}`
              : message,
          },
        ],
      },
      signal,
    );
    return parseExtraction(answer, input.from);
  }

  async summarize(input: SummaryInput, signal?: AbortSignal): Promise<NewEntry[]> {
    const user = this.session("summary");
    const answer = await this.client.complete(
      { model: this.model(input.model), temperature: 0, messages: summaryMessages(input), ...(user ? { user } : {}) },
      signal,
    );
    const entries = parseExtraction(answer, undefined, MAX_SUMMARY_ENTRIES);
    if (entries.length === 0 && input.entries.length > 0 && !/"entries"\s*:\s*\[\s*\]/.test(answer)) {
      throw new LlmError("the model's summary was not the JSON it was asked for");
    }
    // The model may not widen what the owner chose.
    return entries.filter((e) => input.carry.includes(e.kind));
  }
}

// ---- offline ----

export const OFFLINE_LABEL = "[offline model]";

/**
 * No model, no key: answers by rule and says so. A statement with something
 * to remember is acknowledged ("Noted: ..."), a question is answered from
 * memory when memory has something on it (less the facts of answers marked
 * 👎), a correction is acknowledged with the fact it corrects, anything else
 * is echoed. Learning uses the deterministic rules of memory.ts and
 * feedback.ts.
 */
export class OfflineProvider implements LlmProvider {
  readonly kind = "offline";

  async reply(input: TurnInput): Promise<string> {
    if (input.inboundText) return this.answerText(input, input.inboundText);
    const last = input.history.at(-1)?.text.trim() ?? "";
    if (input.forgot !== undefined)
      return `${OFFLINE_LABEL} Done: I forgot ${input.forgot} ${input.forgot === 1 ? "thing" : "things"} I had learned from you or about you.`;
    // What this turn's starter may be told: no credentials but to the owner.
    const memory = input.memory.visibleTo(input.role ?? "member");
    const command = input.callTool ? offlineCommand(last, input.agentName) : undefined;
    if (command) {
      const outcome = await input.callTool!(command.name, command.args);
      return outcome.ok
        ? `${OFFLINE_LABEL} Done: ${sentence(outcome.result)}`
        : `${OFFLINE_LABEL} I could not do that: ${sentence(outcome.error)}`;
    }
    // What is said, without the name it is said to ("Tabby, remember …"); the echo below quotes it whole.
    const said = withoutAddress(last, input.agentName);
    if (input.correcting) {
      const corrected = correctionByRule(said, input.correcting, memory);
      return corrected.length > 0
        ? `${OFFLINE_LABEL} Thanks for the correction. Noted: ${corrected.map((f) => toSecondPerson(f.text)).join("; ")}.`
        : `${OFFLINE_LABEL} Thanks for the correction; I will not answer that way again.`;
    }
    const facts = extractByRule(said);
    if (facts.length > 0) {
      return `${OFFLINE_LABEL} Noted: ${facts.map((f) => toSecondPerson(f.text)).join("; ")}.`;
    }
    if (said.endsWith("?")) {
      const { found, withheld } = recallHeedingFeedback(memory, said);
      if (found.length > 0) {
        // A member's version of someone else's fact comes after it, as what that member says.
        const ordered = [...found.filter((e) => !e.disputes?.length), ...found.filter((e) => e.disputes?.length)];
        return `${OFFLINE_LABEL} From what I remember: ${ordered.map(recalled).join("; ")}.`;
      }
      if (withheld) {
        return `${OFFLINE_LABEL} I was told that what I answered to this before was wrong, and I know nothing else about it yet. Tell me what is right and I will remember it.`;
      }
      return `${OFFLINE_LABEL} I don't know that yet. No language model is configured here, so I can only answer from what I was told to remember.`;
    }
    return `${OFFLINE_LABEL} ${input.agentName} here. I read: "${last.slice(0, 200)}". No language model is configured, so this is an offline stand-in answer.`;
  }

  /** A text to its number: answered by text, said in the conversation. */
  private async answerText(input: TurnInput, t: InboundTextTurn): Promise<string> {
    const came = `${OFFLINE_LABEL} A text came to ${t.to} from ${t.from}: "${t.text.slice(0, 500)}".`;
    if (!t.answer) return `${came} My owner has me pass on texts from outside, not answer them.`;
    if (!input.callTool) return came;
    const answer = `${OFFLINE_LABEL} ${input.agentName} here. I read: "${t.text.slice(0, 200)}". No language model is configured, so this is an offline stand-in answer.`;
    const outcome = await input.callTool("send_sms", { to: t.from, text: answer });
    return outcome.ok ? `${came} I answered it by text.` : `${came} I could not answer it: ${sentence(outcome.error)}`;
  }

  async learn(input: LearnInput): Promise<NewEntry[]> {
    if (input.correcting)
      return correctionByRule(
        input.message,
        input.correcting,
        input.memory.visibleTo(input.role ?? "member"),
        input.from,
      );
    return extractByRule(input.message, input.from);
  }

  /** Memory of the kinds that carry, less what the directive excludes by name (selectByDirective). */
  async summarize(input: SummaryInput): Promise<NewEntry[]> {
    return selectByDirective(input.entries, input.directive).map((e) => ({ kind: e.kind, text: e.text, via: e.via }));
  }
}

const EXCLUSION =
  /\b(?:but not|not|except(?: for)?|without|excluding|leave out|no|nothing (?:about|of|from))\b(.*?)(?=\b(?:but|and bring|only)\b|[.;!?]|$)/gi;
const GENERIC = new Set([
  "nothing",
  "nor",
  "detail",
  "details",
  "thing",
  "things",
  "stuff",
  "info",
  "information",
  "knowledge",
  "anything",
  "everything",
  "specific",
  "specifics",
  "any",
]);

/** Content words after "not", "except", "without", "leave out" ... in a directive: what it excludes. */
export function excludedWords(directive: string): Set<string> {
  const out = new Set<string>();
  for (const m of directive.matchAll(EXCLUSION)) {
    for (const w of (m[1] ?? "").toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (
        w.length < 3 ||
        GENERIC.has(w) ||
        ["the", "and", "for", "about", "any", "our", "your", "its", "their"].includes(w)
      )
        continue;
      out.add(w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w);
    }
  }
  return out;
}

/**
 * The offline summary's rule: every entry, except those that name a word the
 * directive excludes ("general travel knowledge but not the Japan trip
 * details" leaves out entries that mention Japan). No model, so no
 * inference: an entry about Shinjuku that never says Japan carries.
 */
export function selectByDirective(entries: readonly MemoryEntry[], directive: string): MemoryEntry[] {
  const excluded = excludedWords(directive);
  if (excluded.size === 0) return [...entries];
  return entries.filter((e) => {
    const words = e.text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .map((w) => (w.length > 3 && w.endsWith("s") ? w.slice(0, -1) : w));
    return !words.some((w) => excluded.has(w));
  });
}

/** A fact said back: a member's version of someone else's fact as what that member says. */
function recalled(e: MemoryEntry): string {
  const fact = toSecondPerson(e.text);
  // A lesson from the pattern pool is told as what other people's agents suggest, never as the agent's own rule.
  if (e.adoptedFrom) return `agents of other people suggest "${fact.replace(/["“”]/g, "'")}"`;
  return e.disputes?.length && e.from ? `member ${shortInbox(e.from)} says ${fact}` : fact;
}

/** Ends a result with a full stop, unless it ends a paragraph of its own (a mail read out) or has one. */
function sentence(text: string): string {
  return /[.!?\n]\s*$/.test(text) ? text.trimEnd() : `${text}.`;
}
