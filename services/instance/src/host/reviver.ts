// Agents whose start or wake failed (CRASHED) are started again, each after a
// backoff of its own (docs/instance.md, "XMTP's limits"): the network refusing
// a write (its rate limit, an outage) while a host starts thousands of agents,
// wakes one or takes one moved from a lost host must not leave an owner's
// agent down until the host restarts. A start again reuses the agent's XMTP
// database, so it makes no new installation; a dormant agent whose wake failed
// is dormant again, and its next message wakes it.

import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { forEachLimited, Repeater, type Logger } from "@convos-pool/kit/server";

/** The first start again this long after the crash was seen; each failure doubles it, up to REVIVE_MAX_MS. */
export const REVIVE_FIRST_MS = 5_000;
export const REVIVE_MAX_MS = 5 * 60_000;

/** How long after its `failures`-th failed start (1 for the crash itself) an agent is started again. */
export function reviveDelayMs(failures: number, firstMs = REVIVE_FIRST_MS, maxMs = REVIVE_MAX_MS): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, failures - 1));
}

export interface Revivable {
  id: string;
  state: InstanceState;
}

export interface ReviverOptions {
  /** The host's agents now. */
  agents: () => Iterable<Revivable>;
  /** Starts a crashed agent again (the host's startInstance); rejects when it crashed again. */
  restart: (id: string) => Promise<unknown>;
  log: Logger;
  /** How often it looks; default 1 s (a look over 10,000 agents is a loop over a map). */
  everyMs?: number | undefined;
  firstMs?: number | undefined;
  maxMs?: number | undefined;
  /** The clock (tests move it). */
  now?: () => number;
}

export class Reviver {
  /** Crashed agents seen, with their failures so far and when each is started again. */
  private readonly due = new Map<string, { failures: number; at: number }>();
  private readonly loop: Repeater<void>;

  constructor(private readonly opts: ReviverOptions) {
    this.loop = new Repeater(() => this.pass(), {
      intervalMs: opts.everyMs ?? 1_000,
      onError: (err) => opts.log.warn("starting crashed agents again failed", { err }),
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One look (the timer's; tests call it). */
  run(): Promise<void> {
    return this.loop.run();
  }

  private async pass(): Promise<void> {
    const { log } = this.opts;
    const now = this.now();
    const crashed = new Set<string>();
    const ready: string[] = [];
    for (const a of this.opts.agents()) {
      if (a.state !== InstanceState.CRASHED) continue;
      crashed.add(a.id);
      let d = this.due.get(a.id);
      if (!d) {
        d = { failures: 1, at: now + this.delay(1) };
        this.due.set(a.id, d);
      }
      if (d.at <= now) ready.push(a.id);
    }
    // Back by another way (a StartInstance, a restore asked again), stopped, or gone.
    for (const id of this.due.keys()) if (!crashed.has(id)) this.due.delete(id);
    // A few at once: a host whose network refuses writes does not send it a burst of retries.
    await forEachLimited(ready, 4, async (id) => {
      if (this.loop.stopped) return;
      const d = this.due.get(id);
      if (!d) return;
      try {
        await this.opts.restart(id);
        this.due.delete(id);
        log.info("a crashed agent started again", { instanceId: id, failures: d.failures });
      } catch (err) {
        d.failures++;
        d.at = this.now() + this.delay(d.failures);
        log.warn("a crashed agent did not start again; tried later", {
          instanceId: id,
          failures: d.failures,
          retryInMs: d.at - this.now(),
          err,
        });
      }
    });
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private delay(failures: number): number {
    return reviveDelayMs(failures, this.opts.firstMs, this.opts.maxMs);
  }
}
