// An OpenAI-compatible chat-completions endpoint (OpenRouter, vLLM, Ollama,
// OpenAI ...): a turn with function calls through the trust gate, learning,
// and a clone's summary.
//
// A completion is sent again only when the provider says it did not take
// it (429, 503; the kit's HttpClient, policy "refused"): no model ran, so
// nothing was billed or said. After no answer, a timeout or another
// failure the model may have run: the turn fails instead of paying twice.

import { type HttpAnswer, HttpClient, HttpError, type RetryPolicy } from "@convos-pool/kit/server";
import { EXTRACTION_PROMPT, parseExtraction, type NewEntry } from "../memory/store.js";
import type { FunctionSpec } from "../tools/functions/tool.js";
import type { ToolOutcome } from "../tools/gate/gate.js";
import { OVER_ROUND, runsInRound } from "../tools/gate/call-caps.js";
import { aboutOf } from "../memory/feedback.js";
import { capText, memorySection } from "./caps.js";
import { type CallWaiter, HOST_BUSY_REPLY, HostBusy, type HostModelCalls } from "./host-calls.js";
import { MAX_SUMMARY_ENTRIES, summaryMessages, turnMessages } from "./prompt.js";
import { parseChosenActs, chooserMessages, type ChooserInput } from "./chooser.js";
import type { ChosenAct } from "../tools/request/binding.js";
import {
  MAX_TOOL_ROUNDS,
  RefusedTurn,
  STOPPED_FOR_BUDGET,
  type ChatMessage,
  type LearnInput,
  type LlmProvider,
  type SummaryInput,
  type ToolCall,
  type TurnInput,
} from "./turn.js";

export interface OpenAiOptions {
  /** For example https://openrouter.ai/api/v1; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  /** Used when the instance's config names none. */
  model?: string | undefined;
  /** A call's deadline, its retries included; default 120 s. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  /** "refused" (default): sent again after 429 or 503; "never": a runtime that keeps its own session (openclaw/provider.ts). */
  retry?: Extract<RetryPolicy, "refused" | "never"> | undefined;
  /** The host's model calls, every agent's together (host-calls.ts); absent: each completion goes at once. */
  calls?: HostModelCalls | undefined;
}

/** A model call that failed; `status` is the HTTP status when one came. */
export class LlmError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "LlmError";
  }
}

/** A minimal chat-completions client (POST {baseUrl}/chat/completions, bearer key). */
export class ChatCompletionsClient {
  private readonly http: HttpClient;

  constructor(private readonly opts: OpenAiOptions) {
    this.http = new HttpClient({
      service: "chat completions",
      baseUrl: opts.baseUrl,
      token: opts.apiKey,
      timeoutMs: opts.timeoutMs ?? 120_000,
      fetch: opts.fetch,
      // OpenAI's error body, which OpenRouter and the others speak too.
      reason: (body) => {
        const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
        return typeof message === "string" && message ? message.slice(0, 200) : undefined;
      },
    });
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
    let answer: HttpAnswer<{ choices?: { message?: { content?: unknown; tool_calls?: unknown } }[] } | undefined>;
    try {
      answer = await this.http.send({
        method: "POST",
        path: "/chat/completions",
        body: {
          model: req.model,
          messages: req.messages,
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
          ...(req.tools?.length ? { tools: req.tools.map((f) => ({ type: "function", function: f })) } : {}),
          ...(req.user ? { user: req.user } : {}),
        },
        signal,
        retry: this.opts.retry ?? "refused",
      });
      if (answer.status < 200 || answer.status >= 300) throw this.http.refusal(answer);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      throw new LlmError(err.rawMessage, err.status, { cause: err });
    }
    const message = answer.body?.choices?.[0]?.message;
    const calls = Array.isArray(message?.tool_calls)
      ? (message.tool_calls as ToolCall[]).filter(
          (c) => typeof c?.id === "string" && typeof c.function?.name === "string",
        )
      : [];
    if (calls.length > 0)
      return { content: typeof message?.content === "string" ? message.content : null, tool_calls: calls };
    if (typeof message?.content !== "string")
      throw new LlmError("chat completions answered without choices[0].message.content", answer.status);
    return { content: message.content };
  }
}

/** One function call of the model's, through `callTool` (the trust gate); its outcome in words when it cannot run. */
async function runCall(call: ToolCall, callTool: TurnInput["callTool"]): Promise<ToolOutcome> {
  let args: Record<string, unknown>;
  try {
    args = call.function.arguments ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
  } catch {
    return { ok: false, error: "the arguments were not a JSON object" };
  }
  // A model that calls a function it was not offered gets told so.
  return callTool ? callTool(call.function.name, args) : { ok: false, error: "no functions are offered in this turn" };
}

export class OpenAiProvider implements LlmProvider {
  readonly kind: LlmProvider["kind"] = "openai";
  readonly client: ChatCompletionsClient;

  private readonly calls: HostModelCalls | undefined;

  constructor(opts: OpenAiOptions) {
    this.client = new ChatCompletionsClient(opts);
    this.calls = opts.calls;
  }

  /** `call` in its place among the host's model calls (host-calls.ts). */
  private inTurn<T>(who: CallWaiter, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.calls ? this.calls.run(who, call, signal) : call();
  }

  /** The messages of a turn; a runtime that keeps its own session sends less (openclaw/provider.ts). */
  protected turnMessages(input: TurnInput): ChatMessage[] {
    return turnMessages(input);
  }

  /** The session a turn (its input) or a summary belongs to (`user`); none: each call stands alone. */
  protected session(_purpose: "turn" | "summary", _input?: TurnInput): string | undefined {
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
   * it answers in words. Of one answer's calls the first few run
   * (tools/gate/call-caps.ts); every call gets its result, as the API requires.
   * Each completion after the first takes a call of the model budget
   * (`nextCompletion`); when it is spent the turn ends with the model's last
   * words and STOPPED_FOR_BUDGET.
   */
  async reply(input: TurnInput, signal?: AbortSignal): Promise<string> {
    const model = this.model(input.model);
    const messages = this.turnMessages(input);
    const { callTool } = input;
    const tools = callTool ? input.functions : undefined;
    const user = this.session("turn", input);
    // What the model said beside its last calls: the turn's words if the budget ends it there.
    let said = "";
    for (let round = 0; ; round++) {
      if (round > 0 && input.nextCompletion?.() === false)
        return [said, STOPPED_FOR_BUDGET].filter(Boolean).join("\n\n");
      // Only a turn's first completion may be refused, and never the owner's: a later one would cut an answer in half.
      const who = { owner: input.role === "owner", refusable: round === 0 && input.role !== "owner" };
      const answer = await this.inTurn(
        who,
        () =>
          this.client.chat(
            { model, messages, ...(tools && round < MAX_TOOL_ROUNDS ? { tools } : {}), ...(user ? { user } : {}) },
            signal,
          ),
        signal,
      ).catch((err: unknown) => {
        throw err instanceof HostBusy ? new RefusedTurn(err.message, HOST_BUSY_REPLY) : err;
      });
      // Past its rounds no functions are offered: calls the model makes anyway end the turn, never run.
      if (!answer.tool_calls?.length || round >= MAX_TOOL_ROUNDS) return (answer.content ?? "").trim();
      said = (answer.content ?? "").trim();
      messages.push({ role: "assistant", content: answer.content, tool_calls: answer.tool_calls });
      for (const [i, call] of answer.tool_calls.entries()) {
        const outcome: ToolOutcome = runsInRound(i) ? await runCall(call, callTool) : { ok: false, error: OVER_ROUND };
        // A tool's result (a mail read out) is cut like a message: each later round sends it again.
        const content = capText(JSON.stringify(outcome), input.limits?.messageTokens ?? 0);
        messages.push({ role: "tool", tool_call_id: call.id, content });
      }
    }
  }

  async learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]> {
    const message = capText(input.message, input.limits?.messageTokens ?? 0);
    const memory = input.memory.visibleTo(input.role ?? "member");
    // Learning refused by a busy host is skipped (memory/lessons.ts), never queued past the bound.
    const who = { owner: input.role === "owner", refusable: input.role !== "owner" };
    const answer = await this.inTurn(
      who,
      () =>
        this.client.complete(
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
        ),
      signal,
    );
    return parseExtraction(answer, input.from);
  }

  /** The chosen acts, in a call of its own that holds the request and nothing of the conversation (model/chooser.ts). */
  async chooseActs(input: ChooserInput, signal?: AbortSignal): Promise<ChosenAct[]> {
    // Part of a turn under way: it waits its place, never refused.
    const answer = await this.inTurn(
      { owner: false, refusable: false },
      () =>
        this.client.complete(
          { model: this.model(input.model), temperature: 0, messages: chooserMessages(input) },
          signal,
        ),
      signal,
    );
    return parseChosenActs(answer);
  }

  async summarize(input: SummaryInput, signal?: AbortSignal): Promise<NewEntry[]> {
    const user = this.session("summary");
    // An owner's clone: with the owners' calls.
    const answer = await this.inTurn(
      { owner: true, refusable: false },
      () =>
        this.client.complete(
          {
            model: this.model(input.model),
            temperature: 0,
            messages: summaryMessages(input),
            ...(user ? { user } : {}),
          },
          signal,
        ),
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
