// A TemplateSyncService for the templates service's tests: a test server of
// the contract the claims service serves, recording what the relay pushes.
import { Code, ConnectError } from "@connectrpc/connect";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateSyncService, type RolloutPush } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import {
  createLogger,
  serviceAuthInterceptor,
  startServer,
  type RunningServer,
  type ServiceCredentials,
} from "@convos-pool/kit/server";

/** A TemplateSyncService that records what it gets; told to, it fails the next calls, answers slowly, or holds calls. */
export class Receiver {
  received: SignedTemplate[] = [];
  /** Each push's bases, beside `received`. */
  bases: SignedTemplate[][] = [];
  /** Each push's rollout (absent: for every instance), beside `received`. */
  rollouts: (RolloutPush | undefined)[] = [];
  failNext = 0;
  delayMs = 0;
  /** When set, each call waits until this many were in flight at once (10 s at most): several pushers at work together. */
  gate = 0;
  calls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  server!: RunningServer;

  constructor(private readonly claims: ServiceCredentials) {}

  async start(): Promise<this> {
    this.server = await startServer({
      name: "sync-receiver",
      log: createLogger("sync-receiver", { level: "silent" }),
      interceptors: [serviceAuthInterceptor(this.claims.directory, { [TemplateSyncService.typeName]: ["templates"] })],
      routes: (router) =>
        router.service(TemplateSyncService, {
          pushTemplateVersion: async (req) => {
            this.calls++;
            this.concurrent++;
            this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
            try {
              for (const end = Date.now() + 10_000; this.maxConcurrent < this.gate && Date.now() < end; )
                await new Promise((r) => setTimeout(r, 10));
              if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
              if (this.failNext > 0) {
                this.failNext--;
                throw new ConnectError("claims database unavailable", Code.Unavailable);
              }
              this.received.push(req.template!);
              this.bases.push(req.bases);
              this.rollouts.push(req.rollout);
              // The newest version held (bigints: Math.max does not take them).
              let held = 0n;
              for (const t of this.of(req.template!.templateId)) if (t.version > held) held = t.version;
              return { version: held, instances: 0 };
            } finally {
              this.concurrent--;
            }
          },
        }),
    });
    return this;
  }

  of(templateId: string): SignedTemplate[] {
    return this.received.filter((t) => t.templateId === templateId);
  }

  reset(): void {
    Object.assign(this, {
      received: [],
      bases: [],
      rollouts: [],
      failNext: 0,
      delayMs: 0,
      gate: 0,
      calls: 0,
      concurrent: 0,
      maxConcurrent: 0,
    });
  }
}
