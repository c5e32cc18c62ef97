// The OpenClaw runtime of an instance host (INSTANCE_RUNTIME=openclaw;
// docs/openclaw.md): the host keeps everything the pool's security rests on
// (keys, XMTP, signatures, roles, trust levels, memory, the workspace), and
// each configured agent gets one OpenClaw gateway that thinks for it. This
// maps InstanceService's calls onto that gateway:
//   Configure, UpdateTemplate, a restart   `apply`: IDENTITY.md, SOUL.md and AGENTS.md written from
//                                          the signed release, the gateway started (again, if its model changed)
//   a turn, a clone summary                the agent's OpenClawProvider (provider.ts)
//   Health                                 `check`: a gateway that is not running is started
//   Release                                `release`: the gateway stopped, its state deleted
//   StopInstance, the host closing         `stop`: the gateway stopped, its state kept
//   the agent going dormant                `rest`: the gateway stopped, its state kept; its wake is `apply`
// A gateway that must start for an agent takes a ready spare when there is
// one (`warmGateways`), else starts its own (policy.ts decides).

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@convos-pool/kit/server";
import type { LlmProvider } from "../model/turn.js";
import type { AgentRuntime, RuntimeAgent } from "../agent/life/deps.js";
import { signedFiles, SIGNED_FILES } from "./files.js";
import { OpenClawGateway } from "./gateway.js";
import type { OpenClawInstall } from "./install.js";
import { OpenClawProvider, type SignedWorkspace } from "./provider.js";
import { sparesToStart, takesSpare, toRest } from "./policy.js";
import { refusingUpstream } from "./spare-upstream.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";

/** An agent's folder for OpenClaw, under its workspace. */
export const OPENCLAW_DIR = "openclaw";

export interface OpenClawRuntimeOptions {
  install: OpenClawInstall;
  /** The upstream OpenAI-compatible endpoint every gateway's model is at (the host's LLM). */
  upstream: { baseUrl: string; apiKey: string; model?: string | undefined };
  /** The host's model, which learning stays with. */
  host: LlmProvider;
  log: Logger;
  startTimeoutMs?: number;
  /**
   * Gateways running at once (each holds about 1 to 1.6 GB): starting one
   * more stops the least recently used idle one first, which starts again at
   * its agent's next turn. Default: no limit.
   */
  maxGateways?: number | undefined;
  /**
   * Spare gateways kept started ahead with no agent (each holds about 1 GB):
   * an agent whose gateway must start (a wake, a claim) takes one and skips
   * the minute a start takes. They count within `maxGateways`. Default 0.
   */
  warmGateways?: number | undefined;
  /** Where spares keep their state (deleted when they stop); needed with `warmGateways`. */
  spareDir?: string | undefined;
}

interface Brain {
  /** The gateway thinking for it now: its own, or a spare it took. */
  gateway: OpenClawGateway;
  /** A start (or a spare's take) under way: a turn that comes meanwhile waits for it rather than start another. */
  starting?: Promise<OpenClawGateway> | undefined;
  provider: OpenClawProvider;
  signed: SignedWorkspace;
}

/** Its files as last written, and a lock that writes and checks take in turn. */
function signedWorkspace(): SignedWorkspace {
  let tail: Promise<unknown> = Promise.resolve();
  const signed: SignedWorkspace = {
    expected: undefined,
    exclusive: (job) => {
      const next = tail.then(job, job);
      tail = next.catch(() => undefined);
      return next;
    },
  };
  return signed;
}

export class OpenClawRuntime implements AgentRuntime {
  readonly kind = "openclaw";
  private readonly brains = new Map<string, Brain>();
  /** Spares: started or starting, no agent yet. */
  private readonly spares = new Set<OpenClawGateway>();
  /** Gateways that were spares, with the folder to delete when they stop. */
  private readonly taken = new WeakMap<OpenClawGateway, string>();
  private closed = false;
  /** The model spares think with until they take an agent: one that turns every request away (spare-upstream.ts). */
  private readonly refusal = refusingUpstream();

  constructor(private readonly opts: OpenClawRuntimeOptions) {
    if (opts.warmGateways && !opts.spareDir) throw new Error("warm OpenClaw gateways need a spareDir");
  }

  /** Its agents' gateways (benchmarks, tests). */
  gateways(): ReadonlyMap<string, OpenClawGateway> {
    return new Map([...this.brains].map(([id, b]) => [id, b.gateway]));
  }

  /** Its spares (benchmarks, tests). */
  spareGateways(): readonly OpenClawGateway[] {
    return [...this.spares];
  }

  /** Spares started up to `warmGateways`, within the cap. Not awaited by anyone: a start takes a minute. */
  warm(): void {
    if (this.closed || !this.opts.warmGateways || !this.opts.spareDir) return;
    const n = sparesToStart({
      wanted: this.opts.warmGateways,
      spares: this.spares.size,
      agents: this.active().length,
      max: this.opts.maxGateways,
    });
    for (let i = 0; i < n; i++) {
      const root = join(this.opts.spareDir, `spare-${randomBytes(6).toString("hex")}`);
      const spare = new OpenClawGateway({
        install: this.opts.install,
        root,
        upstream: this.opts.upstream,
        model: this.opts.upstream.model || "default",
        log: this.opts.log.child({ runtime: "openclaw", spare: root }),
        ...(this.opts.startTimeoutMs !== undefined ? { startTimeoutMs: this.opts.startTimeoutMs } : {}),
      });
      this.spares.add(spare);
      this.taken.set(spare, root);
      void this.startSpare(spare, root);
    }
  }

  private async startSpare(spare: OpenClawGateway, root: string): Promise<void> {
    try {
      spare.spareUpstream = await this.refusal.url();
      await spare.ensure();
    } catch {
      // A spare that failed is dropped; the next wake or claim asks for another.
      this.spares.delete(spare);
      await this.drop(spare).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  }

  /**
   * The agent's gateway, running: its own if it runs, else a ready spare
   * taken (the agent's workspace and model pointed at it), else its own
   * started. Waits for it to be ready.
   */
  private started(agent: RuntimeAgent, b: Brain): Promise<OpenClawGateway> {
    if (b.gateway.ready) return Promise.resolve(b.gateway);
    b.starting ??= this.start(agent, b).finally(() => (b.starting = undefined));
    return b.starting;
  }

  private async start(agent: RuntimeAgent, b: Brain): Promise<OpenClawGateway> {
    const ready = [...this.spares].filter((s) => s.ready);
    const spare = ready[0];
    if (spare && takesSpare(b.gateway, ready.length)) {
      this.spares.delete(spare);
      const t0 = performance.now();
      try {
        await spare.take({ workspace: b.gateway.paths.workspace, model: b.gateway.model });
        const own = b.gateway;
        b.gateway = spare;
        // Its own state's session misses what the spare will hear: a later start of its own begins afresh.
        await rm(join(own.paths.state, "agents"), { recursive: true, force: true });
        agent.log.info("openclaw gateway taken from the warm spares", { ms: Math.round(performance.now() - t0) });
      } catch (err) {
        agent.log.warn("a warm openclaw gateway could not take the agent; starting its own", { err });
        await this.drop(spare);
      }
      this.warm();
    }
    await b.gateway.ensure();
    return b.gateway;
  }

  /** A gateway stopped; a spare's folder deleted with it. */
  private async drop(gateway: OpenClawGateway): Promise<void> {
    await gateway.stop();
    const root = this.taken.get(gateway);
    if (root) await rm(root, { recursive: true, force: true });
  }

  private modelOf(agent: RuntimeAgent): string {
    return agent.config?.model || this.opts.upstream.model || "default";
  }

  private brain(agent: RuntimeAgent, model = this.modelOf(agent)): Brain {
    let b = this.brains.get(agent.id);
    if (!b) {
      const gateway = new OpenClawGateway({
        install: this.opts.install,
        root: join(agent.ws.dir, OPENCLAW_DIR),
        upstream: this.opts.upstream,
        model,
        log: agent.log.child({ runtime: "openclaw" }),
        ...(this.opts.startTimeoutMs !== undefined ? { startTimeoutMs: this.opts.startTimeoutMs } : {}),
        beforeStart: () => this.freePlace(agent.id),
      });
      const signed = signedWorkspace();
      const brain: Brain = {
        gateway,
        signed,
        provider: new OpenClawProvider(
          agent,
          { current: () => brain.gateway, started: () => this.started(agent, brain) },
          signed,
          this.opts.host,
        ),
      };
      b = brain;
      this.brains.set(agent.id, b);
    }
    return b;
  }

  /** Agents' gateways started or starting. */
  private active(): OpenClawGateway[] {
    return [...this.brains.values()].map((b) => b.gateway).filter((g) => g.active);
  }

  /** Before `id`'s gateway starts: others beyond the limit rest, least recently used first, none in a turn. */
  private async freePlace(id: string): Promise<void> {
    const views = [...this.brains].map(([other, b]) => ({
      id: other,
      active: b.gateway.active,
      inUse: b.gateway.inUse,
      lastUsed: b.gateway.lastUsed,
    }));
    for (const other of toRest(views, this.spares.size, id, this.opts.maxGateways)) {
      this.opts.log.info("openclaw gateway stopped: too many running", {
        instanceId: other,
        maxGateways: this.opts.maxGateways,
      });
      await this.restBrain(other);
    }
  }

  /**
   * Its gateway stopped, its state kept (its workspace, its session store),
   * until a wake or a turn starts one again: the one path for a dormant
   * agent and for one the cap frees a place for. A spare it had taken goes,
   * folder and all (its workspace is the agent's and stays).
   */
  async rest(agent: RuntimeAgent): Promise<void> {
    // A spare being taken becomes its gateway first: that is the one to stop. (Not when freeing a place:
    // two starts waiting for each other's would never end.)
    await this.brains.get(agent.id)?.starting?.catch(() => undefined);
    await this.restBrain(agent.id);
    this.warm();
  }

  private async restBrain(id: string): Promise<void> {
    const b = this.brains.get(id);
    if (!b) return;
    const gateway = b.gateway;
    if (this.taken.has(gateway)) {
      // Back to a gateway of its own (stopped) on its own folder; the spare's folder is deleted.
      b.gateway = this.ownGateway(id, gateway);
      await this.drop(gateway);
    } else await gateway.stop();
  }

  /** A new (stopped) gateway of the agent's own, after a spare it had taken. */
  private ownGateway(id: string, was: OpenClawGateway): OpenClawGateway {
    const root = join(was.paths.workspace, "..");
    const own = new OpenClawGateway({
      install: this.opts.install,
      root,
      upstream: this.opts.upstream,
      model: was.model,
      log: this.opts.log.child({ runtime: "openclaw", instanceId: id }),
      ...(this.opts.startTimeoutMs !== undefined ? { startTimeoutMs: this.opts.startTimeoutMs } : {}),
      beforeStart: () => this.freePlace(id),
    });
    own.stopped = true;
    return own;
  }

  provider(agent: RuntimeAgent): LlmProvider {
    return this.brain(agent).provider;
  }

  async apply(agent: RuntimeAgent, release?: { content: TemplateContent; model: string }): Promise<void> {
    const content = release?.content ?? agent.runningContent();
    if (!content) return;
    const model = release?.model || this.modelOf(agent);
    let b = this.brain(agent, model);
    if (b.gateway.model !== model) {
      // Another model (an update's new default): a gateway configured for it (a spare it took goes, folder and all).
      await this.drop(b.gateway);
      this.brains.delete(agent.id);
      b = this.brain(agent, model);
    }
    const dir = b.gateway.paths.workspace;
    const signed = b.signed;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const files = signedFiles(content);
    await signed.exclusive(async () => {
      for (const f of SIGNED_FILES) {
        await writeFile(join(dir, `${f}.tmp`), files[f], { mode: 0o600 });
        await rename(join(dir, `${f}.tmp`), join(dir, f));
      }
      signed.expected = files;
    });
    agent.log.info("openclaw workspace written", { files: [...SIGNED_FILES] });
    // Not awaited: a gateway takes up to a minute to start (a spare, a moment); the first turn waits for it.
    // With no free place it starts at that first turn instead, so a Configure stops no one.
    const spareReady = [...this.spares].some((s) => s.ready);
    const free =
      spareReady || !this.opts.maxGateways || this.active().length + this.spares.size < this.opts.maxGateways;
    if (free) void this.started(agent, b).catch(() => undefined);
    this.warm();
  }

  check(agent: RuntimeAgent): void {
    const b = this.brains.get(agent.id);
    // A gateway stopped to free a place stays stopped until its next turn; one that died is started again.
    if (b && b.gateway.starts > 0 && !b.gateway.active && !b.gateway.stopped)
      void b.gateway.ensure().catch(() => undefined);
  }

  async release(agent: RuntimeAgent): Promise<void> {
    const b = this.brains.get(agent.id);
    this.brains.delete(agent.id);
    if (b && this.taken.has(b.gateway)) {
      await this.drop(b.gateway);
      await rm(join(agent.ws.dir, OPENCLAW_DIR), { recursive: true, force: true });
    } else if (b) await b.gateway.stop(true);
    else
      await this.brain(agent)
        .gateway.stop(true)
        .finally(() => this.brains.delete(agent.id));
  }

  async stop(agent: RuntimeAgent): Promise<void> {
    const b = this.brains.get(agent.id);
    this.brains.delete(agent.id);
    if (b && this.taken.has(b.gateway)) await this.drop(b.gateway);
    else if (b) await b.gateway.stop();
  }

  /** The host closing: its spares stopped and deleted (its agents are stopped one by one). */
  async close(): Promise<void> {
    this.closed = true;
    const spares = [...this.spares];
    this.spares.clear();
    await Promise.all(spares.map((s) => this.drop(s)));
    await this.refusal.close();
  }
}
