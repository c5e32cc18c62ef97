// One OpenClaw gateway: the process that thinks for one agent. Started with
// its own state directory, a free loopback port and a random token (none of
// it shared with another agent's), watched while it runs: a gateway that
// exits when it was not asked to is started again, after 2 s, doubling to a
// minute. Its output goes to a log file in its state directory, never to the
// host's log (it may quote what the conversation said).

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { reservePort, type Logger, type PortReservation } from "@convos-pool/kit/server";
import { gatewayConfig, gatewayEnv, OPENCLAW_MODEL, type GatewayPaths } from "./config.js";
import type { OpenClawInstall } from "./install.js";
import { SessionMarks } from "./sessions.js";

/** How long a gateway may take to say it is ready: 45 to 70 s on a busy 2-core machine (docs/performance/openclaw.md). */
export const START_TIMEOUT_MS = 240_000;
/** How long it may take to stop before it is killed. */
const STOP_GRACE_MS = 10_000;
const RESTART_FIRST_MS = 2_000;
const RESTART_MAX_MS = 60_000;

export interface GatewayOptions {
  install: OpenClawInstall;
  /** Its folder: <agent workspace>/openclaw. */
  root: string;
  upstream: { baseUrl: string; apiKey: string };
  model: string;
  log: Logger;
  startTimeoutMs?: number;
  /** Before each start (the runtime frees a place: gateways beyond its limit are stopped, least recently used first). */
  beforeStart?: () => Promise<void>;
}

/** How long a spare's config reload may take to apply (OpenClaw debounces its watcher; a few hundred ms here). */
const TAKE_TIMEOUT_MS = 15_000;

/** The folders of a gateway under its root. */
export function gatewayPaths(root: string): GatewayPaths {
  return {
    state: join(root, "state"),
    config: join(root, "openclaw.json"),
    workspace: join(root, "workspace"),
    tmp: join(root, "tmp"),
    home: join(root, "home"),
    log: join(root, "state", "logs", "openclaw.log"),
  };
}

/**
 * The ports a gateway is given, held from before its config is written until
 * its process exits (kit's reservePort: 15 s to a minute pass before it
 * listens, and no other asker on the machine gets them meanwhile). Three:
 * its own, and the two OpenClaw derives from it, port + 1 (its MCP App
 * sandbox, started when an MCP App is used) and port + 2 (its browser
 * control, off here); the browser's Chrome ports (port + 11 and up) are not
 * held, the browser being off (config.ts).
 */
const GATEWAY_PORT_SPAN = 3;

export class OpenClawGateway {
  paths: GatewayPaths;
  /** Its bearer token: random per start, held in memory and in its environment only. */
  private token = "";
  private port = 0;
  /** Its ports while its process may listen on them (released when it exits, or when a start fails before it runs). */
  private ports: PortReservation | undefined;
  private child: ChildProcess | undefined;
  /** Settles when the running start is ready (rejects when it failed). */
  private starting: Promise<void> | undefined;
  private stopping = false;
  private restartDelay = RESTART_FIRST_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Starts so far, and when the last became ready (ms from spawn). */
  starts = 0;
  lastStartMs: number | undefined;
  /** When a turn last asked for it (Date.now()): the runtime stops the least recently used first. */
  lastUsed = 0;
  /** Calls in progress: a gateway in a turn is not stopped to free a place. */
  inUse = 0;
  /** Stopped on purpose (to free a place, a stop): not started again until a turn asks for it. */
  stopped = false;
  /**
   * What each session of its store was told (sessions.ts): none when the
   * store is new to its agent (a first start, or a spare it took), so that
   * each session's first turn carries the recent conversation.
   */
  sessions: SessionMarks;
  private model_: string;
  /**
   * A spare (no agent yet): until it takes one, its model is this address
   * (the runtime's stand-in, which turns every request away), and once
   * started it runs one turn there, so that OpenClaw loads what its first
   * turn loads (about 7 s here) before any agent waits for it, and no model
   * is paid for it.
   */
  spareUpstream: string | undefined;
  /** A spare that took an agent (its config names the agent's workspace and model). */
  private hasAgent = false;
  private tail = "";
  private isReady = false;

  constructor(private readonly opts: GatewayOptions) {
    this.paths = gatewayPaths(opts.root);
    this.model_ = opts.model;
    this.sessions = new SessionMarks(this.paths.state);
  }

  get model(): string {
    return this.model_;
  }

  /** Running and ready for turns. */
  get ready(): boolean {
    return this.isReady && this.running;
  }

  /** Its openclaw.json for its current workspace and model. */
  private async writeConfig(): Promise<void> {
    const config = gatewayConfig({
      port: this.port,
      paths: this.paths,
      upstreamBaseUrl: (!this.hasAgent && this.spareUpstream) || this.opts.upstream.baseUrl,
      model: this.model_,
    });
    await writeFile(`${this.paths.config}.tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    await rename(`${this.paths.config}.tmp`, this.paths.config);
  }

  /**
   * A ready spare takes an agent: its workspace (the agent's files) and its
   * model, by rewriting its openclaw.json, which OpenClaw applies without a
   * restart (`agents` and `models` hot-reload); resolves once its log says
   * the reload applied. Its state directory stays its own, so its session
   * store is new to the agent (no session was told anything).
   */
  async take(agent: { workspace: string; model: string }): Promise<void> {
    if (!this.ready) throw new Error("only a ready gateway takes an agent");
    this.paths = { ...this.paths, workspace: agent.workspace };
    this.model_ = agent.model;
    this.hasAgent = true;
    await this.sessions.clear();
    // Only what it says from now on: the reload of this config.
    this.tail = "";
    await this.writeConfig();
    const started = performance.now();
    while (!/config (?:hot reload|change) applied/.test(this.tail)) {
      if (!this.running) throw new Error("the OpenClaw gateway exited while it took an agent");
      if (performance.now() - started > TAKE_TIMEOUT_MS)
        throw new Error(`the OpenClaw gateway did not apply its new config within ${TAKE_TIMEOUT_MS} ms`);
      await sleep(50);
    }
    this.lastUsed = Date.now();
  }

  /** Where its chat completions are, with the token to use; waits for it to be ready (starting it if need be). */
  async endpoint(): Promise<{ baseUrl: string; token: string }> {
    this.lastUsed = Date.now();
    await this.ensure();
    return { baseUrl: `http://127.0.0.1:${this.port}/v1`, token: this.token };
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether it is started or starting. */
  get active(): boolean {
    return !!this.starting && (this.running || !this.child);
  }

  /** Started (or starting) unless it is; resolves once ready. */
  ensure(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error("the OpenClaw gateway is stopping"));
    if (this.active && this.starting) return this.starting;
    this.starting = this.start();
    // A failed start is logged and retried by the supervisor; callers see the failure.
    this.starting.catch(() => undefined);
    return this.starting;
  }

  private async start(): Promise<void> {
    const { install, log } = this.opts;
    const p = this.paths;
    this.stopped = false;
    await this.opts.beforeStart?.();
    for (const d of [p.state, p.workspace, p.tmp, p.home, dirname(p.log)])
      await mkdir(d, { recursive: true, mode: 0o700 });
    this.ports?.release();
    const ports = await reservePort({ span: GATEWAY_PORT_SPAN });
    this.ports = ports;
    this.port = ports.port;
    this.token = randomBytes(32).toString("hex");
    this.isReady = false;
    // A session store from an earlier start holds what each session was told already.
    if (
      await access(join(p.state, "agents")).then(
        () => true,
        () => false,
      )
    )
      await this.sessions.load();
    else await this.sessions.clear();
    await this.writeConfig();
    const out = createWriteStream(join(p.state, "logs", "gateway.out"), { flags: "a", mode: 0o600 });
    const started = performance.now();
    const child = spawn(install.node, [install.entry, "gateway", "run"], {
      cwd: p.workspace,
      env: gatewayEnv({
        paths: p,
        token: this.token,
        upstreamApiKey: this.opts.upstream.apiKey,
        nodeDir: dirname(install.node),
      }),
      // Its own process group: stopping it stops the helpers it spawns.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    // Its own process group does not hear the host's Ctrl-C: not left behind by a host that exits without stopping it.
    const orphaned = () => {
      if (child.pid === undefined) return; // it never started
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    };
    process.once("exit", orphaned);
    child.once("exit", () => {
      process.off("exit", orphaned);
      // Its ports are let go with it: the next start takes others.
      ports.release();
    });
    this.starts++;
    log.info("openclaw gateway starting", { pid: child.pid, port: this.port, start: this.starts });
    let readyLine = () => {};
    const ready = new Promise<void>((resolve) => {
      readyLine = resolve;
    });
    this.tail = "";
    const scan = (chunk: Buffer) => {
      out.write(chunk);
      this.tail = (this.tail + chunk.toString("utf8")).slice(-4096);
      if (/\[gateway\]\s+ready\b/.test(this.tail)) readyLine();
    };
    child.stdout.on("data", scan);
    child.stderr.on("data", scan);
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code, signal) => {
        out.end();
        reject(new Error(`the OpenClaw gateway exited (${signal ?? `code ${code}`}) before it was ready`));
      }),
    );
    child.once("exit", (code, signal) => this.exited(child, code, signal));
    try {
      await Promise.race([
        ready,
        exited,
        sleep(this.opts.startTimeoutMs ?? START_TIMEOUT_MS, undefined, { ref: false }).then(() => {
          throw new Error(
            `the OpenClaw gateway was not ready within ${this.opts.startTimeoutMs ?? START_TIMEOUT_MS} ms`,
          );
        }),
      ]);
    } catch (err) {
      if (this.stopping) log.info("openclaw gateway stopped before it was ready", { pid: child.pid });
      else log.error("openclaw gateway failed to start", { err, pid: child.pid });
      this.kill(child);
      throw err;
    }
    this.lastStartMs = Math.round(performance.now() - started);
    if (this.spareUpstream && !this.hasAgent) await this.warmUp();
    this.isReady = true;
    this.restartDelay = RESTART_FIRST_MS;
    log.info("openclaw gateway ready", { pid: child.pid, port: this.port, ms: this.lastStartMs });
  }

  /** A spare's first turn, against the stand-in that turns it away: answered with an error, what it loaded stays loaded. */
  private async warmUp(): Promise<void> {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${this.port}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ model: OPENCLAW_MODEL, user: "warm-up", messages: [{ role: "user", content: "-" }] }),
      signal: AbortSignal.timeout(60_000),
    }).catch((err: unknown) => err as Error);
    if (res instanceof Response) await res.arrayBuffer().catch(() => undefined);
    this.opts.log.info("openclaw spare warmed", {
      ms: Math.round(performance.now() - started),
      status: res instanceof Response ? res.status : String(res),
    });
  }

  /** Its exit: expected when stopping; otherwise it is started again after a growing delay. */
  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.isReady = false;
    if (this.stopping) return;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(delay * 2, RESTART_MAX_MS);
    this.opts.log.warn("openclaw gateway exited; starting it again", { pid: child.pid, code, signal, inMs: delay });
    this.starting = undefined;
    this.child = undefined;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.ensure(), delay);
    this.restartTimer.unref();
  }

  private kill(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * Stops it (SIGTERM to its group, SIGKILL after 10 s); `deleteState`
   * removes everything it wrote. A later `ensure` starts it again.
   */
  async stop(deleteState = false): Promise<void> {
    this.stopping = true;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    this.starting = undefined;
    this.isReady = false;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      this.kill(child, "SIGTERM");
      const killed = await Promise.race([gone.then(() => false), sleep(STOP_GRACE_MS, true, { ref: false })]);
      if (killed) {
        this.kill(child);
        await gone;
      }
    }
    // Helpers of its group that outlived it.
    if (child?.pid) this.kill(child);
    this.ports?.release();
    if (deleteState) await rm(this.opts.root, { recursive: true, force: true });
    this.stopping = false;
  }

  /** Resident memory of its process group, in bytes (Linux /proc); 0 when it is not running. */
  async rssBytes(): Promise<number> {
    const pgid = this.child?.pid;
    if (!pgid || !this.running) return 0;
    let total = 0;
    for (const entry of await readdir("/proc").catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
      // Fields after the command's closing parenthesis: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    }
    return total;
  }
}
