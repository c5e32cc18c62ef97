// Test helper: the real Convos CLI (`convos agent serve` from @xmtp/convos-cli)
// as a child process, the creator of a Convos conversation on the local XMTP
// node (it talks to localhost:5556 only: hold lockLocalXmtpPort). It prints one
// JSON event per line on stdout and takes ndjson commands on stdin.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

export interface CliEvent {
  event: string;
  [key: string]: unknown;
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

export class ConvosCli {
  readonly events: CliEvent[] = [];
  private readonly stderr: string[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly exited: Promise<void>;
  private exit: string | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as CliEvent);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
      this.wake();
    });
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
  static async start(args: string[], dir: string): Promise<ConvosCli> {
    const dirs = { home: join(dir, "home"), cwd: join(dir, "cwd"), tmp: join(dir, "tmp"), xdg: join(dir, "xdg") };
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CONVOS_|XMTP_)/.test(k)));
    const child = spawn(process.execPath, [CLI_BIN, ...args, "--env", "local", "--home", dirs.home], {
      cwd: dirs.cwd,
      env: {
        ...env,
        TMPDIR: dirs.tmp,
        XDG_CACHE_HOME: dirs.xdg,
        XDG_CONFIG_HOME: dirs.xdg,
        XDG_DATA_HOME: dirs.xdg,
        CONVOS_SKIP_NEW_VERSION_CHECK: "true",
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new ConvosCli(child);
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

  /** One ndjson command on stdin, e.g. {"type":"send","text":"..."}. */
  command(cmd: { type: string; [key: string]: unknown }) {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Sends a text and waits until the CLI reports it sent; returns the event index to wait from. */
  async send(text: string): Promise<number> {
    const from = this.events.length;
    this.command({ type: "send", text });
    await this.waitFor("sent", (e) => e.event === "sent" && e.text === text, { from });
    return from;
  }

  /** The next text message from `inboxId` after event index `from`. */
  messageFrom(inboxId: string, from: number, ms = 20_000): Promise<CliEvent & { content: string }> {
    return this.waitFor(
      `message from ${inboxId.slice(0, 8)}`,
      (e) => e.event === "message" && e.senderInboxId === inboxId && typeof e.content === "string",
      { from, ms },
    );
  }

  /** `stop`, then end stdin (the CLI only exits once stdin is closed); SIGKILL if it lingers. */
  async stop() {
    if (this.exit) return;
    if (this.child.stdin.writable) {
      this.command({ type: "stop" });
      this.child.stdin.end();
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
