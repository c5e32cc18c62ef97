// Carries each agent's signed days of counts to the lineage service
// (VersionSignalService, docs/signals.md) on a timer: the day so far, and
// each finished day until the service took it. The host signs nothing: each
// day is the agent's own signature (agent/state/signals.ts signDays), and a host
// that changed a count would have it refused. A day the service will never
// take (its agent unknown or ended, a day too old, an inbox it does not
// know) is dropped; one it could not take now (down, overloaded) is tried
// again at the next cycle.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import type { SentDay, SignedDay } from "../agent/state/signals.js";

/** How often every agent's counts are sent; default 15 minutes. */
export const DEFAULT_SIGNALS_INTERVAL_MS = 15 * 60_000;

/** Refusals that the same report would meet again: the day is not kept for another try. */
const FINAL = new Set([Code.InvalidArgument, Code.NotFound, Code.PermissionDenied, Code.Unauthenticated]);

/** What the sender needs of an agent (agent/face/agent.ts). */
export interface SignalAgent {
  signedSignals(): Promise<SignedDay[]>;
  signalsSent(days: readonly SentDay[]): Promise<void>;
}

export interface SignalSenderOptions {
  client: Client<typeof VersionSignalService>;
  agents: () => Iterable<SignalAgent>;
  log: Logger;
  intervalMs?: number | undefined;
}

export class SignalSender {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: SignalSenderOptions) {
    this.timer = setInterval(() => void this.cycle(), opts.intervalMs ?? DEFAULT_SIGNALS_INTERVAL_MS);
    this.timer.unref();
  }

  /** One pass over every agent (one at a time: a pass still going is joined, not doubled). */
  cycle(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    for (const agent of [...this.opts.agents()]) {
      let days: SignedDay[];
      try {
        days = await agent.signedSignals();
      } catch (err) {
        this.opts.log.warn("an agent's counts could not be read", { err });
        continue;
      }
      const done: SentDay[] = [];
      for (const d of days) {
        try {
          await this.opts.client.reportSignals({
            instanceId: d.instanceId,
            inboxId: d.inboxId,
            templateId: d.report.templateId,
            version: d.report.version,
            day: d.report.day,
            counts: d.report.counts,
            persons: d.report.persons,
            agentSignature: d.signature,
          });
          done.push(d.report);
        } catch (err) {
          const code = ConnectError.from(err).code;
          this.opts.log.warn("counts not taken by the lineage service", {
            instanceId: d.instanceId,
            day: d.report.day,
            code: Code[code],
          });
          if (FINAL.has(code)) done.push(d.report);
        }
      }
      if (done.length > 0) await agent.signalsSent(done);
    }
  }
}
