/**
 * TEST FIXTURE. One host, one conversation: an instance host on a local XMTP
 * node of the test's own (its database on the test PostgreSQL), and whoever
 * creates the conversations its agents join. By default that is a Convos
 * conversation's creator made with the SDK (`startCreator`), who owns the
 * agents and answers their join requests; or the real Convos CLI serving one
 * conversation (`convos agent serve`); or nobody, for agents in no
 * conversation. What the host's tests build first:
 *
 *   const one = new OneHost({ name: "instance-dormancy", host: { dormantAfterMs: 1_000 } });
 *   beforeAll(() => one.start());
 *   afterAll(() => one.close());
 *   const a = await one.joined("inst-a", 0); // started, configured, in a conversation of its own
 *
 * After `host.close()`, `startHost()` brings the host back on the same data
 * directory and master seed, with new clients; `hostOptions()` are its
 * options, for a second host beside it.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { english, generateMnemonic } from "viem/accounts";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { startCreator } from "@convos-pool/convos/testing";
import {
  createLogger,
  createServiceClient,
  generateServiceCredentials,
  type ServiceClient,
} from "@convos-pool/kit/server";
import { newTemplateIdentity, signAddToConversation, signUpdateRelease } from "@convos-pool/kit/signing";
import type { TemplateContentJson } from "@convos-pool/kit/content";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { ConvosCli, type ReadyEvent } from "@convos-pool/testing/convos-cli";
import { xmtpPortForTest, type XmtpPort } from "@convos-pool/testing/xmtp-port";
import { startDevnode, type DevnodeOptions, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { instanceCall, startInstanceHost, type InstanceHostOptions, type RunningInstanceHost } from "../src/index.js";

export type Creator = Awaited<ReturnType<typeof startCreator>>;

export interface OneHostOptions {
  /** Names the temporary directory (`<name>-…`) and the XMTP node's database. */
  name: string;
  /** More of the instance host's options (join timeout, dormancy, a log); its log is silent unless given. */
  host?: Partial<InstanceHostOptions>;
  /** The template's content over sampleContent's, a "Concierge" without tools unless said. */
  content?: Partial<TemplateContentJson>;
  /**
   * Who creates the conversations: the SDK creator (`creator`, the default); nobody; or the real Convos
   * CLI serving one conversation (`convos agent serve` with these arguments: `cli`, and its invite in
   * `ready`), which reaches the node on this file's own port through its bridge (@convos-pool/testing/xmtp-port).
   */
  conversations?: "creator" | "none" | { serve: string[] };
  /** More of the local XMTP node's options (its rate limits). */
  node?: Partial<DevnodeOptions>;
}

/** What differs from `configured`'s defaults: the owner, the content over the fixture's, another host of the test. */
export interface AgentOptions {
  ownerId?: string;
  content?: Partial<TemplateContentJson>;
  on?: RunningInstanceHost;
}

export class OneHost {
  readonly creds = generateServiceCredentials();
  readonly masterSeed = generateMnemonic(english);
  /** Who created the agents' template and signs its releases. */
  readonly templateCreator = newIdentity();
  /** The template, as the templates service makes one: its id derives from the creator's create (kit ids.ts). */
  readonly made = newTemplateIdentity(this.templateCreator.inboxId);
  /** Everything on disk: `host/` (the host's data directory, `host/instances/<id>` each workspace), `creator/`, `cli/`. */
  dir = "";
  node!: RunningDevnode;
  host!: RunningInstanceHost;
  /** The conversations' creator and the agents' owner. */
  creator: Creator | undefined;
  /** The Convos CLI serving the one conversation, and its ready event (the invite, the conversation). */
  cli: ConvosCli | undefined;
  ready!: ReadyEvent;
  /** The host's calls as the claims service makes them. */
  hostRpc!: ServiceClient<typeof InstanceHostService>;
  rpc!: ServiceClient<typeof InstanceService>;
  private xmtp: XmtpPort | undefined;
  private nodeDatabaseUrl = "";

  constructor(private readonly opts: OneHostOptions) {}

  async start(): Promise<this> {
    const { name, conversations = "creator" } = this.opts;
    const served = typeof conversations === "object" ? conversations.serve : undefined;
    if (served) this.xmtp = await xmtpPortForTest({ timeoutMs: 60_000 });
    this.dir = await mkdtemp(join(tmpdir(), `${name}-`));
    this.nodeDatabaseUrl = await createTestDatabase(name);
    this.node = await startDevnode({
      port: this.xmtp?.port ?? 0,
      databaseUrl: this.nodeDatabaseUrl,
      ...this.opts.node,
    });
    if (conversations === "creator") {
      await mkdir(join(this.dir, "creator"));
      this.creator = await startCreator(this.node.url, join(this.dir, "creator"));
    }
    if (!served) return this.startHost();
    this.cli = await ConvosCli.start(["agent", "serve", ...served], join(this.dir, "cli"), {
      xmtpPort: this.xmtp!.port,
    });
    [this.ready] = await Promise.all([this.cli.ready(), this.startHost()]);
    return this;
  }

  /** The instance host's options: the fixture's, the test's (`host`), then `over`. */
  hostOptions(over: Partial<InstanceHostOptions> = {}): InstanceHostOptions {
    return {
      xmtpApiUrl: this.node.url,
      masterSeed: this.masterSeed,
      dataDir: join(this.dir, "host"),
      credentials: this.creds["instance-host"],
      log: createLogger("instance-host", { level: "silent" }),
      ...this.opts.host,
      ...over,
    };
  }

  /** The instance host on its data directory (again after `host.close()`), `over` its options this once, and clients of it. */
  async startHost(over: Partial<InstanceHostOptions> = {}): Promise<this> {
    this.host = await startInstanceHost(this.hostOptions(over));
    this.hostRpc?.close();
    this.rpc?.close();
    this.hostRpc = createServiceClient(InstanceHostService, this.host.url, this.creds.claims);
    this.rpc = createServiceClient(InstanceService, this.host.url, this.creds.claims);
    return this;
  }

  /** The XMTP node closed and started again on its port and database, as its clients see a restart. */
  async restartNode(): Promise<RunningDevnode> {
    const port = Number(new URL(this.node.url).port);
    await this.node.close();
    this.node = await startDevnode({ port, databaseUrl: this.nodeDatabaseUrl });
    return this.node;
  }

  /** A release of the template at `version`, signed by its creator, with `over` over the fixture's content. */
  release(version: bigint, over: Partial<TemplateContentJson> = {}): Promise<SignedTemplate> {
    return signUpdateRelease(this.templateCreator.account, {
      ...this.made,
      creatorId: this.templateCreator.inboxId,
      version,
      content: sampleContent({ agent_name: "Concierge", tools: [], ...this.opts.content, ...over }),
    });
  }

  /** Started and configured with release 2 (a claim's first two steps), for the creator and on this host unless `agent` says; its inbox id. */
  async configured(id: string, walletIndex: number, agent: AgentOptions = {}): Promise<string> {
    return this.calling(agent.on, async (hostRpc, rpc) => {
      const { inboxId } = await hostRpc.client.startInstance({ instanceId: id, walletIndex });
      await rpc.client.configure(
        { template: await this.release(2n, agent.content), ownerId: agent.ownerId ?? this.creator!.inboxId },
        instanceCall(id),
      );
      return inboxId;
    });
  }

  /** Configured, then in a conversation of its own with the creator, joined by its invite. */
  async joined(id: string, walletIndex: number): Promise<{ inboxId: string; groupId: string }> {
    const inboxId = await this.configured(id, walletIndex);
    const conv = await this.creator!.conversation(`${id}'s conversation`);
    const { conversationId } = await this.rpc.client.joinConversation(
      { conversationInvite: conv.invite },
      { ...instanceCall(id), timeoutMs: 30_000 },
    );
    if (conversationId !== conv.groupId) throw new Error(`${id} joined ${conversationId}, not ${conv.groupId}`);
    return { inboxId, groupId: conv.groupId };
  }

  /** Added by its owner (the creator) to the conversation of `invite`, signed AddToConversation; that conversation's id. */
  async added(id: string, invite: string): Promise<string> {
    const owner = this.creator!;
    const fields = { ownerId: owner.inboxId, instanceId: id, conversationInvite: invite };
    const { conversationId } = await this.rpc.client.addConversation(
      {
        conversationInvite: invite,
        authorization: { ownerId: owner.inboxId, signature: await signAddToConversation(owner.account, fields) },
      },
      { ...instanceCall(id), timeoutMs: 30_000 },
    );
    return conversationId;
  }

  /** Configured, then a member of the CLI's conversation, joined by its invite, once the CLI saw it join; its inbox id. */
  async joinedServed(id: string, walletIndex: number, agent: AgentOptions = {}): Promise<string> {
    const inboxId = await this.configured(id, walletIndex, agent);
    await this.calling(agent.on, (_, rpc) =>
      rpc.client.joinConversation({ conversationInvite: this.ready.inviteUrl }, instanceCall(id)),
    );
    await this.cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === inboxId);
    return inboxId;
  }

  /** Stops what started and removes the directory. */
  async close(): Promise<void> {
    this.hostRpc?.close();
    this.rpc?.close();
    await this.host?.close();
    await this.creator?.close();
    await this.cli?.stop();
    await this.node?.close();
    await this.xmtp?.release();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** `use` with the clients of `host`: this one's, or ones made for another host and closed after. */
  private async calling<T>(
    host: RunningInstanceHost | undefined,
    use: (hostRpc: ServiceClient<typeof InstanceHostService>, rpc: ServiceClient<typeof InstanceService>) => Promise<T>,
  ): Promise<T> {
    if (!host || host === this.host) return use(this.hostRpc, this.rpc);
    const hostRpc = createServiceClient(InstanceHostService, host.url, this.creds.claims);
    const rpc = createServiceClient(InstanceService, host.url, this.creds.claims);
    try {
      return await use(hostRpc, rpc);
    } finally {
      hostRpc.close();
      rpc.close();
    }
  }
}
