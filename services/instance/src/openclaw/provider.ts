// An OpenClaw agent's turns: the host's turn (who said what, the pool's
// context, the pool's tools) sent to its gateway's chat completions, in the
// session of the turn's reader (`user`: walls/labels.ts sessionOf, one for
// each person in each conversation, the owner's apart, one for each number
// outside in each conversation), so OpenClaw keeps what that reader may read as its
// own history and nothing else (sessions.ts). Before each call to the
// gateway the host checks OpenClaw's signed files and writes MEMORY.md with
// what this turn's reader may read (memory/walls.ts), under a lock that no
// other turn's write passes until the call is answered; the pool's tools
// go as client tools, so every call comes back to the host's trust gate.
// Learning stays the host's (its typed, attributed memory); summaries for a
// clone are asked of OpenClaw in a session of their own.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { type ChatMessage, type LearnInput, type LlmProvider, RefusedTurn, type TurnInput } from "../model/turn.js";
import { OpenAiProvider } from "../model/openai.js";
import type { ChooserInput } from "../model/chooser.js";
import type { ChosenAct } from "../tools/request/binding.js";
import { Memory, type NewEntry } from "../memory/store.js";
import { memorySection } from "../model/caps.js";
import type { RuntimeAgent } from "../agent/life/deps.js";
import { OPENCLAW_MODEL } from "./config.js";
import type { OpenClawGateway } from "./gateway.js";
import { alteredFiles, fileHash, MEMORY_MD, memoryMd, SIGNED_FILES, type SignedFile } from "./files.js";
import { marked, untold } from "./sessions.js";
import { sessionOf } from "../walls/labels.js";
import { readFile, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";

/** What the conversation is told when a signed file was altered. */
export const ALTERED_REPLY =
  "I will not answer: the instructions I run on were changed outside my creator's signed release. My creator's next update restores them.";

/**
 * The messages of an OpenClaw turn: the pool's context as the system part
 * (OpenClaw adds it to its own prompt, which holds IDENTITY.md, SOUL.md,
 * AGENTS.md and MEMORY.md), then what its session has not been told
 * (`all`: the lines sessions.ts `untold` kept), as one message of labelled
 * lines (its session holds what came before).
 */
export function openClawTurnMessages(input: TurnInput, all: ChatMessage[]): ChatMessage[] {
  const said = all
    .filter((m) => m.role !== "system")
    // Answers it gave in another session of this conversation: said as its own.
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
  /** Each turn's session, named once (a turn of no reader gets a new one). */
  private readonly sessions = new WeakMap<TurnInput, string>();
  /** MEMORY.md for the call to the gateway being made (a turn's, or a summary's empty one): written first. */
  private readonly calling = new AsyncLocalStorage<string>();
  /** Each call to the gateway with its turn's MEMORY.md, one at a time: a waiting turn's file is not another's. */
  private memoryLock: Promise<unknown> = Promise.resolve();

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
      fetch: (url, init) => this.withMemory(this.calling.getStore(), () => this.toGateway(url, init)),
    });
  }

  private async toGateway(url: string | URL | Request, init: RequestInit | undefined): Promise<Response> {
    const gateway = await this.gateways.started();
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
  }

  /**
   * `call` with MEMORY.md written as `memory` (a turn's: what its reader may
   * read) and no other call's written until it is answered: OpenClaw reads
   * the file on each call, and a turn that waits for its owner's answer
   * calls again after another turn ran. A call of no turn gets none.
   */
  private withMemory<T>(memory: string | undefined, call: () => Promise<T>): Promise<T> {
    const run = this.memoryLock.then(async () => {
      await this.writeMemory(memory ?? memoryMd(""));
      return call();
    });
    this.memoryLock = run.catch(() => undefined);
    return run;
  }

  protected override model(): string {
    return OPENCLAW_MODEL;
  }

  protected override session(purpose: "turn" | "summary", input?: TurnInput): string | undefined {
    if (purpose === "summary") return this.summarySession;
    if (!input) return undefined;
    let session = this.sessions.get(input);
    if (!session) {
      // A turn without a reader (a draft, a test) stands alone, as a clone's summary does.
      session = sessionOf(input.reader ?? { kind: "clone" }, () => randomBytes(8).toString("hex"));
      this.sessions.set(input, session);
    }
    return session;
  }

  protected override turnMessages(input: TurnInput): ChatMessage[] {
    const mark = this.gateways.current().sessions.get(this.session("turn", input) ?? "");
    return openClawTurnMessages(input, super.turnMessages({ ...input, history: untold(input.history, mark) }));
  }

  override async reply(input: TurnInput, signal?: AbortSignal): Promise<string> {
    await this.checkSignedFiles();
    // Started (or a spare taken) before the turn's messages are made: what its session was told is known then.
    const gateway = await this.gateways.started();
    const session = this.session("turn", input) ?? "";
    const mark = gateway.sessions.get(session);
    const answer = await this.calling.run(memoryMdOf(input), () => super.reply(input, signal));
    // Only sessions that are kept: a person's turns in a conversation.
    if (input.reader?.kind === "person")
      await gateway.sessions.set(session, marked(mark, untold(input.history, mark), answer));
    return answer;
  }

  override learn(input: LearnInput, signal?: AbortSignal): Promise<NewEntry[]> {
    return this.host.learn(input, signal);
  }

  /** The act chooser is the host's too: a stateless call that reads the request alone, never OpenClaw's session. */
  override chooseActs(input: ChooserInput, signal?: AbortSignal): Promise<ChosenAct[]> {
    return this.host.chooseActs(input, signal);
  }

  override async summarize(...args: Parameters<OpenAiProvider["summarize"]>): Promise<NewEntry[]> {
    // Each clone's summary in a session of its own: nothing of the conversation's session, nor of another clone's;
    // and with an empty MEMORY.md: what it may carry is in its input (clone/summary.ts), not a turn's file.
    this.summarySession = sessionOf({ kind: "clone" }, () => randomBytes(8).toString("hex"));
    return this.calling.run(memoryMd(""), () => super.summarize(...args));
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

  /** MEMORY.md, written before each call to the gateway (a turn's: `memoryMdOf`). */
  private async writeMemory(memory: string): Promise<void> {
    const path = join(this.gateways.current().paths.workspace, MEMORY_MD);
    await writeFile(`${path}.tmp`, memory, { mode: 0o600 });
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
