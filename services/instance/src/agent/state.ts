// What one agent holds, shared by the rooms of agent/ (each a collaborator of
// one job: lifecycle.ts, conversation.ts, inheritance.ts, owner.ts, claim.ts,
// dormancy.ts) and read by its facade (instance.ts): its fields, its two
// queues, the helpers those fields answer, and how its XMTP client opens and
// closes.
//
// Two queues keep it consistent: `ops` runs the calls that change what it is
// (start, Configure, Release, a wake) one at a time; `turns` runs what
// touches its conversation and memory (a message handled, a summary taken
// in, an owner's memory call) one at a time, so no turn learns while an
// import merges or a Release wipes.

import { setTimeout as sleep } from "node:timers/promises";
import { fromJson } from "@bufbuild/protobuf";
import { type Logger, resolveContent, resolveParticipation, type ResolvedParticipation } from "@convos-pool/kit";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  SignedTemplateSchema,
  type SignedTemplate,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { InviteGuard } from "./invites.js";
import { SpentNonces } from "../platform/nonces.js";
import { FeedbackReader } from "../memory/feedback.js";
import type { LlmProvider } from "../model/turn.js";
import { Memory, type MemoryFile, type SealedMemory } from "../memory/store.js";
import type { PatternAgent } from "../memory/patterns.js";
import { NO_SHARING, readSharing, type PatternSharing } from "../memory/sharing.js";
import { AgentToolbox } from "../tools/toolbox.js";
import { appliedReleaseKey } from "./update.js";
import type { InstanceWallet } from "../platform/keys.js";
import { FILES, Workspace } from "../platform/workspace.js";
import { createAgentClient, type AgentClient, type AgentGroup } from "../platform/xmtp.js";
import { OutsideWords } from "./outside-words.js";
import { Voice } from "./voice.js";
import type {
  ConversationState,
  InheritanceFile,
  InstanceConfig,
  InstanceCredentials,
  InstanceDeps,
  ParticipationFile,
} from "./types.js";

/** Runs one async job at a time, in order. */
export class Serial {
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

/** Waits for `p` at most `ms`, its failure ignored: a queue that must drain, but not forever. */
export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p.catch(() => undefined), sleep(ms, undefined, { ref: false })]);
}

/** SortDirection.Descending (a const enum of the bindings). */
export const DESCENDING = 1 as never;

export class AgentState {
  state: InstanceState = InstanceState.STARTING;
  inboxId = "";
  /** Why it crashed, for logs and ListInstances callers. */
  failure: string | undefined;
  /** StopInstance or the host closing: nothing new starts. */
  stopped = false;
  /** When it last heard or did anything (Date.now()): what dormancy measures quiet by. */
  lastActive = Date.now();
  wallet: InstanceWallet | undefined;
  client: AgentClient | undefined;
  config: InstanceConfig | undefined;
  memory: Memory | undefined;
  convo: ConversationState | undefined;
  group: AgentGroup | undefined;
  /** A clone: where its parent's summary stands. */
  inheritance: InheritanceFile | undefined;
  /** The owner's pattern-pool choice (memory/sharing.ts); both off until they set it. */
  patternSharing: PatternSharing = { ...NO_SHARING };
  /** When it speaks (policy.ts `participates`); by the conversation's size until the owner sets it. */
  participation: ResolvedParticipation = resolveParticipation(undefined);
  /** Nonces of signatures it accepted (clone, transfer, owner calls), read on first use. */
  spentNonces: SpentNonces | undefined;
  readonly ops = new Serial();
  readonly turns = new Serial();
  readonly ws: Workspace;
  readonly log: Logger;
  /** Its trust level, activity log and tools (tools/toolbox.ts). */
  readonly toolbox: AgentToolbox;
  /** How its words go out: replies, markdown, thinking and typing, payments (voice.ts). */
  readonly voice: Voice;
  /** Reactions and corrections on its own messages (memory/feedback.ts). */
  readonly feedback: FeedbackReader;
  /** Keeps it out of the conversations of invites it was released from. */
  readonly invites: InviteGuard;
  /** Its messages that carry words from outside the conversation (outside-words.ts). */
  readonly outsideWords: OutsideWords;

  /** `self`: the agent as the host's pattern exchange knows it. */
  constructor(
    readonly deps: InstanceDeps,
    readonly id: string,
    readonly walletIndex: number,
    readonly self: PatternAgent,
  ) {
    this.ws = new Workspace(deps.dataDir, id);
    this.log = deps.log.child({ instanceId: id });
    this.invites = new InviteGuard(this.ws, this.log, {
      current: () => this.convo?.conversationId,
      retryMs: deps.streamRetryMs ?? 2_000,
    });
    this.feedback = new FeedbackReader({
      inboxId: () => this.inboxId,
      ownerId: () => this.config?.ownerId,
      lookup: (id) => this.client?.conversations.getMessageById(id),
      log: this.log,
    });
    this.voice = new Voice({ group: () => (this.stopped ? undefined : this.group), log: this.log });
    this.outsideWords = new OutsideWords(this.ws);
    this.toolbox = new AgentToolbox({
      ws: this.ws,
      log: this.log,
      ...(deps.tools ? { env: deps.tools } : {}),
      ...(deps.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: deps.approvalTimeoutMs } : {}),
      ...(deps.mailPollMs !== undefined ? { mailPollMs: deps.mailPollMs } : {}),
      say: async (text, outside) => {
        const id = await this.voice.say(text);
        if (outside) await this.outsideWords.add(id);
        return id;
      },
      paid: (payment) => this.voice.payment(payment),
      ownerName: () => (this.config && this.convo?.names[this.config.ownerId]) || "my owner",
      betweenTurns: (job) => this.turns.run(job),
    });
  }

  /** The content versions of its template's bases it runs on, its base first. */
  get appliedBaseVersions(): bigint[] {
    return this.config ? appliedReleaseKey(this.config).slice(1) : [];
  }

  /** What thinks for it: its runtime's provider (OpenClaw's gateway), else the host's model. */
  get llm(): LlmProvider {
    return this.deps.runtime?.provider(this) ?? this.deps.llm;
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

  /** The template's highest level, as the creator signed it. */
  templateMax(): TrustLevel {
    return this.runningContent()?.maxTrustLevel ?? TrustLevel.UNSPECIFIED;
  }

  /** The tools' secrets, decrypted (what a tool adapter would use). */
  async credentials(): Promise<InstanceCredentials | undefined> {
    if (!this.wallet) return undefined;
    return this.ws.readSecrets<InstanceCredentials>(this.wallet.credentialsKey());
  }

  async nonces(): Promise<SpentNonces> {
    return (this.spentNonces ??= await SpentNonces.open(this.ws));
  }

  /** Its level, log and tools, from the workspace and its credentials (configure, restart, update). */
  async loadTools(config: InstanceConfig): Promise<void> {
    await this.toolbox.load(config, (await this.credentials()) ?? {}, this.templateMax());
  }

  /**
   * Writes its memory: memory.json without credentials, the credentials
   * entries sealed in memory-credentials.json (removed when there are none).
   * `memory` is the one to write (a claim's, which may have been replaced).
   */
  async saveMemory(memory: Memory | undefined = this.memory): Promise<void> {
    if (!memory) return;
    const { plain, sealed } = memory.diskFiles();
    if (sealed.entries.length > 0)
      await this.ws.writeSealed(
        FILES.memoryCredentials,
        "memory-credentials",
        this.wallet!.memoryCredentialsKey(),
        sealed,
      );
    await this.ws.writeJson(FILES.memory, plain);
    if (sealed.entries.length === 0) await this.ws.remove(FILES.memoryCredentials);
  }

  /** Its memory from the workspace; credentials found in memory.json (written before they were sealed) are sealed now. */
  private async loadMemory(ownerId: string): Promise<Memory> {
    const plain = await this.ws.readJson<MemoryFile>(FILES.memory);
    const sealed = this.wallet
      ? await this.ws.readSealed<SealedMemory>(
          FILES.memoryCredentials,
          "memory-credentials",
          this.wallet.memoryCredentialsKey(),
        )
      : undefined;
    const memory = Memory.from(plain, ownerId, sealed?.entries);
    if (plain?.entries.some((e) => e.kind === "credentials")) await this.saveMemory(memory);
    return memory;
  }

  /** What a configured agent keeps in its workspace beside its conversation: memory, inheritance, sharing, tools. */
  async loadConfigured(config: InstanceConfig): Promise<void> {
    this.memory = await this.loadMemory(config.ownerId);
    this.inheritance = await this.ws.readJson<InheritanceFile>(FILES.inheritance);
    this.patternSharing = await readSharing(this.ws);
    this.participation = resolveParticipation(
      (await this.ws.readJson<ParticipationFile>(FILES.participation))?.participation,
    );
    await this.loadTools(config);
  }

  /** Its XMTP client, on the database in its workspace. */
  openClient(): Promise<AgentClient> {
    return createAgentClient(this.wallet!.account, {
      apiUrl: this.deps.xmtpApiUrl,
      dbPath: this.ws.xmtpDbPath,
      dbEncryptionKey: this.wallet!.xmtpDbKey(),
    });
  }

  /**
   * A client only dropped keeps libxmtp's workers, database pool (three
   * threads) and open files for the life of the process, about 2.5 MB each
   * (bench/xmtp-clients.ts): close it, after the call in progress and before
   * its database file may be deleted.
   */
  async closeClient(client: AgentClient | undefined): Promise<void> {
    if (!client) return;
    await client.close().catch((err: unknown) => this.log.warn("could not close the XMTP client", { err }));
  }

  /** Marks it crashed, with why. */
  crashed(err: unknown): void {
    this.state = InstanceState.CRASHED;
    this.failure = err instanceof Error ? err.message : String(err);
  }
}
