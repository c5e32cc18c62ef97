// One agent instance: its wallet, XMTP client, workspace and conversation.
// An instance host runs many of these in one process (host.ts); each is
// isolated by its keys, its XMTP database and its workspace directory.
//
// States (convos.pool.v1.InstanceState, seen by the claims service):
//   STARTING  its XMTP client is being created / registered
//   IDLE      registered, not configured: a warm instance in the pool
//   CLAIMING  configured (Configure), not yet in its conversation
//   CLAIMED   joined its conversation and answering there
//   DORMANT   claimed and quiet for a while: client closed, memory dropped,
//             its group watched by the host; a message there or a call wakes it
//   CRASHED   could not start, or lost its conversation; StartInstance retries
// An idle instance holds only its client and a few fields: no stream, no
// memory loaded, no resolver (those come with Configure and the join); only
// one released from a claim's invite streams new groups for a while, to
// leave that invite's conversation (abandoned.ts). A dormant one holds no
// client either (dormancy.ts): sleep() and awaken() below.

import { setTimeout as sleep } from "node:timers/promises";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  failedPrecondition,
  INBOX_ID_PATTERN,
  type InboxResolver,
  invalidArgument,
  inviteHash,
  type Logger,
  nonceUsed,
  permissionDenied,
  type ReleaseVerifier,
  renderIdentity,
  requireString,
  resolveContent,
  type SignatureVerifier,
  unauthenticated,
} from "@convos-pool/kit";
import { joinConversation, parseInvite } from "@convos-pool/convos";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { InstanceState, type ActivityEntry } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type {
  CloneSummaryRequest,
  ConfigureRequest,
  InstanceServiceSetTrustLevelRequest,
  InstanceServiceUpdateTemplateRequest,
  ListActivityRequest,
  TransferOwnerRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { CloneSummary } from "@convos-pool/gen/convos/pool/v1/clone_summary_pb.js";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { OfflineProvider, type HistoryLine, type InboundTextTurn, type LlmProvider } from "./llm.js";
import type { ToolEnvironment } from "./tools/agent-tools.js";
import { AgentToolbox } from "./tools/toolbox.js";
import { checkLevelRequest, describeLevel, type TrustFile } from "./tools/trust.js";
import { Memory, carriesOtherKind, shortInbox, type MemoryFile, type NewEntry } from "./memory.js";
import type { MasterSeed, InstanceWallet } from "./wallet.js";
import { InviteGuard } from "./abandoned.js";
import {
  CLONE_SIGNATURE_MAX_AGE_SECONDS,
  SpentNonces,
  buildSummary,
  checkCloneRequest,
  checkSummary,
  cloneSummaryCodec,
  isCloneSummary,
  type CloneChecks,
} from "./clone.js";
import { planConfigure } from "./configure.js";
import type { PatternHooks } from "./patterns.js";
import type { DormancyOptions } from "./dormancy.js";
import { NO_SHARING, readSharing, writeSharing, type PatternSharing } from "./sharing.js";
import type { MemoryAccess } from "./memory-service.js";
import { checkOwnerSignature, type OwnerCheck } from "./owner-signature.js";
import { appliedReleaseKey, planTemplateUpdate } from "./update.js";
import { FILES, Workspace, type InstanceRecord } from "./workspace.js";
import {
  createAgentClient,
  flattenReply,
  isReaction,
  isText,
  profilesIn,
  type AgentClient,
  type AgentGroup,
  type AgentMessage,
  type TextMessage,
} from "./xmtp.js";
import { FeedbackReader, recordCorrection, withReactionsSince, type AnswerRef } from "./feedback.js";

/** config.json: what Configure gave it, without secrets. */
export interface InstanceConfig {
  instanceId: string;
  /** The signed template as received (the creator's signature included). */
  template: JsonValue;
  /** Its bases' signed releases as received, its base first (absent before base templates). */
  bases?: JsonValue[];
  templateId: string;
  templateVersion: string;
  agentName: string;
  ownerId: string;
  model: string;
  modelOverridden: boolean;
  /** Pool-provisioned tools: public handles only; secrets are in credentials.json. */
  tools: { toolId: string; handle: string }[];
  userConfig: Record<string, string>;
  /** A clone's parent as the pool named it: whose summary it waits for. */
  parent?: ParentRef;
  configuredAt: string;
  /** When the last UpdateTemplate was applied. */
  updatedAt?: string;
}

export interface ParentRef {
  instanceId: string;
  inboxId: string;
  walletIndex: number;
}

/** credentials.json (encrypted): the tools' secrets. */
export type InstanceCredentials = Record<string, Record<string, string>>;

/** state.json: its conversation, and how far it has read. */
export interface ConversationState {
  conversationId: string;
  inviteTag: string;
  /** keccak256 of the invite it joined with: how an owner's clone signature names this conversation. */
  inviteHash?: string;
  joinedAt: string;
  /** sentAtNs of the last message handled (decimal string). */
  lastSeenNs: string;
  /** Members known to be agents (their profile says so): never answered. */
  agents: string[];
  /** The conversation's creator, from the invite: a principal even when its client is an agent. */
  creatorInboxId: string;
  /** Profile names by inbox id. */
  names: Record<string, string>;
}

/** inheritance.json: a clone's wait for its parent's summary (counts and reasons, never the summary). */
export interface InheritanceFile {
  state: "waiting" | "inherited" | "refused" | "timed_out";
  /** Entries taken in. */
  entries?: number;
  /** Why a summary was refused, or none came. */
  reason?: string;
  at: string;
}

/** How long a clone listens for its parent's summary after it was configured. */
export const SUMMARY_WAIT_MS = 15 * 60 * 1000;
/** How old a transfer offer may be when the new owner accepts it. */
export const TRANSFER_OFFER_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;

export interface InstanceDeps {
  dataDir: string;
  xmtpApiUrl: string;
  seed: MasterSeed;
  llm: LlmProvider;
  log: Logger;
  /** The network-backed inbox resolver, shared by the host, created on first use. */
  resolver: () => Promise<InboxResolver>;
  /** Checks signatures (owners', creators'), through that resolver. */
  verifier: () => Promise<SignatureVerifier>;
  /** Checks template releases' signatures once per release for all the host's agents (kit verified-releases.ts). */
  releases: () => Promise<ReleaseVerifier>;
  /** How long a join waits for the creator to add the instance; default 60 s. */
  joinTimeoutMs?: number;
  /** Lines of conversation given to the model; default 20. */
  historyLimit?: number;
  /** Stream reconnect delay; default 2 s. */
  streamRetryMs?: number;
  /** Where its tools reach their providers; none: it holds tools it cannot use. */
  tools?: ToolEnvironment;
  /** How long a tool call waits for the owner's approval; default 5 minutes. */
  approvalTimeoutMs?: number;
  /** How often it looks for new mail; default 30 s. */
  mailPollMs?: number;
  /** The host's pattern exchange (patterns.ts); none: sharing with the pattern pool is inert. */
  patterns?: PatternHooks;
  /** Quiet agents go dormant and the host's watch wakes them (dormancy.ts); none: they never do. */
  dormancy?: DormancyOptions;
}

/** dormant.json: it is dormant; where the host's watch of its group starts. */
export interface DormantFile {
  conversationId: string;
  /** The node's newest message id of its group before it last synced (decimal). */
  cursor: string;
  since: string;
}
export const DORMANT_FILE = "dormant.json";

/** Runs one async job at a time, in order. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  /** Jobs queued or running. */
  pending = 0;
  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.tail.then(job, job).finally(() => this.pending--);
    this.tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

const DESCENDING = 1; // SortDirection.Descending (a const enum of the bindings)
/** Agent messages in a row after which it stops answering agents until a person speaks. */
export const MAX_AGENT_CHAIN = 4;
export const MAX_ANSWERS_PER_MINUTE = 30;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class AgentInstance {
  state: InstanceState = InstanceState.STARTING;
  inboxId = "";
  /** Why it crashed, for logs and ListInstances callers. */
  failure: string | undefined;
  readonly ws: Workspace;
  private readonly log: Logger;
  private wallet: InstanceWallet | undefined;
  private client: AgentClient | undefined;
  private config: InstanceConfig | undefined;
  private memory: Memory | undefined;
  private convo: ConversationState | undefined;
  private group: AgentGroup | undefined;
  private stream: { end(): Promise<unknown> | unknown } | undefined;
  private readonly ops = new Serial();
  private readonly turns = new Serial();
  private readonly handled = new Set<string>();
  /** Text messages in a row from agents (itself included) since a person or principal spoke. */
  private agentChain = 0;
  private readonly answeredAt: number[] = [];
  private stopped = false;
  /** A clone: where its parent's summary stands; the stream that waits for it. */
  private inheritance: InheritanceFile | undefined;
  private summaryStream: { end(): Promise<unknown> | unknown } | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private spentNonces: SpentNonces | undefined;
  /** The owner's pattern-pool choice (sharing.ts); both off until they set it. */
  private patternSharing: PatternSharing = { ...NO_SHARING };
  /** Its trust level, activity log and tools (tools/toolbox.ts). */
  private readonly toolbox: AgentToolbox;
  /** Reactions and corrections on its own messages (feedback.ts). */
  private readonly feedback: FeedbackReader;
  /** Keeps it out of the conversations of invites it was released from. */
  readonly invites: InviteGuard;
  ready: Promise<void> = Promise.resolve();
  /** When it last heard or did anything (Date.now()): what dormancy measures quiet by. */
  private lastActive = Date.now();

  constructor(
    private readonly deps: InstanceDeps,
    readonly id: string,
    readonly walletIndex: number,
  ) {
    this.ws = new Workspace(deps.dataDir, id);
    this.log = deps.log.child({ instanceId: id });
    this.invites = new InviteGuard(this.ws, this.log, {
      current: () => this.convo?.conversationId,
      retryMs: deps.streamRetryMs ?? 2_000,
    });
    this.feedback = new FeedbackReader({
      inboxId: () => this.inboxId,
      lookup: (id) => this.client?.conversations.getMessageById(id),
      log: this.log,
    });
    this.toolbox = new AgentToolbox({
      ws: this.ws,
      log: this.log,
      ...(deps.tools ? { env: deps.tools } : {}),
      ...(deps.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: deps.approvalTimeoutMs } : {}),
      ...(deps.mailPollMs !== undefined ? { mailPollMs: deps.mailPollMs } : {}),
      say: async (text) => {
        if (!this.group || this.stopped) return false;
        await this.group.sendText(text);
        return true;
      },
      ownerName: () => (this.config && this.convo?.names[this.config.ownerId]) || "my owner",
      betweenTurns: (job) => this.turns.run(job),
    });
  }

  get address(): string | undefined {
    return this.wallet?.address;
  }

  get conversationId(): string | undefined {
    return this.convo?.conversationId;
  }

  get appliedTemplateVersion(): bigint {
    return this.config ? BigInt(this.config.templateVersion) : 0n;
  }

  /** Whether its owner lets it offer lessons to, and adopt lessons from, the pattern pool. */
  get sharing(): { offer: boolean; adopt: boolean } {
    return { offer: this.patternSharing.offer, adopt: this.patternSharing.adopt };
  }

  /** The content versions of its template's bases it runs on, its base first. */
  get appliedBaseVersions(): bigint[] {
    return this.config ? appliedReleaseKey(this.config).slice(1) : [];
  }

  /** Creates (or reopens) its workspace and XMTP client; resumes its conversation if it had one. */
  start(): Promise<void> {
    this.state = InstanceState.STARTING;
    this.failure = undefined;
    this.stopped = false;
    this.ready = this.ops.run(async () => {
      try {
        await this.open();
      } catch (err) {
        this.state = InstanceState.CRASHED;
        this.failure = err instanceof Error ? err.message : String(err);
        this.log.error("instance failed to start", { err });
        throw err;
      }
    });
    return this.ready;
  }

  private async open(): Promise<void> {
    if (this.client) {
      // Started again after a crash: what the failed start opened goes first.
      await this.invites.stop();
      await this.endStream();
      await this.endSummaryStream();
      await this.closeClient(this.client);
      this.client = undefined;
    }
    await this.ws.create();
    const record = await this.ws.readJson<InstanceRecord>(FILES.instance);
    if (record && record.walletIndex !== this.walletIndex) {
      throw failedPrecondition(`instance ${this.id} has wallet index ${record.walletIndex}, not ${this.walletIndex}`);
    }
    this.wallet = this.deps.seed.wallet(this.walletIndex);
    const started = performance.now();
    this.lastActive = Date.now();
    if (record && (await this.restoreDormant(record))) {
      this.log.info("instance started", {
        inboxId: this.inboxId,
        walletIndex: this.walletIndex,
        state: "DORMANT",
        ms: Math.round(performance.now() - started),
      });
      return;
    }
    this.client = await this.openClient();
    this.inboxId = this.client.inboxId;
    await this.ws.writeJson(FILES.instance, {
      instanceId: this.id,
      walletIndex: this.walletIndex,
      address: this.wallet.address,
      inboxId: this.inboxId,
      createdAt: record?.createdAt ?? new Date().toISOString(),
    } satisfies InstanceRecord);

    this.config = await this.ws.readJson<InstanceConfig>(FILES.config);
    if (!this.config) {
      this.state = InstanceState.IDLE;
    } else {
      this.convo = await this.ws.readJson<ConversationState>(FILES.state);
      await this.loadConfigured(this.config);
      this.state = InstanceState.CLAIMING;
      if (this.convo) {
        await this.resume(this.convo);
        await this.awaitSummary();
      }
    }
    // Dormant when a host without dormancy stopped: awake now, and stays so.
    await this.ws.remove(DORMANT_FILE);
    await this.invites.open(this.client);
    this.log.info("instance started", {
      inboxId: this.inboxId,
      walletIndex: this.walletIndex,
      state: InstanceState[this.state],
      ms: Math.round(performance.now() - started),
    });
  }

  /** Its XMTP client, on the database in its workspace. */
  private openClient(): Promise<AgentClient> {
    return createAgentClient(this.wallet!.account, {
      apiUrl: this.deps.xmtpApiUrl,
      dbPath: this.ws.xmtpDbPath,
      dbEncryptionKey: this.wallet!.xmtpDbKey(),
    });
  }

  /** What a configured agent keeps in its workspace beside its conversation: memory, inheritance, sharing, tools. */
  private async loadConfigured(config: InstanceConfig): Promise<void> {
    this.memory = Memory.from(await this.ws.readJson<MemoryFile>(FILES.memory));
    this.inheritance = await this.ws.readJson<InheritanceFile>(FILES.inheritance);
    this.patternSharing = await readSharing(this.ws);
    await this.loadTools(config);
  }

  /** After a restart: find its conversation again and answer what came in meanwhile. */
  private async resume(convo: ConversationState): Promise<void> {
    const client = this.client!;
    let group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    if (!group) {
      await client.conversations.sync();
      group = (await client.conversations.getConversationById(convo.conversationId)) as AgentGroup | undefined;
    }
    if (!group) throw new Error(`conversation ${convo.conversationId} is gone from the instance's XMTP database`);
    await this.listen(group);
  }

  /** Before a call (inside `ops`): started, not crashed or stopped; a dormant one wakes for it. */
  private async ensureReady(): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.state === InstanceState.DORMANT && !this.stopped) await this.awaken("a call");
    if (this.state === InstanceState.CRASHED)
      throw failedPrecondition(`instance ${this.id} crashed: ${this.failure ?? "unknown"}`);
    if (this.stopped || !this.client) throw failedPrecondition(`instance ${this.id} is stopped`);
    this.lastActive = Date.now();
  }

  // ---- dormancy (dormancy.ts) ----

  /** Whether it may go dormant now: claimed, quiet `afterMs`, and nothing that needs its client running. */
  private maySleep(afterMs: number, insideOps: boolean): boolean {
    const config = this.config;
    if (
      !this.deps.dormancy ||
      this.stopped ||
      this.state !== InstanceState.CLAIMED ||
      !config ||
      !this.client ||
      !this.group ||
      !this.convo
    )
      return false;
    if (Date.now() - this.lastActive < afterMs) return false;
    // A turn or a call in progress; a tool call waiting for the owner is a turn in progress.
    if (this.turns.pending > 0 || this.ops.pending > (insideOps ? 1 : 0)) return false;
    // A clone waiting for its summary, and the groups of abandoned invites, are streams of their own.
    if (this.summaryStream) return false;
    if (this.invites.abandoned.some((a) => Date.parse(a.until) > Date.now())) return false;
    // Its mailbox is polled while it is awake; asleep, mail would go unnoticed.
    if (config.tools.some((t) => t.toolId === "email") && this.toolbox.level >= TrustLevel.ADVISOR) return false;
    return true;
  }

  /** The host's sweep: goes dormant if it may and has been quiet `afterMs`. True when it did. */
  async sleepIfQuiet(afterMs: number): Promise<boolean> {
    if (!this.maySleep(afterMs, false)) return false;
    return this.ops.run(async () => this.maySleep(afterMs, true) && (await this.sleep()));
  }

  /**
   * Closes its client and drops its memory, keeping its workspace, and asks
   * the host's watch to wake it on the next message in its group. The cursor
   * is taken before a last sync: whatever came up to it is read here (and if
   * any of it is new, it stays awake to handle it), whatever comes after
   * wakes it.
   */
  private async sleep(): Promise<boolean> {
    const dormancy = this.deps.dormancy!;
    const group = this.group!;
    const convo = this.convo!;
    const client = this.client!;
    await this.endStream();
    await withTimeout(this.turns.idle(), 10_000);
    let cursor: bigint;
    try {
      cursor = await dormancy.watch.newest(convo.conversationId);
      await group.sync();
    } catch (err) {
      this.log.warn("could not go dormant: the XMTP node did not answer", { err });
      await this.listen(group);
      return false;
    }
    const missed = await this.unhandledSince(group, BigInt(convo.lastSeenNs));
    if (missed > 0 || this.turns.pending > 0) {
      // Something came at the last moment: it is handled awake.
      await this.listen(group);
      return false;
    }
    await this.ws.writeJson(DORMANT_FILE, {
      conversationId: convo.conversationId,
      cursor: cursor.toString(),
      since: new Date().toISOString(),
    } satisfies DormantFile);
    this.group = undefined;
    this.client = undefined;
    this.toolbox.close();
    await this.invites.stop();
    await this.closeClient(client);
    this.memory = undefined;
    this.spentNonces = undefined;
    this.handled.clear();
    // Stopped meanwhile (StopInstance, the host closing): stopped it stays, unwatched.
    if (this.stopped) return false;
    this.state = InstanceState.DORMANT;
    this.watchGroup(convo.conversationId, cursor);
    this.log.info("instance dormant", { conversationId: convo.conversationId, quietMs: Date.now() - this.lastActive });
    return true;
  }

  /** Messages in its group past `sinceNs` it has not handled, its own excepted. */
  private async unhandledSince(group: AgentGroup, sinceNs: bigint): Promise<number> {
    const sent = await group.messages({ sentAfterNs: sinceNs, limit: 100, direction: DESCENDING as never });
    return sent.filter((m) => m.senderInboxId !== this.inboxId && !this.handled.has(m.id)).length;
  }

  private watchGroup(conversationId: string, cursor: bigint): void {
    this.deps.dormancy!.watch.watch(conversationId, cursor, () => {
      void this.ops
        .run(() => this.awaken("a message"))
        .catch((err: unknown) => this.log.error("waking for a message failed", { err }));
    });
  }

  /** At start: dormant when it went dormant before the host stopped (and the host still puts agents to sleep). */
  private async restoreDormant(record: InstanceRecord): Promise<boolean> {
    const dormant = await this.ws.readJson<DormantFile>(DORMANT_FILE);
    if (!dormant || !this.deps.dormancy) return false;
    const config = await this.ws.readJson<InstanceConfig>(FILES.config);
    const convo = await this.ws.readJson<ConversationState>(FILES.state);
    if (!config || convo?.conversationId !== dormant.conversationId) {
      await this.ws.remove(DORMANT_FILE);
      return false;
    }
    this.inboxId = record.inboxId;
    this.config = config;
    this.convo = convo;
    this.state = InstanceState.DORMANT;
    this.watchGroup(dormant.conversationId, BigInt(dormant.cursor));
    return true;
  }

  /**
   * Wakes a dormant agent (inside `ops`): its client again, its memory and
   * tools from the workspace, then its conversation as after a restart
   * (resume: a sync, the stream, and an answer to what came while it slept).
   */
  private async awaken(why: string): Promise<void> {
    if (this.state !== InstanceState.DORMANT || this.stopped) return;
    const started = performance.now();
    const convo = this.convo!;
    this.deps.dormancy?.watch.unwatch(convo.conversationId);
    try {
      const client = await this.openClient();
      this.client = client;
      const config = (await this.ws.readJson<InstanceConfig>(FILES.config)) ?? this.config!;
      this.config = config;
      await this.loadConfigured(config);
      this.lastActive = Date.now();
      await this.resume(convo);
      if (this.stopped) {
        // Stopped while it woke: the client stop() did not see is closed here, and it stays dormant on disk.
        await this.endStream();
        this.client = undefined;
        this.group = undefined;
        await this.closeClient(client);
        return;
      }
      await this.ws.remove(DORMANT_FILE);
      await this.invites.open(client);
    } catch (err) {
      this.state = InstanceState.CRASHED;
      this.failure = err instanceof Error ? err.message : String(err);
      this.log.error("a dormant instance could not wake", { err });
      throw err;
    }
    this.log.info("instance woke", { for: why, ms: Math.round(performance.now() - started) });
  }

  // ---- InstanceService ----

  /**
   * Takes a claim's configuration once configure.ts checked it: the
   * creator-signed release, and a model, tools and user config that release
   * allows. Nothing is written before the checks pass.
   */
  configure(req: ConfigureRequest): Promise<void> {
    return this.ops.run(async () => {
      await this.ensureReady();
      if (this.state === InstanceState.CLAIMED) {
        throw failedPrecondition(`instance ${this.id} is already in a conversation; Release it first`);
      }
      if (req.instanceId && req.instanceId !== this.id) {
        throw invalidArgument("instance_id", `names ${req.instanceId}, but the call is for instance ${this.id}`);
      }
      const { config, content, credentials } = await planConfigure(await this.deps.releases(), this.id, req);
      // A claim starts fresh: no memory of an earlier claim. config.json last:
      // its presence is what makes the instance configured after a restart.
      this.memory = new Memory();
      await this.ws.writeText(FILES.identity, renderIdentity(content));
      await this.ws.writeSecrets(this.wallet!.credentialsKey(), credentials);
      await this.ws.writeJson(FILES.memory, this.memory.toFile());
      await this.ws.remove(FILES.state);
      await this.ws.remove(FILES.inheritance);
      await this.toolbox.begin(content.maxTrustLevel);
      await this.ws.writeJson(FILES.config, config);
      this.config = config;
      this.convo = undefined;
      this.inheritance = undefined;
      await this.loadTools(config);
      this.state = InstanceState.CLAIMING;
      this.log.info("instance configured", {
        templateId: config.templateId,
        templateVersion: config.templateVersion,
        model: config.model,
        modelOverridden: config.modelOverridden,
        tools: config.tools.map((t) => t.toolId),
        userConfigFields: Object.keys(config.userConfig),
        parentInstanceId: config.parent?.instanceId,
      });
    });
  }

  joinConversation(invite: string, signal?: AbortSignal): Promise<string> {
    return this.ops.run(async () => {
      await this.ensureReady();
      if (!this.config) throw failedPrecondition(`instance ${this.id} is not configured: call Configure first`);
      requireString("conversation_invite", invite, { max: 64 * 1024 });
      if (this.convo) {
        const parsed = await parseInvite(invite);
        if (parsed.payload.tag === this.convo.inviteTag) return this.convo.conversationId;
        throw failedPrecondition(`instance ${this.id} is already in conversation ${this.convo.conversationId}`);
      }
      const started = performance.now();
      const { invite: parsed, group } = await joinConversation(this.client!, invite, {
        resolver: await this.deps.resolver(),
        profileName: this.config.agentName,
        timeoutMs: this.deps.joinTimeoutMs ?? 60_000,
        onInvite: (i) =>
          this.invites.attempt({
            tag: i.payload.tag,
            creatorInboxId: i.creatorInboxId,
            ...(i.expiresAt ? { expiresAt: i.expiresAt.toISOString() } : {}),
          }),
        ...(signal ? { signal } : {}),
      });
      const convo: ConversationState = {
        conversationId: group.id,
        inviteTag: parsed.payload.tag,
        inviteHash: inviteHash(invite),
        joinedAt: new Date().toISOString(),
        lastSeenNs: "0",
        agents: [],
        creatorInboxId: parsed.creatorInboxId,
        names: {},
      };
      await this.ws.writeJson(FILES.state, convo);
      this.convo = convo;
      await this.listen(group);
      await this.awaitSummary();
      this.log.info("instance joined its conversation", {
        conversationId: group.id,
        creatorInboxId: parsed.creatorInboxId,
        ms: Math.round(performance.now() - started),
      });
      return group.id;
    });
  }

  /**
   * A creator-signed template version (update.ts checks it). Written in the
   * order that lets a retry finish a crashed update: credentials, IDENTITY.md,
   * then config.json, whose version is the applied one. The next turn reads
   * the new IDENTITY.md; a turn already running keeps the config it started with.
   */
  updateTemplate(
    req: InstanceServiceUpdateTemplateRequest,
  ): Promise<{ appliedVersion: bigint; appliedBaseVersions: bigint[]; model: string; trustLevel: TrustLevel }> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const applied = this.config;
      if (!applied) throw failedPrecondition(`instance ${this.id} is not configured: there is no template to update`);
      const update = await planTemplateUpdate(await this.deps.releases(), applied, req);
      await this.ws.writeSecrets(this.wallet!.credentialsKey(), update.credentials);
      await this.ws.writeText(FILES.identity, renderIdentity(update.content));
      await this.ws.writeJson(FILES.config, update.config);
      this.config = update.config;
      await this.loadTools(update.config);
      await this.toolbox.clamp(this.templateMax(), update.config.templateVersion);
      this.log.info("template updated", {
        templateId: update.config.templateId,
        fromVersion: applied.templateVersion,
        templateVersion: update.config.templateVersion,
        model: update.config.model,
        modelOverridden: update.config.modelOverridden,
        tools: update.config.tools.map((t) => t.toolId),
      });
      return {
        appliedVersion: BigInt(update.config.templateVersion),
        appliedBaseVersions: this.appliedBaseVersions,
        model: update.config.model,
        trustLevel: this.toolbox.level,
      };
    });
  }

  health(): {
    state: InstanceState;
    inboxId: string;
    appliedTemplateVersion: bigint;
    appliedBaseVersions: bigint[];
    inheritedEntries: number;
  } {
    return {
      state: this.state,
      inboxId: this.inboxId,
      appliedTemplateVersion: this.appliedTemplateVersion,
      appliedBaseVersions: this.appliedBaseVersions,
      inheritedEntries: this.inheritance?.state === "inherited" ? (this.inheritance.entries ?? 0) : 0,
    };
  }

  // ---- clone with context (clone.ts) ----

  private cloneChecks(): Promise<CloneChecks> {
    return Promise.all([this.deps.verifier(), this.deps.resolver()]).then(([verifier, resolver]) => ({
      verifier,
      resolver,
      seed: this.deps.seed,
    }));
  }

  private async nonces(): Promise<SpentNonces> {
    return (this.spentNonces ??= await SpentNonces.open(this.ws));
  }

  /**
   * The parent's side: checks the owner's signature and the child (clone.ts)
   * before it reads its memory, spends the signature's nonce, summarizes the
   * kinds that carry under the directive (the owner's, or the template's
   * default), and sends the summary in a new group of just the two of them.
   * Logs sizes, never content.
   */
  cloneSummary(
    req: CloneSummaryRequest,
    signal?: AbortSignal,
  ): Promise<{ entries: number; bytes: number; via: string }> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const config = this.config;
      const group = this.group;
      if (!config || !group || this.state !== InstanceState.CLAIMED) {
        throw failedPrecondition(`instance ${this.id} is not in a conversation: it has nothing to pass on`);
      }
      const { auth, carry } = await checkCloneRequest(
        await this.cloneChecks(),
        { instanceId: this.id, inboxId: this.inboxId, ownerId: config.ownerId },
        req,
      );
      const sig = auth.signature!;
      if (!(await (await this.nonces()).spend(sig.nonce, Number(sig.issuedAt) + 2 * CLONE_SIGNATURE_MAX_AGE_SECONDS))) {
        throw nonceUsed("authorization.signature.nonce");
      }
      // What was said just before the clone is learned before it is summarized.
      await withTimeout(this.turns.idle(), 10_000);
      const directive = auth.contextPrompt || this.runningContent()?.cloneDirective || "";
      const input = {
        model: config.model,
        directive,
        carry,
        // Feedback is tied to messages of this conversation: it stays here.
        entries: this.memory!.entries.filter((e) => carry.includes(e.kind) && !e.feedback),
        // Lines that carry a kind the owner did not choose stay out of the model's sight.
        recent: (await this.history(group)).filter((h) => !carriesOtherKind(h.text, carry, this.memory!)),
      };
      let via: "llm" | "offline" = this.deps.llm.kind === "openai" ? "llm" : "offline";
      let entries;
      try {
        entries = await this.deps.llm.summarize(input, signal);
      } catch (err) {
        this.log.warn("the model could not summarize for a clone; the offline selection goes instead", { err });
        via = "offline";
        entries = await new OfflineProvider().summarize(input);
      }
      const summary = buildSummary(auth, directive, entries, via);
      const encoded = cloneSummaryCodec.encode(summary) as { content: Uint8Array };
      const pair = await this.client!.conversations.createGroup([req.childInboxId]);
      await pair.send(encoded as never);
      this.log.info("clone summary sent", {
        childInstanceId: req.childInstanceId,
        childInboxId: req.childInboxId,
        entries: summary.entries.length,
        bytes: encoded.content.byteLength,
        carry,
        via,
      });
      return { entries: summary.entries.length, bytes: encoded.content.byteLength, via };
    });
  }

  /**
   * The child's side: while it has a parent and no summary yet, it listens
   * for one on every conversation (a stream of all messages, plus a sweep of
   * what came before), until SUMMARY_WAIT_MS after it was configured.
   */
  private async awaitSummary(): Promise<void> {
    const config = this.config;
    if (!config?.parent || !this.convo || this.stopped || this.summaryStream) return;
    if (this.inheritance && this.inheritance.state !== "waiting") return;
    const left = Date.parse(config.configuredAt) + SUMMARY_WAIT_MS - Date.now();
    if (left <= 0) {
      await this.setInheritance({
        state: "timed_out",
        reason: "no summary came from the parent in time",
        at: new Date().toISOString(),
      });
      return;
    }
    if (!this.inheritance) await this.setInheritance({ state: "waiting", at: new Date().toISOString() });
    const stream = await this.client!.conversations.streamAllMessages({
      retryDelay: this.deps.streamRetryMs ?? 2_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      onError: (err) => this.log.warn("clone summary stream error", { err }),
      onRestart: () => void this.sweepForSummary(),
    });
    this.summaryStream = stream;
    this.summaryTimer = setTimeout(() => {
      void this.turns.run(async () => {
        if (this.inheritance?.state !== "waiting") return;
        await this.setInheritance({
          state: "timed_out",
          reason: "no summary came from the parent in time",
          at: new Date().toISOString(),
        });
        await this.endSummaryStream();
      });
    }, left);
    this.summaryTimer.unref();
    void (async () => {
      try {
        for await (const m of stream) if (m && isCloneSummary(m)) this.offerSummary(m);
      } catch (err) {
        if (this.summaryStream === stream) this.log.warn("clone summary stream ended", { err });
      }
    })();
    await this.sweepForSummary();
  }

  /** Summaries that came while it was not streaming (before the stream began, a restart). */
  private async sweepForSummary(): Promise<void> {
    const client = this.client;
    const parent = this.config?.parent;
    if (!client || !parent || this.inheritance?.state !== "waiting") return;
    try {
      await client.conversations.sync();
      for (const g of client.conversations.listGroups()) {
        if (g.id === this.convo?.conversationId) continue;
        await g.sync();
        for (const m of await g.messages({ limit: 10 })) if (isCloneSummary(m)) this.offerSummary(m);
      }
    } catch (err) {
      this.log.warn("looking for a clone summary failed", { err });
    }
  }

  /** Between turns, so that the next turn answers with what it inherited. */
  private offerSummary(m: AgentMessage): void {
    void this.turns
      .run(() => this.takeSummary(m))
      .catch((err: unknown) => this.log.error("taking in a clone summary failed", { err }));
  }

  /** One summary only, and only the one clone.ts accepts; anything else is ignored and logged (never its content). */
  private async takeSummary(m: AgentMessage): Promise<void> {
    const config = this.config;
    const convo = this.convo;
    if (!config?.parent || !convo || this.inheritance?.state !== "waiting" || m.conversationId === convo.conversationId)
      return;
    const group = (await this.client!.conversations.getConversationById(m.conversationId)) as AgentGroup | undefined;
    const members = group ? await group.members() : [];
    let entries;
    try {
      entries = await checkSummary(
        await this.cloneChecks(),
        { ownerId: config.ownerId, parent: config.parent, inviteHash: convo.inviteHash ?? "" },
        { senderInboxId: m.senderInboxId, memberCount: members.length, summary: m.content as CloneSummary },
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn("a clone summary was refused", {
        senderInboxId: m.senderInboxId,
        conversationId: m.conversationId,
        reason,
      });
      // From the parent itself: it will not send another; the owner sees why.
      if (m.senderInboxId === config.parent.inboxId) {
        await this.setInheritance({ state: "refused", reason, at: new Date().toISOString() });
        await this.endSummaryStream();
      }
      return;
    }
    const added = this.memory!.add(entries);
    await this.ws.writeJson(FILES.memory, this.memory!.toFile());
    await this.setInheritance({ state: "inherited", entries: added.length, at: new Date().toISOString() });
    await this.endSummaryStream();
    const kinds: Record<string, number> = {};
    for (const a of added) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
    this.log.info("clone summary taken in", { parentInstanceId: config.parent.instanceId, inherited: kinds });
  }

  private async setInheritance(file: InheritanceFile): Promise<void> {
    await this.ws.writeJson(FILES.inheritance, file);
    this.inheritance = file;
  }

  private async endSummaryStream(): Promise<void> {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    const s = this.summaryStream;
    this.summaryStream = undefined;
    if (s) await Promise.resolve(s.end()).catch(() => undefined);
  }

  /** A clone's inheritance (tests, the host's listing). */
  get inheritanceSnapshot(): InheritanceFile | undefined {
    return this.inheritance;
  }

  /**
   * A new owner: the current owner's TransferAgent offer (up to
   * TRANSFER_OFFER_MAX_AGE_SECONDS old) and the new owner's AcceptAgent, both
   * checked here against the network, each nonce once. From then on the new
   * owner's signatures clone it. A retry after success is a no-op.
   */
  transferOwner(req: TransferOwnerRequest): Promise<void> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const config = this.config;
      if (!config) throw failedPrecondition(`instance ${this.id} has no owner: it is not claimed`);
      if (!INBOX_ID_PATTERN.test(req.newOwnerId))
        throw invalidArgument("new_owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
      if (config.ownerId === req.newOwnerId && req.ownerId !== req.newOwnerId) return;
      if (req.ownerId !== config.ownerId) throw permissionDenied("owner_id: not this agent's owner");
      if (req.newOwnerId === config.ownerId) throw invalidArgument("new_owner_id", "is already the owner");
      const verifier = await this.deps.verifier();
      const offered = Number(req.offer?.issuedAt ?? 0n);
      if (offered < Date.now() / 1000 - TRANSFER_OFFER_MAX_AGE_SECONDS)
        throw unauthenticated("offer.issued_at: the offer is older than 7 days; offer again");
      await verifier.verify(
        "TransferAgent",
        { inboxId: config.ownerId, instanceId: this.id, newOwnerId: req.newOwnerId },
        req.offer,
        "offer",
        { anyAge: true },
      );
      await verifier.verify(
        "AcceptAgent",
        { inboxId: req.newOwnerId, instanceId: this.id, fromOwnerId: config.ownerId },
        req.acceptance,
        "acceptance",
      );
      const nonces = await this.nonces();
      if (!(await nonces.spend(req.offer!.nonce, offered + 2 * TRANSFER_OFFER_MAX_AGE_SECONDS)))
        throw nonceUsed("offer.nonce");
      if (!(await nonces.spend(req.acceptance!.nonce, Date.now() / 1000 + 2 * CLONE_SIGNATURE_MAX_AGE_SECONDS)))
        throw nonceUsed("acceptance.nonce");
      const next = { ...config, ownerId: req.newOwnerId };
      await this.ws.writeJson(FILES.config, next);
      this.config = next;
      this.log.info("owner changed", { fromOwnerId: config.ownerId, ownerId: req.newOwnerId });
    });
  }

  /** Forgets the claim: leaves the conversation, wipes config, credentials, memory; back to IDLE. */
  release(): Promise<void> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const group = this.group;
      await this.endStream();
      await this.endSummaryStream();
      this.group = undefined;
      await withTimeout(this.turns.idle(), 10_000);
      if (group) {
        try {
          await group.requestRemoval();
        } catch (err) {
          this.log.warn("could not ask to leave the conversation", { conversationId: group.id, err });
        }
      }
      await this.toolbox.release();
      for (const f of [
        FILES.config,
        FILES.credentials,
        FILES.memory,
        FILES.state,
        FILES.identity,
        FILES.inheritance,
        FILES.sharing,
        FILES.patterns,
      ])
        await this.ws.remove(f);
      this.config = undefined;
      this.patternSharing = { ...NO_SHARING };
      this.inheritance = undefined;
      this.memory = undefined;
      this.convo = undefined;
      this.group = undefined;
      this.handled.clear();
      // A join request the creator has not answered yet outlives the claim: leave its conversation when it does.
      await this.invites.release();
      this.state = InstanceState.IDLE;
      this.log.info("instance released", {
        leftConversation: group?.id,
        abandonedInvites: this.invites.abandoned.length,
      });
    });
  }

  /** Stops answering and closes its client; the workspace stays (or is deleted with destroy). */
  async stop(opts: { destroy?: boolean; markStopped?: boolean } = {}): Promise<void> {
    this.stopped = true;
    await this.ready.catch(() => undefined);
    if (this.convo) this.deps.dormancy?.watch.unwatch(this.convo.conversationId);
    this.toolbox.close();
    await this.invites.stop();
    await this.endStream();
    await this.endSummaryStream();
    await withTimeout(this.turns.idle(), 5_000);
    const client = this.client;
    this.client = undefined;
    this.group = undefined;
    this.state = InstanceState.DEAD;
    // A call in progress (a Release of a removed agent) finishes before its workspace goes.
    await withTimeout(this.ops.idle(), 15_000);
    await this.closeClient(client);
    if (opts.destroy) {
      await this.ws.destroy();
    } else if (opts.markStopped) {
      const record = await this.ws.readJson<InstanceRecord>(FILES.instance);
      if (record) await this.ws.writeJson(FILES.instance, { ...record, stopped: true });
    }
  }

  /**
   * A client only dropped keeps libxmtp's workers, database pool (three
   * threads) and open files for the life of the process, about 2.5 MB each
   * (bench/xmtp-clients.ts): close it, after the call in progress and before
   * its database file may be deleted.
   */
  private async closeClient(client: AgentClient | undefined): Promise<void> {
    if (!client) return;
    await client.close().catch((err: unknown) => this.log.warn("could not close the XMTP client", { err }));
  }

  // ---- the conversation ----

  private async listen(group: AgentGroup): Promise<void> {
    if (this.stopped) return;
    this.group = group;
    const stream = await group.stream({
      retryDelay: this.deps.streamRetryMs ?? 2_000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      onError: (err) => this.log.warn("conversation stream error", { err }),
      // A restarted stream syncs, then subscribes from there: what came in
      // meanwhile is in the local database, not in the stream. Read it.
      onRestart: () => {
        this.log.info("conversation stream restarted");
        void this.catchUp(group).catch((err: unknown) => this.log.warn("catching up failed", { err }));
      },
    });
    this.stream = stream;
    this.state = InstanceState.CLAIMED;
    this.deps.patterns?.wake(this);
    this.toolbox.watchMail();
    void (async () => {
      try {
        for await (const m of stream) {
          if (m) this.enqueue(flattenReply(m), true);
        }
      } catch (err) {
        if (!this.stopped) this.log.error("conversation stream ended", { err });
      }
    })();
    await this.catchUp(group);
  }

  /**
   * What arrived while it was not listening (a host restart, the moment
   * between the join and the stream, a stream reconnect): learn from all of
   * it, answer only the newest message from a person or principal.
   */
  private async catchUp(group: AgentGroup): Promise<void> {
    if (this.group !== group || this.stopped) return;
    const since = BigInt(this.convo?.lastSeenNs ?? "0");
    const sent = (await group.messages({ sentAfterNs: since, limit: 100, direction: DESCENDING as never })).reverse();
    const recent = await group.messages({ limit: 100, direction: DESCENDING as never });
    const missed = withReactionsSince(sent, recent, since)
      .map(flattenReply)
      .filter((m) => !this.handled.has(m.id));
    const lastToAnswer = [...missed].reverse().find((m) => isText(m) && this.fromPrincipalOrHuman(m.senderInboxId));
    for (const m of missed) this.enqueue(m, m === lastToAnswer);
  }

  private async endStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s) await Promise.resolve(s.end()).catch(() => undefined);
  }

  /**
   * A person (no agent profile), or one of the instance's principals even if
   * their client is an agent: the conversation's creator (who let it in) and
   * its owner (who claimed it).
   */
  private fromPrincipalOrHuman(inboxId: string): boolean {
    if (inboxId === this.inboxId) return false;
    if (inboxId === this.convo?.creatorInboxId || inboxId === this.config?.ownerId) return true;
    return !this.convo?.agents.includes(inboxId);
  }

  /**
   * Who it answers, so that agents in one conversation never talk in circles:
   * people and principals always; another agent only when it names this
   * instance, and only while fewer than MAX_AGENT_CHAIN messages in a row came
   * from agents (itself included) since a person or principal last spoke.
   * It learns only from people and principals.
   */
  private decide(m: AgentMessage): "answer" | "skip" | "ignore" {
    if (!isText(m) || m.senderInboxId === this.inboxId) {
      if (isText(m)) this.agentChain++;
      return "ignore";
    }
    if (this.fromPrincipalOrHuman(m.senderInboxId)) {
      this.agentChain = 0;
      return "answer";
    }
    this.agentChain++;
    const named = new RegExp(`\\b${escapeRegExp(this.config?.agentName ?? "")}\\b`, "i").test(m.content);
    return named && this.agentChain <= MAX_AGENT_CHAIN ? "answer" : "skip";
  }

  /** At most MAX_ANSWERS_PER_MINUTE answers in any minute: a circuit breaker for what the rules above miss. */
  private withinRate(): boolean {
    const now = Date.now();
    while (this.answeredAt.length > 0 && this.answeredAt[0]! < now - 60_000) this.answeredAt.shift();
    if (this.answeredAt.length >= MAX_ANSWERS_PER_MINUTE) return false;
    this.answeredAt.push(now);
    return true;
  }

  private enqueue(m: AgentMessage, answer: boolean): void {
    if (this.handled.has(m.id)) return;
    this.lastActive = Date.now();
    // The owner's answer to a waiting tool call goes to it at once: the turn that asked is waiting for it.
    if (answer && isText(m) && m.senderInboxId === this.config?.ownerId && this.toolbox.answer(m.content)) {
      this.handled.add(m.id);
      return;
    }
    this.handled.add(m.id);
    if (this.handled.size > 1000) this.handled.delete(this.handled.values().next().value!);
    void this.turns
      .run(() => this.handle(m, answer))
      .catch((err: unknown) => this.log.error("handling a message failed", { messageId: m.id, err }));
  }

  private async handle(m: AgentMessage, answer: boolean): Promise<void> {
    const convo = this.convo;
    const group = this.group;
    if (!convo || !group || this.stopped) return;
    let changed = false;
    for (const p of profilesIn(m)) {
      if (p.name && convo.names[p.inboxId] !== p.name) {
        convo.names[p.inboxId] = p.name;
        changed = true;
      }
      if (p.agent && !convo.agents.includes(p.inboxId)) {
        convo.agents.push(p.inboxId);
        changed = true;
      }
    }
    const decision = this.decide(m);
    if (decision === "answer") {
      const text = m as TextMessage;
      const learns = this.fromPrincipalOrHuman(m.senderInboxId);
      // A correction of one of its answers is answered, and learned as one.
      const correcting = learns ? await this.feedback.correctionTarget(group, text) : undefined;
      if (answer) {
        if (this.withinRate()) await this.turn(group, text, undefined, correcting);
        else this.log.warn("answer skipped: more than the per-minute limit", { limit: MAX_ANSWERS_PER_MINUTE });
      }
      if (learns) await this.learn(text, correcting);
    } else if (isReaction(m) && this.fromPrincipalOrHuman(m.senderInboxId)) {
      // Not a turn; a 👍 or 👎 on its own message is learned.
      if (this.feedback.onReaction(group, this.memory!, m))
        await this.ws.writeJson(FILES.memory, this.memory!.toFile());
    } else if (decision === "skip") {
      this.log.debug("message from another agent not answered", {
        senderInboxId: m.senderInboxId,
        agentChain: this.agentChain,
      });
    }
    if (m.sentAtNs > BigInt(convo.lastSeenNs)) {
      convo.lastSeenNs = m.sentAtNs.toString();
      changed = true;
    }
    if (changed && this.convo === convo) await this.ws.writeJson(FILES.state, convo);
  }

  /**
   * One turn: IDENTITY.md (read now) + memory as system, the recent
   * conversation, one reply; the functions of its tools, each call through
   * the trust gate. `inboundText`: the turn answers a text to its number;
   * `correcting`: `m` corrects that answer of its own.
   */
  private async turn(
    group: AgentGroup,
    m?: AgentMessage & { content: string },
    inboundText?: InboundTextTurn,
    correcting?: AnswerRef,
  ): Promise<void> {
    const config = this.config!;
    const started = performance.now();
    const identity = (await this.ws.readText(FILES.identity)) ?? "";
    const history = await this.history(group, m);
    const functions = this.toolbox.functions();
    let reply: string;
    try {
      reply = await this.deps.llm.reply({
        model: config.model,
        agentName: config.agentName,
        identity,
        context: this.context(config),
        memory: this.memory!,
        history,
        ...(functions.length > 0 ? { functions, callTool: (name, args) => this.toolbox.call(name, args) } : {}),
        ...(inboundText ? { inboundText } : {}),
        ...(correcting ? { correcting: correcting.text } : {}),
      });
    } catch (err) {
      this.log.warn("the model did not answer", { err, model: config.model });
      reply = "Sorry, I could not reach my language model just now. Please try again in a moment.";
    }
    if (!reply) return;
    await group.sendText(reply);
    this.lastActive = Date.now();
    this.log.info("answered", {
      conversationId: group.id,
      model: config.model,
      chars: reply.length,
      ms: Math.round(performance.now() - started),
    });
  }

  /** The recent conversation, oldest first; up to `m` (and ending with it) when given. */
  private async history(group: AgentGroup, m?: AgentMessage & { content: string }): Promise<HistoryLine[]> {
    const recent = (await group.messages({ limit: this.deps.historyLimit ?? 20, direction: DESCENDING as never }))
      .reverse()
      .map(flattenReply);
    const history: HistoryLine[] = [];
    for (const r of recent) {
      if (!isText(r) || (m && r.sentAtNs > m.sentAtNs)) continue;
      history.push(
        r.senderInboxId === this.inboxId
          ? { role: "assistant", text: r.content }
          : { role: "user", text: r.content, sender: this.senderName(r.senderInboxId) },
      );
    }
    if (m && !recent.some((r) => r.id === m.id))
      history.push({ role: "user", text: m.content, sender: this.senderName(m.senderInboxId) });
    return history;
  }

  /** What `m` teaches; a correction (feedback.ts) also leaves its entry and takes out the fact it supersedes. */
  private async learn(m: AgentMessage & { content: string }, correcting?: AnswerRef): Promise<void> {
    const memory = this.memory!;
    let found: NewEntry[] = [];
    try {
      found = await this.deps.llm.learn({
        model: this.config!.model,
        memory,
        message: m.content,
        from: m.senderInboxId,
        ...(correcting ? { correcting: correcting.text } : {}),
      });
    } catch (err) {
      this.log.warn("learning from a message failed", { err });
      if (!correcting) return;
    }
    const added = memory.add(found);
    const corrected = correcting && recordCorrection(memory, correcting, m.content, m.senderInboxId, found);
    if (corrected) this.log.info("correction learned", { messageId: correcting.messageId, ...corrected });
    if (added.length === 0 && !corrected) return;
    await this.ws.writeJson(FILES.memory, memory.toFile());
    if (added.length === 0) return;
    const kinds: Record<string, number> = {};
    for (const a of added) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
    this.log.info("learned", { added: kinds, total: memory.entries.length });
    this.deps.patterns?.learned(this, added);
  }

  private senderName(inboxId: string): string {
    return this.convo?.names[inboxId] ?? `member ${shortInbox(inboxId)}`;
  }

  /** System sections besides IDENTITY.md and memory: where it is, its tools (handles only), its owner's settings. */
  private context(config: InstanceConfig): string {
    const lines = [
      "## Where you are",
      "",
      `You are ${config.agentName}, an agent in a Convos group conversation. Messages from members are prefixed with their name. Answer the latest message.`,
    ];
    if (config.tools.length > 0) {
      lines.push("", "## Your tools", "");
      for (const t of config.tools) lines.push(`- ${t.toolId}: ${t.handle || "(provisioned)"}`);
      const level = this.toolbox.level;
      lines.push(
        "",
        `Your trust level is ${describeLevel(level)}. ` +
          (level === TrustLevel.OBSERVER
            ? "You use no tools: say so when asked to."
            : "Call your functions to act; the pool checks each call against your level and asks your owner when it must. Never claim you did something a function did not confirm."),
      );
    }
    const user = Object.entries(config.userConfig);
    if (user.length > 0) {
      lines.push("", "## Settings from your owner", "");
      for (const [k, v] of user) lines.push(`- ${k}: ${v}`);
    }
    return lines.join("\n");
  }

  // ---- tools, trust levels and the activity log (tools/toolbox.ts) ----

  /** The template's highest level, as the creator signed it. */
  private templateMax(): TrustLevel {
    return this.runningContent()?.maxTrustLevel ?? TrustLevel.UNSPECIFIED;
  }

  /** Its level, log and tools, from the workspace and its credentials (configure, restart, update). */
  private async loadTools(config: InstanceConfig): Promise<void> {
    await this.toolbox.load(config, (await this.credentials()) ?? {}, this.templateMax());
  }

  /** The owner's SetTrustLevel, checked here: their signature, once, in time, within the template's highest level. */
  setTrustLevel(req: InstanceServiceSetTrustLevelRequest): Promise<TrustFile> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const config = this.config;
      if (!config) throw failedPrecondition(`instance ${this.id} has no owner: it is not claimed`);
      if (req.ownerId !== config.ownerId) throw permissionDenied("owner_id: not this agent's owner");
      const want = checkLevelRequest(req.trustLevel, req.dailySpendLimitWei, this.templateMax());
      await checkOwnerSignature(
        await this.ownerCheck(config),
        req.ownerId,
        "SetTrustLevel",
        { trustLevel: want.level, dailySpendLimitWei: BigInt(want.dailySpendLimitWei) },
        req.signature,
      );
      return this.toolbox.setLevel(want.level, want.dailySpendLimitWei, "set by the owner", true);
    });
  }

  /** What checkOwnerSignature needs of it: its owner, the host's verifier, its spent nonces. */
  private async ownerCheck(config: InstanceConfig): Promise<OwnerCheck> {
    const nonces = await this.nonces();
    return {
      instanceId: this.id,
      ownerId: config.ownerId,
      verifier: await this.deps.verifier(),
      spendNonce: (nonce) => nonces.spend(nonce, Date.now() / 1000 + 2 * CLONE_SIGNATURE_MAX_AGE_SECONDS),
    };
  }

  /**
   * An owner's memory call (memory-service.ts checks their signature): one at
   * a time with its other calls, and between turns, so no turn learns while
   * an import merges or a forget deletes.
   */
  memoryCall<T>(job: (access: MemoryAccess) => Promise<T>): Promise<T> {
    return this.ops.run(async () => {
      await this.ensureReady();
      const config = this.config;
      const memory = this.memory;
      if (!config || !memory) throw failedPrecondition(`instance ${this.id} has no owner: it is not claimed`);
      const owner = await this.ownerCheck(config);
      return this.turns.run(() =>
        job({
          ...owner,
          inboxId: this.inboxId,
          agentName: config.agentName,
          model: config.model,
          template: {
            templateId: config.templateId,
            creatorId: (config.template as { creatorId?: string }).creatorId ?? "",
            version: config.templateVersion,
            baseVersions: this.appliedBaseVersions.map(String),
          },
          userConfig: config.userConfig,
          wallet: this.wallet!,
          memory,
          saveMemory: () => this.ws.writeJson(FILES.memory, memory.toFile()),
          toolCredentials: async () => (await this.credentials()) ?? {},
          history: async () => (this.group ? this.history(this.group) : []),
          participants: async () => (this.group ? (await this.group.members()).length : 0),
          setSharing: async (sharing) => {
            await writeSharing(this.ws, sharing);
            this.patternSharing = sharing;
            this.deps.patterns?.wake(this);
          },
          llm: this.deps.llm,
          log: this.log,
        }),
      );
    });
  }

  /** Its activity log, newest first. */
  async listActivity(req: ListActivityRequest): Promise<{ entries: ActivityEntry[]; nextPageToken: string }> {
    if (this.state === InstanceState.DORMANT) await this.ops.run(() => this.ensureReady());
    await this.ensureReady();
    return this.toolbox.listActivity(req);
  }

  get trustSnapshot(): TrustFile | undefined {
    return this.toolbox.snapshot;
  }

  /** A text to its number (the host's SMS webhook): relayed to the conversation, and answered by text when its level allows. */
  inboundText(t: InboundTextTurn): void {
    if (this.state === InstanceState.DORMANT) {
      void this.ops
        .run(() => this.awaken("a text"))
        .then(() => this.inboundText(t))
        .catch((err: unknown) => this.log.error("waking for a text failed", { err }));
      return;
    }
    void this.turns
      .run(async () => {
        const group = this.group;
        if (!group || !this.config || this.stopped) return;
        this.log.info("text received", { chars: t.text.length });
        await this.turn(group, undefined, t);
      })
      .catch((err: unknown) => this.log.error("handling a text failed", { err }));
  }

  // ---- for tests and the host ----

  /** The tools' secrets, decrypted (what a tool adapter would use). */
  async credentials(): Promise<InstanceCredentials | undefined> {
    if (!this.wallet) return undefined;
    return this.ws.readSecrets<InstanceCredentials>(this.wallet.credentialsKey());
  }

  get configSnapshot(): InstanceConfig | undefined {
    return this.config;
  }

  get memorySnapshot(): Memory | undefined {
    return this.memory;
  }

  /**
   * Changes its memory between turns (the pattern exchange's adoptions): on
   * the memory of the claim as it is now, never on a later one's after a
   * Release; memory.json is written when `change` returns true.
   */
  changeMemory(change: (memory: Memory) => Promise<boolean>): Promise<boolean> {
    const memory = this.memory;
    return this.turns.run(async () => {
      if (!memory || this.memory !== memory || this.stopped) return false;
      if (await change(memory)) await this.ws.writeJson(FILES.memory, memory.toFile());
      return true;
    });
  }

  /** Resolves when every message queued so far has been handled. */
  settled(): Promise<void> {
    return this.turns.idle();
  }

  /** The signed template it was configured with. */
  signedTemplate(): SignedTemplate | undefined {
    return this.config ? fromJson(SignedTemplateSchema, this.config.template) : undefined;
  }

  /** What it runs on: its signed template with its bases applied (checked when they came). */
  runningContent(): TemplateContent | undefined {
    const t = this.signedTemplate();
    if (!t?.content) return undefined;
    return resolveContent([
      t.content,
      ...(this.config?.bases ?? []).map((b) => fromJson(SignedTemplateSchema, b).content!),
    ]);
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => undefined), sleep(ms, undefined, { ref: false })]);
}
