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

import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@convos-pool/kit";
import type { LlmProvider } from "../model/turn.js";
import type { AgentRuntime, RuntimeAgent } from "../agent/types.js";
import { signedFiles, SIGNED_FILES } from "./files.js";
import { OpenClawGateway } from "./gateway.js";
import type { OpenClawInstall } from "./install.js";
import { OpenClawProvider, type SignedWorkspace } from "./provider.js";
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
}

interface Brain {
  gateway: OpenClawGateway;
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

  constructor(private readonly opts: OpenClawRuntimeOptions) {}

  /** Its gateways (benchmarks, tests). */
  gateways(): ReadonlyMap<string, OpenClawGateway> {
    return new Map([...this.brains].map(([id, b]) => [id, b.gateway]));
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
        beforeStart: () => this.makeRoom(agent.id),
      });
      const signed = signedWorkspace();
      b = { gateway, signed, provider: new OpenClawProvider(agent, gateway, signed, this.opts.host) };
      this.brains.set(agent.id, b);
    }
    return b;
  }

  /** Gateways started or starting. */
  private active(): OpenClawGateway[] {
    return [...this.brains.values()].map((b) => b.gateway).filter((g) => g.active);
  }

  /** Before `id`'s gateway starts: others beyond the limit stopped, least recently used first, none in a turn. */
  private async makeRoom(id: string): Promise<void> {
    const max = this.opts.maxGateways;
    if (!max) return;
    const others = [...this.brains]
      .filter(([other, b]) => other !== id && b.gateway.active && b.gateway.inUse === 0)
      .sort(([, a], [, b]) => a.gateway.lastUsed - b.gateway.lastUsed);
    let running = this.active().filter((g) => g !== this.brains.get(id)?.gateway).length;
    for (const [other, b] of others) {
      if (running < max) break;
      this.opts.log.info("openclaw gateway stopped to make room", { instanceId: other, maxGateways: max });
      await b.gateway.stop();
      running--;
    }
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
      // Another model (an update's new default): a gateway configured for it.
      await b.gateway.stop();
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
    // Not awaited: a gateway takes up to a minute to start; the first turn waits for it.
    // With no room left it starts at that first turn instead, so a Configure stops no one.
    const room = !this.opts.maxGateways || this.active().length < this.opts.maxGateways;
    if (room) void b.gateway.ensure().catch(() => undefined);
  }

  check(agent: RuntimeAgent): void {
    const b = this.brains.get(agent.id);
    // A gateway stopped to make room stays stopped until its next turn; one that died is started again.
    if (b && b.gateway.starts > 0 && !b.gateway.active && !b.gateway.stopped)
      void b.gateway.ensure().catch(() => undefined);
  }

  async release(agent: RuntimeAgent): Promise<void> {
    const b = this.brains.get(agent.id);
    this.brains.delete(agent.id);
    if (b) await b.gateway.stop(true);
    else
      await this.brain(agent)
        .gateway.stop(true)
        .finally(() => this.brains.delete(agent.id));
  }

  async stop(agent: RuntimeAgent): Promise<void> {
    const b = this.brains.get(agent.id);
    this.brains.delete(agent.id);
    if (b) await b.gateway.stop();
  }
}
