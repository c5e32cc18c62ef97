/**
 * TEST STAND-IN, NOT PRODUCT CODE. An in-memory instance host speaking the
 * real contracts (InstanceHostService and InstanceService over gRPC, the
 * instance selected by `x-pool-instance`), so the claims service's real
 * GrpcInstanceRuntime is exercised over the wire.
 *
 * Since the real host (services/instance) is in, every happy path runs
 * against it in e2e.test.ts. This stand-in stays for what the real host
 * cannot be made to do on demand: fail a start, a configure, a join or a
 * release with an unexpected error, report an instance crashed; and for tests
 * whose subject is the database (validation, races, lists), which need many
 * idle instances cheaply and no XMTP node. It keeps no XMTP client and joins
 * nothing; it records what it was asked.
 */
import { createHash, randomBytes } from "node:crypto";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceService, type ConfigureRequest } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { createLogger, serviceAuthInterceptor, startServer, type RunningServer } from "@convos-pool/kit";
import { INSTANCE_HEADER } from "../runtime.js";

export interface StandInInstance {
  id: string;
  walletIndex: number;
  inboxId: string;
  state: InstanceState;
  configured?: ConfigureRequest;
  conversationId?: string;
  releases: number;
}

type Step = "start" | "configure" | "join" | "release";

export class StandInHost {
  readonly instances = new Map<string, StandInInstance>();
  /** Every InstanceService call, in order. */
  readonly calls: { step: Step | "health" | "stop"; instanceId: string }[] = [];
  /** Steps that fail with INTERNAL until cleared. */
  readonly failing = new Set<Step>();

  private constructor(private server: RunningServer | undefined) {}

  get url(): string {
    return this.server!.url;
  }

  static async start(serviceToken: string): Promise<StandInHost> {
    const host = new StandInHost(undefined);
    host.server = await startServer({
      name: "stand-in-instance-host",
      log: createLogger("stand-in-host", { level: "silent" }),
      interceptors: [serviceAuthInterceptor(serviceToken)],
      routes: (router) => {
        router.service(InstanceHostService, {
          startInstance: (req) => {
            host.calls.push({ step: "start", instanceId: req.instanceId });
            if (host.failing.has("start")) throw new ConnectError("injected start failure", Code.Internal);
            // A made-up inbox id: this stand-in has no XMTP client.
            const inboxId = createHash("sha256").update(`${req.instanceId}/${req.walletIndex}/${randomBytes(8).toString("hex")}`).digest("hex");
            host.instances.set(req.instanceId, {
              id: req.instanceId,
              walletIndex: req.walletIndex,
              inboxId,
              state: InstanceState.IDLE,
              releases: 0,
            });
            return { inboxId };
          },
          stopInstance: (req) => {
            host.calls.push({ step: "stop", instanceId: req.instanceId });
            host.instances.delete(req.instanceId);
            return {};
          },
          listInstances: () => ({
            instances: [...host.instances.values()].map((i) => ({
              instanceId: i.id,
              inboxId: i.inboxId,
              state: i.state,
              walletIndex: i.walletIndex,
            })),
          }),
        });
        router.service(InstanceService, {
          configure: (req, ctx) => {
            const i = host.step("configure", ctx);
            i.configured = req;
            return {};
          },
          joinConversation: (req, ctx) => {
            const i = host.step("join", ctx);
            if (!i.configured) throw new ConnectError("not configured", Code.FailedPrecondition);
            i.conversationId = createHash("sha256").update(req.conversationInvite).digest("hex").slice(0, 32);
            i.state = InstanceState.CLAIMED;
            return { conversationId: i.conversationId };
          },
          health: (_req, ctx) => {
            const i = host.find(ctx);
            host.calls.push({ step: "health", instanceId: i.id });
            return { state: i.state, inboxId: i.inboxId };
          },
          release: (_req, ctx) => {
            const i = host.step("release", ctx);
            i.configured = undefined;
            i.conversationId = undefined;
            i.state = InstanceState.IDLE;
            i.releases++;
            return {};
          },
          updateTemplate: () => {
            throw new ConnectError("not in the stand-in", Code.Unimplemented);
          },
          cloneSummary: () => {
            throw new ConnectError("not in the stand-in", Code.Unimplemented);
          },
        });
      },
    });
    return host;
  }

  private find(ctx: HandlerContext): StandInInstance {
    const id = ctx.requestHeader.get(INSTANCE_HEADER) ?? "";
    const i = this.instances.get(id);
    if (!i) throw new ConnectError(`no instance ${id} on this host`, Code.NotFound);
    return i;
  }

  private step(step: Step, ctx: HandlerContext): StandInInstance {
    const i = this.find(ctx);
    this.calls.push({ step, instanceId: i.id });
    if (this.failing.has(step)) throw new ConnectError(`injected ${step} failure`, Code.Internal);
    return i;
  }

  /** The InstanceService calls one instance received (not the host's start/stop). */
  callsOf(instanceId: string): string[] {
    return this.calls.filter((c) => c.instanceId === instanceId && c.step !== "start" && c.step !== "stop").map((c) => c.step);
  }

  /** Stops serving: the host (and every instance on it) is gone. */
  async kill(): Promise<void> {
    await this.server?.close();
  }
}
