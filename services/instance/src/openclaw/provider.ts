// An OpenClaw agent's turns: the host's turn (who said what, the pool's
// context, the pool's tools) sent to its gateway's chat completions, in the
// conversation's session (`user`), so OpenClaw keeps the conversation as its
// own history. Before each turn the host checks OpenClaw's signed files and
// writes MEMORY.md with what this turn's speaker may see of what its
// conversation reads (memory/walls.ts); the pool's tools go
// as client tools, so every call comes back to the host's trust gate.
// Learning stays the host's (its typed, attributed memory); summaries for a
// clone are asked of OpenClaw in a session of their own.

import { randomBytes } from "node:crypto";
import { type ChatMessage, type LearnInput, type LlmProvider, RefusedTurn, type TurnInput } from "../model/turn.js";
import { OpenAiProvider } from "../model/openai.js";
import type { PlanInput } from "../model/planning.js";
import type { PlannedAct } from "../tools/request/plan.js";
import { Memory, type NewEntry } from "../memory/store.js";
import { memorySection } from "../model/caps.js";
import type { RuntimeAgent } from "../agent/life/deps.js";
import { OPENCLAW_MODEL } from "./config.js";
import type { OpenClawGateway } from "./gateway.js";
import { alteredFiles, fileHash, MEMORY_MD, memoryMd, SIGNED_FILES, type SignedFile } from "./files.js";
import { readFile, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";

/** What the conversation is told when a signed file was altered. */
export const ALTERED_REPLY =
  "I will not answer: the instructions I run on were changed outside my creator's signed release. My creator's next update restores them.";

/** The last lines of the turn that are new to OpenClaw's session: those after its own last answer. */
export function newLines(messages: ChatMessage[]): ChatMessage[] {
  const rest = messages.filter((m) => m.role !== "system");
  let last = -1;
  rest.forEach((m, i) => {
    if (m.role === "assistant") last = i;
  });
  return rest.slice(last + 1);
}

/**
 * The messages of an OpenClaw turn: the pool's context as the system part
 * (OpenClaw adds it to its own prompt, which holds IDENTITY.md, SOUL.md,
 * AGENTS.md and MEMORY.md), then what was said since its last answer, as one
 * message of labelled lines (its session holds what came before).
 */
export function openClawTurnMessages(input: TurnInput, all: ChatMessage[], fresh = false): ChatMessage[] {
  // A session store that has not seen the conversation (a new gateway, a spare taken at a wake) gets its recent lines.
  const lines = fresh ? all.filter((m) => m.role !== "system") : newLines(all);
  const said = lines
    // Its own earlier answers, in a replay: said as its own.
    .map((m) => (typeof m.content !== "string" ? "" : m.role === "assistant" ? `[you] ${m.content}` : m.content))
    .filter(Boolean)
    .join("\n");
  return [
    ...(input.context.trim() ? [{ role: "system" as const, content: input.context.trim() }] : []),
    { role: "user", content: said || "(nothing new)" },
  ];
}

/**
 * What the runtime keeps of an agent's signed files: the files as it last
 * wrote them from a checked release, and a lock that a write and a check
 * take, so that a turn never checks files half-way through an update.
 */
export interface SignedWorkspace {
  expected: Record<SignedFile, string> | undefined;
  exclusive<T>(job: () => Promise<T>): Promise<T>;
}

/** The gateway thinking for an agent: it changes when the agent takes a spare. */
export interface GatewayHandle {
  current(): OpenClawGateway;
  /** Its gateway running and ready (started, or a spare taken). */
  started(): Promise<OpenClawGateway>;
}

export class OpenClawProvider extends OpenAiProvider {
  override readonly kind = "openclaw" as const;
  private summarySession = "";

  constructor(
    private readonly agent: RuntimeAgent,
    private readonly gateways: GatewayHandle,
    private readonly signed: SignedWorkspace,
    /** The host's model: learning stays the host's. */
    private readonly host: LlmProvider,
  ) {
    // The gateway's address and token change with each start: the fetch asks for them at every call.
    super({
      baseUrl: "http://openclaw.invalid/v1",
      apiKey: "",
      timeoutMs: 300_000,
      // OpenClaw keeps the conversation in its session: whether a turn it refused is there already only it
      // knows, and a second copy could stand there twice. Its model's refusals are its own to retry.
      retry: "never",
      fetch: async (url, init) => {
        const gateway = await gateways.started();
        gateway.inUse++;
        try {
          const { baseUrl, token } = await gateway.endpoint();
          const asked = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
          const path = asked.replace("http://openclaw.invalid/v1", baseUrl);
          const headers = { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` };
          return await fetch(path, { ...init, headers });
        } finally {
          gateway.inUse--;
        }
      },
    });
  }

  protected override model(): string {
    return OPENCLAW_MODEL;
  }

  protected override session(purpose: "turn" | "summary"): string | undefined {
    if (purpose === "summary") return this.summarySession;
    return this.agent.convo ? `conversation-${this.agent.convo.conversationId}` : undefined;
  }

  protected override turnMessages(input: TurnInput): ChatMessage[] {
    return openClawTurnMessages(input, super.turnMessages(input), this.gateways.current().fresh);
  }

  override async reply(input: TurnInput, signal?: AbortSignal): Promise<string> {
    await this.checkSignedFiles();
    await this.writeMemory(input);
    // Started (or a spare taken) before the turn's messages are made: whether its session is fresh is known then.
    const gateway = await this.gateways.started();
    const answer = await super.reply(input, signal);
    gateway.fresh = false;
    return answer;
  }

  override learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]> {
    return this.host.learn(input, signal);
  }

  /** Plans are the host's too: a stateless call that reads the request alone, never OpenClaw's session. */
  override plan(input: PlanInput, signal?: AbortSignal): Promise<PlannedAct[]> {
    return this.host.plan(input, signal);
  }

  override async summarize(...args: Parameters<OpenAiProvider["summarize"]>): Promise<NewEntry[]> {
    // Each clone's summary in a session of its own: nothing of the conversation's session, nor of another clone's.
    this.summarySession = `clone-summary-${randomBytes(8).toString("hex")}`;
    return super.summarize(...args);
  }

  /**
   * IDENTITY.md, SOUL.md and AGENTS.md as the signed release makes them
   * (the one the runtime last wrote them from, checked when it came), byte
   * for byte; else the turn is refused.
   */
  private async checkSignedFiles(): Promise<void> {
    const dir = this.gateways.current().paths.workspace;
    const { expected, actual } = await this.signed.exclusive(async () => {
      const actual: Record<string, string | undefined> = {};
      for (const f of SIGNED_FILES) actual[f] = await readFile(join(dir, f), "utf8").catch(() => undefined);
      return { expected: this.signed.expected, actual };
    });
    if (!expected) throw new RefusedTurn("its signed files were never written", ALTERED_REPLY);
    const altered = alteredFiles(expected, actual);
    if (altered.length === 0) return;
    this.agent.log.error("openclaw workspace file altered: refusing to answer", {
      files: altered,
      hashes: Object.fromEntries(altered.map((f) => [f, fileHash(actual[f])])),
    });
    throw new RefusedTurn(`${altered.join(", ")} differ from the signed release`, ALTERED_REPLY);
  }

  /** MEMORY.md, written before each turn from that turn's memory (`memoryMdOf`). */
  private async writeMemory(input: TurnInput): Promise<void> {
    const path = join(this.gateways.current().paths.workspace, MEMORY_MD);
    await writeFile(`${path}.tmp`, memoryMdOf(input), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}

/**
 * MEMORY.md for a turn: what the turn's conversation reads of memory (its
 * `memory` is that view, memory/walls.ts memoryIn, never the whole store),
 * as this turn's speaker may see it, within the memory budget; credentials
 * never (the file is plain). Written whole before every turn, so a turn in
 * one conversation never finds another's entries left in it.
 */
export function memoryMdOf(input: TurnInput): string {
  const visible = input.memory.visibleTo(input.role ?? "member");
  const plain = visible.entries.filter((e) => e.kind !== "credentials");
  const about = input.inboundText?.text ?? input.history.at(-1)?.text ?? "";
  return memoryMd(memorySection(new Memory(plain), about, input.limits?.memoryTokens ?? 0));
}
