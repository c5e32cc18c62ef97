// How an instance talks to a model: an OpenAI-compatible chat-completions
// endpoint (OpenRouter, vLLM, Ollama, OpenAI ...), or, with none configured,
// an offline provider that needs no key, says so in every answer, and is
// deterministic (it answers from memory), so tests can see learning work.

import { EXTRACTION_PROMPT, extractByRule, parseExtraction, toSecondPerson, type Memory, type NewEntry } from "./memory.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One line of the conversation, oldest first. */
export interface HistoryLine {
  /** "assistant": this instance said it. */
  role: "user" | "assistant";
  text: string;
  /** Who said it (profile name or short inbox id), for user lines. */
  sender?: string;
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
}

export interface LearnInput {
  model: string;
  memory: Memory;
  /** The message to learn from. */
  message: string;
  /** Its sender's inbox id. */
  from: string;
}

export interface LlmProvider {
  readonly kind: "openai" | "offline";
  reply(input: TurnInput, signal?: AbortSignal): Promise<string>;
  learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]>;
}

/** The system prompt of a turn: IDENTITY.md first, then the context, then the memory. */
export function systemPrompt(input: Pick<TurnInput, "identity" | "context" | "memory">): string {
  return [input.identity.trimEnd(), input.context.trim(), input.memory.render()].filter(Boolean).join("\n\n");
}

/** The chat-completions messages of a turn. */
export function turnMessages(input: TurnInput): ChatMessage[] {
  return [
    { role: "system", content: systemPrompt(input) },
    ...input.history.map<ChatMessage>((h) =>
      h.role === "assistant" ? { role: "assistant", content: h.text } : { role: "user", content: h.sender ? `${h.sender}: ${h.text}` : h.text },
    ),
  ];
}

// ---- OpenAI-compatible chat completions ----

export interface OpenAiOptions {
  /** For example https://openrouter.ai/api/v1; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  /** Used when the instance's config names none. */
  model?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
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

  async complete(req: { model: string; messages: ChatMessage[]; temperature?: number; maxTokens?: number }, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 120_000);
    const res = await this.fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.opts.apiKey}` },
      body: JSON.stringify({
        model: req.model,
        messages: req.messages,
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
      }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }).catch((err: unknown) => {
      throw new LlmError(`chat completions request failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    const text = await res.text();
    if (!res.ok) throw new LlmError(`chat completions answered HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    let body: { choices?: { message?: { content?: unknown } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new LlmError("chat completions answered something that is not JSON", res.status);
    }
    const content = body.choices?.[0]?.message?.content;
    if (typeof content !== "string") throw new LlmError("chat completions answered without choices[0].message.content", res.status);
    return content;
  }
}

export class OpenAiProvider implements LlmProvider {
  readonly kind = "openai";
  readonly client: ChatCompletionsClient;

  constructor(opts: OpenAiOptions) {
    this.client = new ChatCompletionsClient(opts);
  }

  private model(requested: string): string {
    const model = requested || this.client.defaultModel;
    if (!model) throw new LlmError("no model: the instance's config names none and the host has no default");
    return model;
  }

  async reply(input: TurnInput, signal?: AbortSignal): Promise<string> {
    const answer = await this.client.complete({ model: this.model(input.model), messages: turnMessages(input) }, signal);
    return answer.trim();
  }

  async learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]> {
    const answer = await this.client.complete(
      {
        model: this.model(input.model),
        temperature: 0,
        messages: [
          { role: "system", content: `${EXTRACTION_PROMPT}\n\n${input.memory.render()}` },
          { role: "user", content: input.message },
        ],
      },
      signal,
    );
    return parseExtraction(answer, input.from);
  }
}

// ---- offline ----

export const OFFLINE_LABEL = "[offline model]";

/**
 * No model, no key: answers by rule and says so. A statement with something
 * to remember is acknowledged ("Noted: ..."), a question is answered from
 * memory when memory has something on it, anything else is echoed. Learning
 * uses the deterministic rule of memory.ts.
 */
export class OfflineProvider implements LlmProvider {
  readonly kind = "offline";

  async reply(input: TurnInput): Promise<string> {
    const last = input.history.at(-1)?.text.trim() ?? "";
    const facts = extractByRule(last);
    if (facts.length > 0) {
      return `${OFFLINE_LABEL} Noted: ${facts.map((f) => toSecondPerson(f.text)).join("; ")}.`;
    }
    if (last.endsWith("?")) {
      const found = input.memory.recall(last);
      if (found.length > 0) {
        return `${OFFLINE_LABEL} From what I remember: ${found.map((e) => toSecondPerson(e.text)).join("; ")}.`;
      }
      return `${OFFLINE_LABEL} I don't know that yet. No language model is configured here, so I can only answer from what I was told to remember.`;
    }
    return `${OFFLINE_LABEL} ${input.agentName} here. I read: "${last.slice(0, 200)}". No language model is configured, so this is an offline stand-in answer.`;
  }

  async learn(input: LearnInput): Promise<NewEntry[]> {
    return extractByRule(input.message, input.from);
  }
}
