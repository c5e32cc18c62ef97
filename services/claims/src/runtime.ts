import type { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type {
  CloneSummaryRequest,
  ConfigureRequest,
  InstanceServiceSetTrustLevelRequest,
  ListActivityRequest,
  ListActivityResponse,
  ToolCredential,
  TransferOwnerRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { createServiceClient, type ClientCredentials, type ServiceClient } from "@convos-pool/kit";

/** Selects the instance on its host (instance_host_service.proto). */
export const INSTANCE_HEADER = "x-pool-instance";

/** An instance as the claims service addresses it. */
export interface InstanceRef {
  id: string;
  /** Base URL of the instance host that runs it. */
  hostUrl: string;
  /** The instance's own XMTP inbox. */
  inboxId: string;
}

/** An instance's answer to a template update. */
export interface UpdateResult {
  /** Where the release it now runs stands: its template's version, then its bases'. */
  appliedKey: number[];
  /** The model it now runs on (the new default, or the owner's override). */
  model: string;
  /** Its trust level after the update (lowered to the release's highest); 0 when it did not say. */
  trustLevel: number;
}

/** One agent's answer within UpdateTemplates: applied, or the error its own UpdateTemplate would have given. */
export type BatchUpdateAnswer = { instanceId: string; applied: UpdateResult } | { instanceId: string; error: ConnectError };

/**
 * What the claim flow and instruction sync ask of a running instance (InstanceService). The real
 * implementation is GrpcInstanceRuntime; tests of rollback put a stand-in
 * host behind it that fails on demand.
 */
export interface InstanceRuntime {
  /** Gives the instance its template, owner, model, tools and user config. */
  configure(instance: InstanceRef, req: ConfigureRequest): Promise<void>;
  /** Joins the conversation from its Convos invite; resolves once joined. */
  join(instance: InstanceRef, invite: string): Promise<{ conversationId: string }>;
  /** Wipes the instance's claim (credentials, owner, conversation) so it can be reused or destroyed. */
  release(instance: InstanceRef): Promise<void>;
  /**
   * Hands the instance a creator-signed template version and its bases',
   * unchanged, with every pool tool they declare (credentials included):
   * the set replaces the instance's tools.
   */
  updateTemplate(instance: InstanceRef, release: SignedTemplate, tools: ToolCredential[], bases: SignedTemplate[]): Promise<UpdateResult>;
  /**
   * The same release for many agents of one host at once (InstanceHostService.UpdateTemplates),
   * each with its own tools; answered per agent, in order. UNIMPLEMENTED from a host that predates it.
   */
  updateTemplates(
    hostUrl: string,
    release: SignedTemplate,
    bases: SignedTemplate[],
    targets: { instance: InstanceRef; tools: ToolCredential[] }[],
  ): Promise<BatchUpdateAnswer[]>;
  /** The instance's state and the key of the release it has applied. */
  health(instance: InstanceRef): Promise<{ state: InstanceState; appliedKey: number[] }>;
  /** Asks a clone's parent to send its summary; the parent checks the owner's signature and the child itself. */
  cloneSummary(parent: InstanceRef, req: CloneSummaryRequest): Promise<{ entries: number; via: string }>;
  /** Hands an agent to its new owner; it checks both signatures itself. */
  transferOwner(instance: InstanceRef, req: TransferOwnerRequest): Promise<void>;
  /** The owner's new trust level, which the agent checks and enforces itself. */
  setTrustLevel(instance: InstanceRef, req: InstanceServiceSetTrustLevelRequest): Promise<{ trustLevel: number; dailySpendLimitWei: string }>;
  /** The agent's activity log, newest first. */
  listActivity(instance: InstanceRef, req: ListActivityRequest): Promise<ListActivityResponse>;
  /** InstanceMemoryService on the agent's host: its owner's memory calls (claims memory-service.ts). */
  memory(instance: InstanceRef): InstanceMemoryCall;
}

/** A client of the agent's host's InstanceMemoryService and the options that name the agent in every call. */
export interface InstanceMemoryCall {
  client: Client<typeof InstanceMemoryService>;
  options: { headers: Record<string, string>; timeoutMs: number };
}

export interface GrpcInstanceRuntimeOptions {
  /** The claims service's credential: the only one instance hosts accept. */
  credentials: ClientCredentials;
  configureTimeoutMs?: number;
  /** Joining waits for the invite's creator to accept the join request. */
  joinTimeoutMs?: number;
  releaseTimeoutMs?: number;
  updateTimeoutMs?: number;
  /** For a host's batch of updates (each agent writes its workspace); default 60 s. */
  batchUpdateTimeoutMs?: number;
  /** A parent may ask its model for the summary. */
  cloneSummaryTimeoutMs?: number;
}

/**
 * Calls InstanceService on the instance's host over gRPC (HTTP/2), one
 * connection per host, the instance selected by the `x-pool-instance` header.
 */
export class GrpcInstanceRuntime implements InstanceRuntime {
  private readonly clients = new Map<string, ServiceClient<typeof InstanceService>>();
  private readonly memoryClients = new Map<string, ServiceClient<typeof InstanceMemoryService>>();
  private readonly hostClients = new Map<string, ServiceClient<typeof InstanceHostService>>();

  constructor(private readonly opts: GrpcInstanceRuntimeOptions) {}

  private client(hostUrl: string) {
    let c = this.clients.get(hostUrl);
    if (!c) {
      c = createServiceClient(InstanceService, hostUrl, this.opts.credentials);
      this.clients.set(hostUrl, c);
    }
    return c.client;
  }

  private call(instance: InstanceRef, timeoutMs: number) {
    return { headers: { [INSTANCE_HEADER]: instance.id }, timeoutMs };
  }

  async configure(instance: InstanceRef, req: ConfigureRequest): Promise<void> {
    await this.client(instance.hostUrl).configure(req, this.call(instance, this.opts.configureTimeoutMs ?? 15_000));
  }

  async join(instance: InstanceRef, invite: string): Promise<{ conversationId: string }> {
    const res = await this.client(instance.hostUrl).joinConversation(
      { conversationInvite: invite },
      this.call(instance, this.opts.joinTimeoutMs ?? 90_000),
    );
    return { conversationId: res.conversationId };
  }

  async release(instance: InstanceRef): Promise<void> {
    await this.client(instance.hostUrl).release({}, this.call(instance, this.opts.releaseTimeoutMs ?? 10_000));
  }

  async updateTemplate(instance: InstanceRef, release: SignedTemplate, tools: ToolCredential[], bases: SignedTemplate[]): Promise<UpdateResult> {
    const res = await this.client(instance.hostUrl).updateTemplate(
      { template: release, tools, bases },
      this.call(instance, this.opts.updateTimeoutMs ?? 10_000),
    );
    return { appliedKey: [res.appliedVersion, ...res.appliedBaseVersions].map(Number), model: res.model, trustLevel: res.trustLevel };
  }

  async updateTemplates(
    hostUrl: string,
    release: SignedTemplate,
    bases: SignedTemplate[],
    targets: { instance: InstanceRef; tools: ToolCredential[] }[],
  ): Promise<BatchUpdateAnswer[]> {
    let c = this.hostClients.get(hostUrl);
    if (!c) {
      c = createServiceClient(InstanceHostService, hostUrl, this.opts.credentials);
      this.hostClients.set(hostUrl, c);
    }
    const res = await c.client.updateTemplates(
      { template: release, bases, instances: targets.map((t) => ({ instanceId: t.instance.id, tools: t.tools })) },
      { timeoutMs: this.opts.batchUpdateTimeoutMs ?? 60_000 },
    );
    return targets.map(({ instance }, i) => {
      const o = res.outcomes[i];
      if (!o || o.instanceId !== instance.id) return { instanceId: instance.id, error: new ConnectError("the host's answer does not match what it was asked", Code.Internal) };
      if (o.outcome.case === "applied") {
        const a = o.outcome.value;
        return { instanceId: instance.id, applied: { appliedKey: [a.appliedVersion, ...a.appliedBaseVersions].map(Number), model: a.model, trustLevel: a.trustLevel } };
      }
      const e = o.outcome.value;
      return { instanceId: instance.id, error: new ConnectError(e?.message ?? "no answer for this agent", e && Code[e.code] !== undefined ? (e.code as Code) : Code.Unknown) };
    });
  }

  async health(instance: InstanceRef): Promise<{ state: InstanceState; appliedKey: number[] }> {
    const res = await this.client(instance.hostUrl).health({}, this.call(instance, 10_000));
    return { state: res.state, appliedKey: [res.appliedTemplateVersion, ...res.appliedBaseVersions].map(Number) };
  }

  async cloneSummary(parent: InstanceRef, req: CloneSummaryRequest): Promise<{ entries: number; via: string }> {
    const res = await this.client(parent.hostUrl).cloneSummary(req, this.call(parent, this.opts.cloneSummaryTimeoutMs ?? 120_000));
    return { entries: res.entries, via: res.via };
  }

  async transferOwner(instance: InstanceRef, req: TransferOwnerRequest): Promise<void> {
    await this.client(instance.hostUrl).transferOwner(req, this.call(instance, 15_000));
  }

  async setTrustLevel(instance: InstanceRef, req: InstanceServiceSetTrustLevelRequest): Promise<{ trustLevel: number; dailySpendLimitWei: string }> {
    const res = await this.client(instance.hostUrl).setTrustLevel(req, this.call(instance, 15_000));
    return { trustLevel: res.trustLevel, dailySpendLimitWei: res.dailySpendLimitWei };
  }

  listActivity(instance: InstanceRef, req: ListActivityRequest): Promise<ListActivityResponse> {
    return this.client(instance.hostUrl).listActivity(req, this.call(instance, 10_000));
  }

  /** An export may wait for the agent's model to summarize its conversation. */
  memory(instance: InstanceRef): InstanceMemoryCall {
    let c = this.memoryClients.get(instance.hostUrl);
    if (!c) {
      c = createServiceClient(InstanceMemoryService, instance.hostUrl, this.opts.credentials);
      this.memoryClients.set(instance.hostUrl, c);
    }
    return { client: c.client, options: this.call(instance, 120_000) };
  }

  close(): void {
    for (const c of [...this.clients.values(), ...this.memoryClients.values(), ...this.hostClients.values()]) c.close();
    this.clients.clear();
    this.memoryClients.clear();
    this.hostClients.clear();
  }
}

/**
 * Asks an agent through its host. A host that does not answer is UNAVAILABLE
 * (nothing changed); the agent's own refusal is passed on as it said it, with
 * its details (the field it names), so a client reads them as from the pool.
 */
export async function askAgent<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = ConnectError.from(err);
    if ([Code.Unavailable, Code.Internal, Code.Unknown, Code.DeadlineExceeded].includes(e.code)) {
      throw new ConnectError("the agent's host did not answer; nothing changed, try again", Code.Unavailable);
    }
    const refused = new ConnectError(`the agent refused ${what}: ${e.rawMessage}`, e.code);
    refused.details = e.details;
    throw refused;
  }
}
