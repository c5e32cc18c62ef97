/**
 * The InstanceRuntime over gRPC: calls InstanceService on the instance's
 * host (HTTP/2), one connection per host, the instance selected by the
 * `x-pool-instance` header; a claim's calls and the attestations coalesced
 * per host into the host's batch calls (InstanceHostService).
 */
import type {
  AddConversationRequest,
  AttestRequest,
  CloneSummaryRequest,
  ConfigureRequest,
  InstanceServiceSetTrustLevelRequest,
  InstanceServiceSetPermissionsRequest,
  InstanceServiceSetParticipationRequest,
  ListActivityRequest,
  ListActivityResponse,
  GetFundsResponse,
  ToolCredential,
  TransferOwnerRequest,
  InstanceServiceWithdrawTransferRequest,
  NoteTransferOfferRequest,
  LeaveConversationRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { type Batcher, type ClientCredentials, fromInstanceCallError, type Settle } from "@convos-pool/kit/server";
import {
  INSTANCE_HEADER,
  resolveParticipation,
  resolvePermissions,
  type ResolvedParticipation,
  type ResolvedPermissions,
} from "@convos-pool/kit/content";
import { HostClients } from "./host-clients.js";
import { HostBatching } from "./batching.js";
import type {
  BatchUpdateAnswer,
  InstanceAddressBookCall,
  HostedConversation,
  InstanceApprovalCall,
  InstanceConfirmationCall,
  InstanceMemoryCall,
  InstanceRef,
  InstanceRuntime,
  UpdateResult,
} from "./runtime.js";

export interface GrpcInstanceRuntimeOptions {
  /** The claims service's credential: the only one instance hosts accept. */
  credentials: ClientCredentials;
  /** A Configure, or a host's ConfigureInstances. */
  configureTimeoutMs?: number;
  /** Joining waits for the invite's creator to accept the join request (also a host's JoinConversations). */
  joinTimeoutMs?: number;
  releaseTimeoutMs?: number;
  /** An UpdateTemplate (default 10 s); also an Attest, or a host's AttestInstances (default 30 s: a dormant agent wakes for it). */
  updateTimeoutMs?: number;
  /** For a host's batch of updates (each agent writes its workspace); default 60 s. */
  batchUpdateTimeoutMs?: number;
  /** A parent may ask its model for the summary. */
  cloneSummaryTimeoutMs?: number;
}

/**
 * ConfigureInstances calls to one host at once: what arrives meanwhile goes
 * together in the next (the kit's Batcher). An idle agent configures in
 * milliseconds; joins have no such bound, each waits for its invite's creator.
 */
const CONFIGURE_CALLS_PER_HOST = 4;
/**
 * AttestInstances calls to one host at once, as for ConfigureInstances: a
 * just-claimed agent takes its attestation in milliseconds. A dormant one
 * (a renewal) wakes for it, in seconds, holding up its own batch's answer;
 * the batches behind it wait only while all four do.
 */
const ATTEST_CALLS_PER_HOST = 4;

type ConfigureItem = { instance: InstanceRef; req: ConfigureRequest };
type JoinItem = { instance: InstanceRef; invite: string };
type AttestItem = { instance: InstanceRef; req: AttestRequest };

/** A host's batchers of a claim's two calls and of the attestations. */
interface HostBatchers {
  configure: Batcher<ConfigureItem, void>;
  join: Batcher<JoinItem, { conversationId: string }>;
  attest: Batcher<AttestItem, void>;
}

/**
 * Calls InstanceService on the instance's host over gRPC (HTTP/2), one
 * connection per host, the instance selected by the `x-pool-instance` header.
 *
 * A claim's Configure and JoinConversation, and the agents' Attest, are
 * coalesced per host: those that arrive in one turn of the event loop go as
 * one ConfigureInstances call, one JoinConversations stream or one
 * AttestInstances call, answered per agent with the very error its single
 * call would give (docs/claims.md, "The claim flow"). A claim alone waits for
 * no timer. A host that predates the batch calls gets the single calls, as
 * before (batching.ts).
 */
export class GrpcInstanceRuntime implements InstanceRuntime {
  private readonly clients: HostClients<typeof InstanceService>;
  private readonly memoryClients: HostClients<typeof InstanceMemoryService>;
  private readonly addressBookClients: HostClients<typeof InstanceAddressBookService>;
  private readonly approvalClients: HostClients<typeof InstanceApprovalService>;
  private readonly confirmationClients: HostClients<typeof InstanceConfirmationService>;
  private readonly hostClients: HostClients<typeof InstanceHostService>;
  private readonly batchers = new Map<string, HostBatchers>();
  private readonly batching = new HostBatching();

  constructor(private readonly opts: GrpcInstanceRuntimeOptions) {
    this.clients = new HostClients(InstanceService, opts.credentials);
    this.memoryClients = new HostClients(InstanceMemoryService, opts.credentials);
    this.addressBookClients = new HostClients(InstanceAddressBookService, opts.credentials);
    this.approvalClients = new HostClients(InstanceApprovalService, opts.credentials);
    this.confirmationClients = new HostClients(InstanceConfirmationService, opts.credentials);
    this.hostClients = new HostClients(InstanceHostService, opts.credentials);
  }

  private client(hostUrl: string) {
    return this.clients.of(hostUrl);
  }

  private hostClient(hostUrl: string) {
    return this.hostClients.of(hostUrl);
  }

  private call(instance: InstanceRef, timeoutMs: number) {
    return { headers: { [INSTANCE_HEADER]: instance.id }, timeoutMs };
  }

  async configure(instance: InstanceRef, req: ConfigureRequest): Promise<void> {
    // A body naming another instance goes alone: its host refuses it as it refuses that single call.
    if (!this.batching.takes(instance.hostUrl, "claim") || (req.instanceId !== "" && req.instanceId !== instance.id))
      return this.configureOne({ instance, req });
    return this.batchersOf(instance.hostUrl).configure.add({ instance, req });
  }

  async join(instance: InstanceRef, invite: string): Promise<{ conversationId: string }> {
    if (!this.batching.takes(instance.hostUrl, "claim")) return this.joinOne({ instance, invite });
    return this.batchersOf(instance.hostUrl).join.add({ instance, invite });
  }

  private async configureOne({ instance, req }: ConfigureItem): Promise<void> {
    await this.client(instance.hostUrl).configure(req, this.call(instance, this.opts.configureTimeoutMs ?? 15_000));
  }

  private async joinOne({ instance, invite }: JoinItem): Promise<{ conversationId: string }> {
    const res = await this.client(instance.hostUrl).joinConversation(
      { conversationInvite: invite },
      this.call(instance, this.opts.joinTimeoutMs ?? 90_000),
    );
    return { conversationId: res.conversationId };
  }

  private async attestOne({ instance, req }: AttestItem): Promise<void> {
    // A dormant agent wakes for it: that is most of the time this may take.
    await this.client(instance.hostUrl).attest(req, this.call(instance, this.attestTimeoutMs()));
  }

  private attestTimeoutMs(): number {
    return this.opts.updateTimeoutMs ?? 30_000;
  }

  /** One ConfigureInstances call; each agent's outcome settles its item, in the order asked. */
  private async configureBatch(hostUrl: string, items: ConfigureItem[], settle: Settle<void>): Promise<void> {
    const res = await this.hostClient(hostUrl).configureInstances(
      { instances: items.map(({ instance, req }) => ({ ...req, instanceId: instance.id })) },
      { timeoutMs: this.opts.configureTimeoutMs ?? 15_000 },
    );
    items.forEach(({ instance }, k) => {
      const o = res.outcomes[k];
      if (o?.instanceId !== instance.id) return;
      settle(k, o.outcome.case === "configured" ? undefined : fromInstanceCallError(o.outcome.value));
    });
  }

  /** One AttestInstances call; each agent's outcome settles its item, in the order asked. */
  private async attestBatch(hostUrl: string, items: AttestItem[], settle: Settle<void>): Promise<void> {
    const res = await this.hostClient(hostUrl).attestInstances(
      { instances: items.map(({ instance, req }) => ({ instanceId: instance.id, attest: req })) },
      { timeoutMs: this.attestTimeoutMs() },
    );
    items.forEach(({ instance }, k) => {
      const o = res.outcomes[k];
      if (o?.instanceId !== instance.id) return;
      settle(k, o.outcome.case === "attested" ? undefined : fromInstanceCallError(o.outcome.value));
    });
  }

  /** One JoinConversations stream; each agent's outcome settles its item as it arrives. */
  private async joinBatch(
    hostUrl: string,
    items: JoinItem[],
    settle: Settle<{ conversationId: string }>,
  ): Promise<void> {
    const index = new Map(items.map((item, k) => [item.instance.id, k]));
    const outcomes = this.hostClient(hostUrl).joinConversations(
      { joins: items.map(({ instance, invite }) => ({ instanceId: instance.id, conversationInvite: invite })) },
      { timeoutMs: this.opts.joinTimeoutMs ?? 90_000 },
    );
    for await (const o of outcomes) {
      const k = index.get(o.instanceId);
      if (k === undefined) continue;
      settle(
        k,
        o.outcome.case === "joined"
          ? { conversationId: o.outcome.value.conversationId }
          : fromInstanceCallError(o.outcome.value),
      );
    }
  }

  private batchersOf(hostUrl: string): HostBatchers {
    let b = this.batchers.get(hostUrl);
    if (!b) {
      b = {
        configure: this.batching.batcher(
          hostUrl,
          "claim",
          (item) => this.configureOne(item),
          (batch, s) => this.configureBatch(hostUrl, batch, s),
          CONFIGURE_CALLS_PER_HOST,
        ),
        join: this.batching.batcher(
          hostUrl,
          "claim",
          (item) => this.joinOne(item),
          (batch, s) => this.joinBatch(hostUrl, batch, s),
        ),
        attest: this.batching.batcher(
          hostUrl,
          "attest",
          (item) => this.attestOne(item),
          (batch, s) => this.attestBatch(hostUrl, batch, s),
          ATTEST_CALLS_PER_HOST,
        ),
      };
      this.batchers.set(hostUrl, b);
    }
    return b;
  }

  async release(instance: InstanceRef): Promise<void> {
    await this.client(instance.hostUrl).release({}, this.call(instance, this.opts.releaseTimeoutMs ?? 10_000));
  }

  async updateTemplate(
    instance: InstanceRef,
    release: SignedTemplate,
    tools: ToolCredential[],
    bases: SignedTemplate[],
  ): Promise<UpdateResult> {
    const res = await this.client(instance.hostUrl).updateTemplate(
      { template: release, tools, bases },
      this.call(instance, this.opts.updateTimeoutMs ?? 10_000),
    );
    return {
      appliedKey: [res.appliedVersion, ...res.appliedBaseVersions].map(Number),
      model: res.model,
      trustLevel: res.trustLevel,
    };
  }

  async updateTemplates(
    hostUrl: string,
    release: SignedTemplate,
    bases: SignedTemplate[],
    targets: { instance: InstanceRef; tools: ToolCredential[] }[],
  ): Promise<BatchUpdateAnswer[]> {
    const res = await this.hostClient(hostUrl).updateTemplates(
      { template: release, bases, instances: targets.map((t) => ({ instanceId: t.instance.id, tools: t.tools })) },
      { timeoutMs: this.opts.batchUpdateTimeoutMs ?? 60_000 },
    );
    return targets.map(({ instance }, i) => {
      const o = res.outcomes[i];
      if (!o || o.instanceId !== instance.id)
        return {
          instanceId: instance.id,
          error: new ConnectError("the host's answer does not match what it was asked", Code.Internal),
        };
      if (o.outcome.case === "applied") {
        const a = o.outcome.value;
        return {
          instanceId: instance.id,
          applied: {
            appliedKey: [a.appliedVersion, ...a.appliedBaseVersions].map(Number),
            model: a.model,
            trustLevel: a.trustLevel,
          },
        };
      }
      const e = o.outcome.value;
      return {
        instanceId: instance.id,
        error: new ConnectError(
          e?.message ?? "no answer for this agent",
          e && Code[e.code] !== undefined ? e.code : Code.Unknown,
        ),
      };
    });
  }

  async attest(instance: InstanceRef, req: AttestRequest): Promise<void> {
    if (!this.batching.takes(instance.hostUrl, "attest")) return this.attestOne({ instance, req });
    return this.batchersOf(instance.hostUrl).attest.add({ instance, req });
  }

  async health(instance: InstanceRef): Promise<{ state: InstanceState; appliedKey: number[] }> {
    const res = await this.client(instance.hostUrl).health({}, this.call(instance, 10_000));
    return { state: res.state, appliedKey: [res.appliedTemplateVersion, ...res.appliedBaseVersions].map(Number) };
  }

  async countMembers(instance: InstanceRef, timeoutMs: number): Promise<number> {
    return (await this.client(instance.hostUrl).countMembers({}, this.call(instance, timeoutMs))).members;
  }

  async cloneSummary(parent: InstanceRef, req: CloneSummaryRequest): Promise<{ entries: number; via: string }> {
    const res = await this.client(parent.hostUrl).cloneSummary(
      req,
      this.call(parent, this.opts.cloneSummaryTimeoutMs ?? 120_000),
    );
    return { entries: res.entries, via: res.via };
  }

  async transferOwner(instance: InstanceRef, req: TransferOwnerRequest): Promise<void> {
    await this.client(instance.hostUrl).transferOwner(req, this.call(instance, 15_000));
  }

  async withdrawTransfer(instance: InstanceRef, req: InstanceServiceWithdrawTransferRequest): Promise<void> {
    await this.client(instance.hostUrl).withdrawTransfer(req, this.call(instance, 15_000));
  }

  async noteTransferOffer(instance: InstanceRef, req: NoteTransferOfferRequest): Promise<void> {
    await this.client(instance.hostUrl).noteTransferOffer(req, this.call(instance, 15_000));
  }

  async setTrustLevel(
    instance: InstanceRef,
    req: InstanceServiceSetTrustLevelRequest,
  ): Promise<{ trustLevel: number; dailySpendLimitWei: string }> {
    const res = await this.client(instance.hostUrl).setTrustLevel(req, this.call(instance, 15_000));
    return { trustLevel: res.trustLevel, dailySpendLimitWei: res.dailySpendLimitWei };
  }

  async setPermissions(instance: InstanceRef, req: InstanceServiceSetPermissionsRequest): Promise<ResolvedPermissions> {
    const res = await this.client(instance.hostUrl).setPermissions(req, this.call(instance, 15_000));
    return resolvePermissions(res.permissions);
  }

  async setParticipation(
    instance: InstanceRef,
    req: InstanceServiceSetParticipationRequest,
  ): Promise<ResolvedParticipation> {
    const res = await this.client(instance.hostUrl).setParticipation(req, this.call(instance, 15_000));
    return resolveParticipation(res.participation);
  }

  /** Joining waits for the invite's creator to let it in, as a claim's join does. */
  async addConversation(instance: InstanceRef, req: AddConversationRequest): Promise<{ conversationId: string }> {
    const res = await this.client(instance.hostUrl).addConversation(
      req,
      this.call(instance, this.opts.joinTimeoutMs ?? 90_000),
    );
    return { conversationId: res.conversationId };
  }

  async leaveConversation(
    instance: InstanceRef,
    req: LeaveConversationRequest,
  ): Promise<{ homeConversationId: string }> {
    const res = await this.client(instance.hostUrl).leaveConversation(req, this.call(instance, 30_000));
    return { homeConversationId: res.homeConversationId };
  }

  /** The host's whole listing, read for one agent: only the sweep of stale additions asks, rarely. */
  async hostedConversations(instance: InstanceRef): Promise<HostedConversation[] | undefined> {
    const res = await this.hostClient(instance.hostUrl).listInstances({}, { timeoutMs: 10_000 });
    const hosted = res.instances.find((i) => i.instanceId === instance.id);
    return hosted?.conversations.map((c) => ({ conversationId: c.conversationId, state: c.state }));
  }

  listActivity(instance: InstanceRef, req: ListActivityRequest): Promise<ListActivityResponse> {
    return this.client(instance.hostUrl).listActivity(req, this.call(instance, 10_000));
  }

  /** The balance is read from the chain by the agent: a slow chain gets the time it needs, within reason. */
  getFunds(instance: InstanceRef): Promise<GetFundsResponse> {
    return this.client(instance.hostUrl).getFunds({}, this.call(instance, 15_000));
  }

  /** An export may wait for the agent's model to summarize its conversation. */
  memory(instance: InstanceRef): InstanceMemoryCall {
    return { client: this.memoryClients.of(instance.hostUrl), options: this.call(instance, 120_000) };
  }

  /** A save or a listing: the agent's own work between turns (a turn may run first), no model. */
  addressBook(instance: InstanceRef): InstanceAddressBookCall {
    return { client: this.addressBookClients.of(instance.hostUrl), options: this.call(instance, 60_000) };
  }

  /** A listing or an answer: the agent's own quick work, no model, no turn. */
  approvals(instance: InstanceRef): InstanceApprovalCall {
    return { client: this.approvalClients.of(instance.hostUrl), options: this.call(instance, 30_000) };
  }

  /** A step put to the owner, or where it stands: the agent's own quick work (a dormant one wakes), no model, no turn. */
  confirmations(instance: InstanceRef): InstanceConfirmationCall {
    return { client: this.confirmationClients.of(instance.hostUrl), options: this.call(instance, 30_000) };
  }

  close(): void {
    const all = [this.clients, this.memoryClients, this.addressBookClients, this.approvalClients];
    for (const c of [...all, this.confirmationClients, this.hostClients]) c.close();
    // Batches in flight fail with their connections, as single calls do; a later call starts afresh.
    this.batchers.clear();
  }
}
