/**
 * What the pool manager asks of an instance host (InstanceHostService): start
 * and stop instances, and list what it runs, as the pool's own types.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  InstanceHostService,
  type RestoreRecordSchema,
} from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import type { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { AgentRuntime } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { createServiceClient, type ClientCredentials, type ServiceClient } from "@convos-pool/kit/server";

export interface HostedInstance {
  instanceId: string;
  inboxId: string;
  state: InstanceState;
  /** The key of the release it has applied (its template's version, then its bases'). */
  appliedKey: number[];
  /** Its conversation's name as it last read it from the group; "" or absent when it has none or did not read it. */
  conversationName?: string;
  /** Every conversation it is in with the name it last read there (the home's is `conversationName`). */
  conversationNames?: { conversationId: string; name: string }[];
}

/** What a host's agents run on (docs/openclaw.md). */
export type HostRuntime = "pool" | "openclaw";

/** What a host runs, and how many it may (0: it did not say). */
export interface HostListing {
  instances: HostedInstance[];
  maxInstances: number;
  /** What thinks for its agents; a host that does not say runs the pool's own. */
  runtime?: HostRuntime;
}

/** A claimed agent's newest sealed state, as its old host kept it with the pool (AgentVaultService). */
export interface SealedState {
  sequence: bigint;
  sealed: Uint8Array;
}

/** The pool's record of an agent it moves, which the restoring host checks the state against (docs/scaling.md, "Only what the pool signed"). */
export type RestoreRecordIn = MessageInitShape<typeof RestoreRecordSchema>;

/** What the pool asks of an instance host (InstanceHostService). */
export interface InstanceHost {
  readonly url: string;
  start(instanceId: string, walletIndex: number): Promise<{ inboxId: string }>;
  /** Brings a claimed agent of a lost host back here from its sealed state (host-mover.ts). */
  restore(
    instanceId: string,
    walletIndex: number,
    state: SealedState,
    record: RestoreRecordIn,
  ): Promise<{ inboxId: string; installationId: string; state: InstanceState }>;
  stop(instanceId: string, destroy: boolean): Promise<void>;
  list(): Promise<HostListing>;
}

export class GrpcInstanceHost implements InstanceHost {
  private readonly c: ServiceClient<typeof InstanceHostService>;

  constructor(
    readonly url: string,
    credentials: ClientCredentials,
    private readonly timeoutMs = 60_000,
  ) {
    this.c = createServiceClient(InstanceHostService, url, credentials);
  }

  async start(instanceId: string, walletIndex: number) {
    const res = await this.c.client.startInstance({ instanceId, walletIndex }, { timeoutMs: this.timeoutMs });
    return { inboxId: res.inboxId };
  }

  async restore(instanceId: string, walletIndex: number, state: SealedState, record: RestoreRecordIn) {
    const res = await this.c.client.restoreInstance(
      { instanceId, walletIndex, state: { instanceId, sequence: state.sequence, sealed: state.sealed }, record },
      { timeoutMs: this.timeoutMs },
    );
    return { inboxId: res.inboxId, installationId: res.installationId, state: res.state };
  }

  async stop(instanceId: string, destroy: boolean) {
    await this.c.client.stopInstance({ instanceId, destroy }, { timeoutMs: this.timeoutMs });
  }

  async list(): Promise<HostListing> {
    const res = await this.c.client.listInstances({}, { timeoutMs: 10_000 });
    return {
      instances: res.instances.map((i) => ({
        instanceId: i.instanceId,
        inboxId: i.inboxId,
        state: i.state,
        appliedKey: [i.appliedTemplateVersion, ...i.appliedBaseVersions].map(Number),
        conversationName: i.conversationName,
        conversationNames: i.conversations.map((c) => ({ conversationId: c.conversationId, name: c.name })),
      })),
      maxInstances: res.maxInstances,
      runtime: res.runtime === AgentRuntime.OPENCLAW ? "openclaw" : "pool",
    };
  }

  close(): void {
    this.c.close();
  }
}
