/**
 * TEST FIXTURE. One host, one conversation: an instance host on a local XMTP
 * node of the test's own (its database on the test PostgreSQL), and a Convos
 * conversation's creator made with the SDK (`startCreator`), who owns the
 * agents and answers their join requests. What the host's tests of an agent
 * in a conversation (dormancy, retiree) build first:
 *
 *   const one = new OneHost({ name: "instance-dormancy", host: { dormantAfterMs: 1_000 } });
 *   beforeAll(() => one.start());
 *   afterAll(() => one.close());
 *   const a = await one.joined("inst-a", 0); // started, configured, in a conversation of its own
 *
 * After `host.close()`, `startHost()` brings the host back on the same data
 * directory and master seed, with new clients.
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
  newTemplateIdentity,
  signUpdateRelease,
  type ServiceClient,
  type TemplateContentJson,
} from "@convos-pool/kit";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { createTestDatabase } from "@convos-pool/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { instanceCall, startInstanceHost, type InstanceHostOptions, type RunningInstanceHost } from "../src/index.js";

export type Creator = Awaited<ReturnType<typeof startCreator>>;

export interface OneHostOptions {
  /** Names the temporary directory (`<name>-…`) and the XMTP node's database. */
  name: string;
  /** More of the instance host's options (join timeout, dormancy, a log); its log is silent unless given. */
  host?: Partial<InstanceHostOptions>;
  /** The template's content over sampleContent's, a "Concierge" without tools unless said. */
  content?: Partial<TemplateContentJson>;
}

export class OneHost {
  readonly creds = generateServiceCredentials();
  readonly masterSeed = generateMnemonic(english);
  /** Who created the agents' template and signs its releases. */
  readonly templateCreator = newIdentity();
  /** The template, as the templates service makes one: its id derives from the creator's create (kit ids.ts). */
  readonly made = newTemplateIdentity(this.templateCreator.inboxId);
  /** Everything on disk: `host/` (the host's data directory, `host/instances/<id>` each workspace), `creator/`. */
  dir = "";
  node: RunningDevnode | undefined;
  host: RunningInstanceHost | undefined;
  /** The conversations' creator and the agents' owner. */
  creator: Creator | undefined;
  /** The host's calls as the claims service makes them. */
  hostRpc!: ServiceClient<typeof InstanceHostService>;
  rpc!: ServiceClient<typeof InstanceService>;

  constructor(private readonly opts: OneHostOptions) {}

  async start(): Promise<this> {
    const { name } = this.opts;
    this.dir = await mkdtemp(join(tmpdir(), `${name}-`));
    this.node = await startDevnode({ port: 0, databaseUrl: await createTestDatabase(name) });
    await mkdir(join(this.dir, "creator"));
    this.creator = await startCreator(this.node.url, join(this.dir, "creator"));
    return this.startHost();
  }

  /** The instance host on its data directory (again after `host.close()`), and clients of it. */
  async startHost(): Promise<this> {
    this.host = await startInstanceHost({
      xmtpApiUrl: this.node!.url,
      masterSeed: this.masterSeed,
      dataDir: join(this.dir, "host"),
      credentials: this.creds["instance-host"],
      log: createLogger("instance-host", { level: "silent" }),
      ...this.opts.host,
    });
    this.hostRpc?.close();
    this.rpc?.close();
    this.hostRpc = createServiceClient(InstanceHostService, this.host.url, this.creds.claims);
    this.rpc = createServiceClient(InstanceService, this.host.url, this.creds.claims);
    return this;
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

  /** Started and configured with release 2 for the creator (a claim's first two steps); its inbox id. */
  async configured(id: string, walletIndex: number): Promise<string> {
    const { inboxId } = await this.hostRpc.client.startInstance({ instanceId: id, walletIndex });
    await this.rpc.client.configure(
      { template: await this.release(2n), ownerId: this.creator!.inboxId },
      instanceCall(id),
    );
    return inboxId;
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

  /** Stops what started and removes the directory. */
  async close(): Promise<void> {
    this.hostRpc?.close();
    this.rpc?.close();
    await this.host?.close();
    await this.creator?.close();
    await this.node?.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
