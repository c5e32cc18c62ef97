// Test helper: the real Convos CLI (`convos agent serve` from @xmtp/convos-cli)
// as a child process, the creator of a Convos conversation on the local XMTP
// node. It prints one JSON event per line on stdout and takes ndjson commands
// on stdin. The CLI talks to localhost:5556 only: given the test's node port
// (xmtp-port.ts), it runs in a network namespace of its own where 5556 leads
// to that node (netns-bridge.mjs).
//
// A reply's `message` event prints its text after the message it replies to
// ("reply to \"…\" (id): text"); the harness reads it back: `content` is the
// reply's own text, `replyTo` the id it replies to, `printed` what the CLI
// printed. Everything else is kept as printed.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import net from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LOCAL_XMTP_PORT, networkIsolation } from "./xmtp-port.js";

export interface CliEvent {
  event: string;
  [key: string]: unknown;
}

/** A `message` event as the harness reads it (see the file's header). */
export interface MessageEvent extends CliEvent {
  id: string;
  senderInboxId: string;
  contentType: { authorityId: string; typeId: string };
  content: string;
  /** A reply: the message it replies to. */
  replyTo?: string;
  /** A reply: what the CLI printed, the quoted message and its id included. */
  printed?: string;
}

/** Convos' thinking status as `agent serve` prints it. */
export interface ThinkingEvent extends CliEvent {
  id: string;
  senderInboxId: string;
  state: "start" | "stop";
  targetMessageId: string;
  content: string;
  resultMessageId?: string;
}

/** `reply to "<quoted>" (<id>): <text>`, or `reply to <id>: <text>` when the CLI does not have the quoted message. */
const PRINTED_REPLY = /^reply to (?:"[\s\S]*?" \(([0-9a-f]+)\)|([0-9a-f]+)): ([\s\S]*)$/;

/** A reply's event with its own text as `content` (see the file's header); any other event as printed. */
export function readEvent(e: CliEvent): CliEvent {
  const type = (e.contentType as { typeId?: string } | undefined)?.typeId;
  if (e.event !== "message" || type !== "reply" || typeof e.content !== "string") return e;
  const m = PRINTED_REPLY.exec(e.content);
  return m ? { ...e, content: m[3], replyTo: m[1] ?? m[2], printed: e.content } : e;
}

/** A command `agent serve` does not know, which ready() sends: its stdin reader runs only once its streams do. */
const PROBE = "pool-test-probe";

/** The CLI's answer to PROBE (an error event) as the event `listening`: no test reads it as the CLI's error. */
function listening(e: CliEvent): CliEvent {
  return e.event === "error" && e.message === `Unknown command type: ${PROBE}` ? { event: "listening" } : e;
}

export interface ReadyEvent extends CliEvent {
  conversationId: string;
  inboxId: string;
  address: string;
  inviteUrl: string;
  inviteSlug: string;
  inviteTag: string;
}

const CLI_BIN = join(dirname(createRequire(import.meta.url).resolve("@xmtp/convos-cli")), "..", "bin", "run.js");
const BRIDGE = fileURLToPath(new URL("./netns-bridge.mjs", import.meta.url));

export interface ConvosCliOptions {
  /** Where the test's XMTP node listens; default 5556 (the CLI's own `local` address). */
  xmtpPort?: number;
}

/** A unix socket passing each connection to 127.0.0.1:`port`: what a namespaced CLI's 5556 leads to. */
async function bridgeTo(port: number): Promise<{ path: string; close(): void }> {
  // Short and new each time: socket paths are limited to 107 bytes, and a closed server's may linger a moment.
  const path = join(tmpdir(), `convos-bridge-${randomBytes(6).toString("hex")}.sock`);
  const open = new Set<net.Socket>();
  const server = net.createServer((cli) => {
    const node = net.connect(port, "127.0.0.1");
    // One side gone, the other goes: a node must not wait on a CLI that has exited.
    for (const [a, b] of [
      [cli, node],
      [node, cli],
    ] as const) {
      open.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        open.delete(a);
        b.destroy();
      });
    }
    cli.pipe(node).pipe(cli);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  return {
    path,
    close: () => {
      server.close();
      for (const s of open) s.destroy();
    },
  };
}

/**
 * How to run the CLI with `args` on its own home, working directory (.env)
 * and temporary directory (QR codes) under `dir`, reaching the node at
 * `xmtpPort`; `close` ends the bridge once the CLI has exited.
 */
async function convosProcess(args: string[], dir: string, opts: ConvosCliOptions) {
  const dirs = { home: join(dir, "home"), cwd: join(dir, "cwd"), tmp: join(dir, "tmp"), xdg: join(dir, "xdg") };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CONVOS_|XMTP_)/.test(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TMPDIR: dirs.tmp,
    XDG_CACHE_HOME: dirs.xdg,
    XDG_CONFIG_HOME: dirs.xdg,
    XDG_DATA_HOME: dirs.xdg,
    CONVOS_SKIP_NEW_VERSION_CHECK: "true",
    // As people run it: under vitest's NODE_ENV=test the CLI's framework (oclif) registers a
    // TypeScript loader for its plugins, which doubled each command's start (2.2 s of CPU, not 1.0).
    NODE_ENV: "production",
  };
  const cli = [CLI_BIN, ...args, "--env", "local", "--home", dirs.home];
  const port = opts.xmtpPort ?? LOCAL_XMTP_PORT;
  if (port === LOCAL_XMTP_PORT) return { file: process.execPath, argv: cli, cwd: dirs.cwd, env, close: () => {} };
  const isolation = networkIsolation();
  if (!isolation) throw new Error(`the Convos CLI reaches only port ${LOCAL_XMTP_PORT} here: use xmtpPortForTest()`);
  const bridge = await bridgeTo(port);
  return {
    file: "unshare",
    argv: [...isolation, process.execPath, "--import", BRIDGE, ...cli],
    cwd: dirs.cwd,
    env: { ...env, CONVOS_BRIDGE_SOCKET: bridge.path, CONVOS_BRIDGE_PORT: String(LOCAL_XMTP_PORT) },
    close: () => bridge.close(),
  };
}

/** One CLI command with `--json` on the home under `dir` (the layout ConvosCli.start uses); its output parsed. */
export async function runConvos<T>(
  args: string[],
  dir: string,
  opts: ConvosCliOptions & { timeoutMs?: number } = {},
): Promise<T> {
  const p = await convosProcess([...args, "--json"], dir, opts);
  try {
    const { stdout } = await promisify(execFile)(p.file, p.argv, {
      cwd: p.cwd,
      env: p.env,
      timeout: opts.timeoutMs ?? 30_000,
    });
    // Some commands log progress lines before their JSON (`conversations join`).
    const json = stdout.search(/^[{[]/m);
    return JSON.parse(json > 0 ? stdout.slice(json) : stdout) as T;
  } finally {
    p.close();
  }
}

export class ConvosCli {
  readonly events: CliEvent[] = [];
  private readonly stderr: string[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly exited: Promise<void>;
  private exit: string | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly dir: string,
    private readonly opts: ConvosCliOptions,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        this.events.push(listening(readEvent(JSON.parse(line) as CliEvent)));
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
      this.wake();
    });
    // A line written as the CLI exits fails with EPIPE; the waits report the exit itself.
    child.stdin.on("error", () => undefined);
    createInterface({ input: child.stderr }).on("line", (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.wake();
        resolve();
      });
    });
  }

  /** Its own home (identity, database), working directory (.env) and temporary directory (QR code), under `dir`. */
  static async start(args: string[], dir: string, opts: ConvosCliOptions = {}): Promise<ConvosCli> {
    // `agent serve` says ready before it listens for join requests; its heartbeat comes after (see ready()).
    const serving = args[0] === "agent" && args[1] === "serve" && !args.includes("--heartbeat");
    const p = await convosProcess(serving ? [...args, "--heartbeat", "1"] : args, dir, opts);
    const child = spawn(p.file, p.argv, { cwd: p.cwd, env: p.env, stdio: ["pipe", "pipe", "pipe"] });
    child.once("exit", p.close);
    return new ConvosCli(child, dir, opts);
  }

  private wake() {
    for (const w of this.wakers) w();
  }

  /** The first event from index `from` on that matches; fails after `ms` or when the CLI exits. */
  waitFor<E extends CliEvent = CliEvent>(
    what: string,
    match: (e: CliEvent) => boolean,
    opts: { ms?: number; from?: number } = {},
  ): Promise<E> {
    const ms = opts.ms ?? 20_000;
    const from = opts.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(match);
        const failure = found
          ? undefined
          : this.exit
            ? `the CLI ${this.exit}`
            : Date.now() >= deadline
              ? `not within ${ms} ms`
              : undefined;
        if (!found && !failure) return;
        clearTimeout(timer);
        this.wakers.delete(check);
        if (found) resolve(found as E);
        else {
          const seen = this.events
            .map((e) => (e.event === "message" ? `message(${String(e.content).slice(0, 60)})` : e.event))
            .join(", ");
          reject(
            new Error(
              `convos agent serve: no ${what} event (${failure}).\nevents: ${seen || "none"}\nstderr:\n${this.stderr.join("\n")}`,
            ),
          );
        }
      };
      const deadline = Date.now() + ms;
      const timer = setTimeout(check, ms);
      this.wakers.add(check);
      check();
    });
  }

  /**
   * Its `ready` event, once it also listens: `agent serve` prints `ready`
   * before it starts its streams, and a join request sent in between is
   * never seen. Its first heartbeat comes after the streams started.
   */
  async ready(ms = 30_000): Promise<ReadyEvent> {
    const ready = await this.waitFor<ReadyEvent>("ready", (e) => e.event === "ready", { ms });
    // Its stdin reader starts after its streams and answers a command it does not know at once (`listening`,
    // above); the first heartbeat comes a whole interval (1 s) after the streams started. Either says it listens.
    if (this.child.stdin.writable) this.command({ type: PROBE });
    await this.waitFor(
      "heartbeat with its streams running, or its answer on stdin",
      (e) => (e.event === "heartbeat" && Number(e.activeStreams) >= 2) || e.event === "listening",
      { ms },
    );
    return ready;
  }

  /** One ndjson command on stdin, e.g. {"type":"send","text":"..."}. */
  command(cmd: { type: string; [key: string]: unknown }) {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Sends a text and waits until the CLI reports it sent; returns the event index to wait from. */
  async send(text: string): Promise<number> {
    return (await this.sendMessage(text)).from;
  }

  /** As `send`, with the message's id (what the agent's reply and thinking status name). */
  async sendMessage(text: string): Promise<{ from: number; id: string }> {
    const from = this.events.length;
    this.command({ type: "send", text });
    const sent = await this.waitFor<CliEvent & { id: string }>(
      "sent",
      (e) => e.event === "sent" && e.text === text && e.replyTo === undefined,
      { from },
    );
    return { from, id: sent.id };
  }

  /** Replies to a message (XMTP's reply content type, as Convos clients send it); returns the event index to wait from and the reply's id. */
  async reply(messageId: string, text: string): Promise<{ from: number; id: string }> {
    const from = this.events.length;
    this.command({ type: "send", text, replyTo: messageId });
    const sent = await this.waitFor<CliEvent & { id: string }>(
      "reply sent",
      (e) => e.event === "sent" && e.text === text && e.replyTo === messageId,
      { from },
    );
    return { from, id: sent.id };
  }

  /** Reacts to a message (XMTP's reaction content type), or takes a reaction back; returns the event index to wait from. */
  async react(messageId: string, emoji: string, action: "add" | "remove" = "add"): Promise<number> {
    const from = this.events.length;
    this.command({ type: "react", messageId, emoji, action });
    await this.waitFor(
      "reaction sent",
      (e) => e.event === "sent" && e.type === "reaction" && e.messageId === messageId && e.action === action,
      { from },
    );
    return from;
  }

  /** The next text message from `inboxId` after event index `from`. */
  messageFrom(inboxId: string, from: number, ms = 20_000): Promise<MessageEvent> {
    return this.waitFor<MessageEvent>(
      `message from ${inboxId.slice(0, 8)}`,
      (e) => e.event === "message" && e.senderInboxId === inboxId && typeof e.content === "string",
      { from, ms },
    );
  }

  /** The next thinking status from `inboxId` after event index `from` that matches. */
  thinkingFrom(
    inboxId: string,
    from: number,
    match: (e: ThinkingEvent) => boolean = () => true,
    ms = 20_000,
  ): Promise<ThinkingEvent> {
    return this.waitFor<ThinkingEvent>(
      `thinking from ${inboxId.slice(0, 8)}`,
      (e) => e.event === "thinking" && e.senderInboxId === inboxId && match(e as ThinkingEvent),
      { from, ms },
    );
  }

  /** One CLI command with `--json` on this CLI's own home, beside `agent serve` (`conversation messages`, say); its output parsed. */
  run<T>(args: string[]): Promise<T> {
    // A CLI that starts beside a running one on a busy machine may take a while.
    return runConvos<T>(args, this.dir, { ...this.opts, timeoutMs: 60_000 });
  }

  /**
   * `stop`, then end stdin (the CLI only exits once stdin is closed); SIGKILL
   * if it lingers. Before its `ready` event, SIGTERM instead: `agent serve`
   * without a conversation's id reads stdin for one while it parses its
   * arguments (oclif does): a stop line then becomes the id, and the CLI
   * fails with "Conversation not found: {"type":"stop"}".
   */
  async stop() {
    if (this.exit) return;
    if (!this.events.some((e) => e.event === "ready")) {
      this.child.stdin.end();
      this.child.kill("SIGTERM");
    } else if (this.child.stdin.writable) {
      this.command({ type: "stop" });
      this.child.stdin.end();
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The agent's first message after the CLI's event `from` that matches `answer`; its text. */
export async function said(
  cli: ConvosCli,
  agent: { inboxId: string },
  from: number,
  answer: RegExp,
  ms = 30_000,
): Promise<string> {
  return (await saidMessage(cli, agent, from, answer, ms)).content;
}

/** As `said`, with the message's id (to reply to it or react on it) and, for a reply, the id it replies to. */
export function saidMessage(
  cli: ConvosCli,
  agent: { inboxId: string },
  from: number,
  answer: RegExp,
  ms = 30_000,
): Promise<MessageEvent> {
  return cli.waitFor<MessageEvent>(
    `${agent.inboxId} saying ${answer}`,
    (e) =>
      e.event === "message" &&
      e.senderInboxId === agent.inboxId &&
      typeof e.content === "string" &&
      answer.test(e.content),
    { from, ms },
  );
}

/** Sends `text` in the CLI's conversation and waits for the agent's message that matches `answer`. */
export async function ask(
  cli: ConvosCli,
  agent: { inboxId: string },
  text: string,
  answer: RegExp,
  ms = 30_000,
): Promise<string> {
  return said(cli, agent, await cli.send(text), answer, ms);
}
