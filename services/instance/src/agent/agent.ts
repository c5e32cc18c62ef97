// One agent, as the rooms of agent/ share it: what it is made of, each piece
// of state with the one room that changes it, read by the others through
// getters:
//   life          its InstanceState, client, wallet, when last active (life.ts)
//   settings      config.json, participation.json, sharing.json (settings.ts)
//   memory        its memory and the two files it is kept in (agent-memory.ts)
//   conversation  its conversation, who is who there, how far it has read,
//                 its pace (conversation.ts)
//   inheritance   a clone's wait for its parent's summary (inheritance.ts)
//   toolbox       its trust level, permissions, tools and a waiting question
//                 (tools/toolbox.ts)
//   invites, outsideWords, voice, feedback: rooms of their own files or jobs
// and its two queues (serial.ts). The rooms that act on it (lifecycle.ts,
// dormancy.ts, claim.ts, owner.ts, profile.ts) take it whole; the
// conversation and the inheritance, built here, take what they name.

import type { Logger } from "@convos-pool/kit/server";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { InviteGuard } from "./invites.js";
import { SpentNonces } from "../platform/nonces.js";
import { FeedbackReader } from "../memory/feedback.js";
import type { LlmProvider } from "../model/turn.js";
import type { PatternAgent } from "../memory/patterns.js";
import { AgentToolbox } from "../tools/toolbox.js";
import { Workspace } from "../platform/workspace.js";
import { AgentMemory } from "./agent-memory.js";
import { Conversation } from "./conversation.js";
import { Inheritance } from "./inheritance.js";
import { AgentLife } from "./life.js";
import { OutsideWords } from "./outside-words.js";
import { Serial, Turns } from "./serial.js";
import { Settings } from "./settings.js";
import { AgentSignals } from "./signals.js";
import { Voice } from "./voice.js";
import { contactBook, OpenRequest, type ContactBook } from "./planning.js";
import type { ConversationState, InstanceConfig, InstanceCredentials, InstanceDeps, RuntimeAgent } from "./types.js";

export class Agent implements RuntimeAgent {
  /** Calls that change what it is, one at a time. */
  readonly ops = new Serial();
  /** What touches its conversation and memory, one at a time: the owner's first (turn-queue.ts). */
  readonly turns = new Turns();
  readonly ws: Workspace;
  readonly log: Logger;
  readonly life: AgentLife;
  readonly settings: Settings;
  readonly memory: AgentMemory;
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
  readonly conversation: Conversation;
  readonly inheritance: Inheritance;
  /** Its daily counts for the version it runs, counts only (signals.ts). */
  readonly signals: AgentSignals;
  /** An owner's request it did not carry out, open for the owner's yes (planning.ts). */
  readonly openRequest = new OpenRequest();
  /** Nonces of signatures it accepted (clone, transfer, owner calls), read on first use. */
  private spentNonces: SpentNonces | undefined;

  /** `self`: the agent as the host's pattern exchange knows it. */
  constructor(
    readonly deps: InstanceDeps,
    readonly id: string,
    readonly walletIndex: number,
    readonly self: PatternAgent,
  ) {
    this.ws = new Workspace(deps.dataDir, id, deps.onWorkspaceWrite?.(id));
    this.log = deps.log.child({ instanceId: id });
    this.life = new AgentLife({
      seed: deps.seed,
      walletIndex,
      xmtpApiUrl: deps.xmtpApiUrl,
      ws: this.ws,
      log: this.log,
    });
    this.settings = new Settings(this.ws);
    this.signals = new AgentSignals(this.ws, () => {
      const config = this.settings.config;
      return config && { templateId: config.templateId, version: config.templateVersion };
    });
    this.memory = new AgentMemory(this.ws, () => this.life.wallet);
    this.invites = new InviteGuard(this.ws, this.log, {
      current: () => this.conversation.current?.conversationId,
      retryMs: deps.streamRetryMs ?? 2_000,
    });
    this.feedback = new FeedbackReader({
      inboxId: () => this.life.inboxId,
      ownerId: () => this.settings.config?.ownerId,
      lookup: (id) => this.life.client?.conversations.getMessageById(id),
      reacted: (signal, by) => this.signals.count(signal === "up" ? "thumbsUp" : "thumbsDown", by),
      log: this.log,
    });
    this.voice = new Voice({
      group: () => (this.life.stopped ? undefined : this.conversation.group),
      log: this.log,
    });
    this.outsideWords = new OutsideWords(this.ws);
    this.toolbox = new AgentToolbox({
      ws: this.ws,
      log: this.log,
      ...(deps.tools ? { env: deps.tools } : {}),
      ...(deps.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: deps.approvalTimeoutMs } : {}),
      ...(deps.mailPollMs !== undefined ? { mailPollMs: deps.mailPollMs } : {}),
      addressBookKey: () => this.life.wallet?.addressBookKey(),
      say: async (text, outside, replyTo) => {
        const id = await (replyTo ? this.voice.replyTo(text, replyTo) : this.voice.say(text));
        if (outside) await this.outsideWords.add(id);
        return id;
      },
      buttons: (b) => this.voice.buttons(b),
      paid: (payment) => this.voice.payment(payment),
      ownerName: () => {
        const owner = this.settings.config?.ownerId;
        return (owner && this.conversation.names[owner]) || "my owner";
      },
      betweenTurns: (job) => this.turns.run(job),
      park: (answer) => this.turns.park(answer),
      signal: (s) => this.signals.count(s),
    });
    this.conversation = new Conversation(this);
    this.inheritance = new Inheritance(this);
  }

  // ---- what a runtime reads of it (types.ts RuntimeAgent) ----

  get config(): InstanceConfig | undefined {
    return this.settings.config;
  }

  get convo(): Readonly<ConversationState> | undefined {
    return this.conversation.current;
  }

  runningContent(): TemplateContent | undefined {
    return this.settings.runningContent();
  }

  // ----

  /** What thinks for it: its runtime's provider (OpenClaw's gateway), else the host's model. */
  get llm(): LlmProvider {
    return this.deps.runtime?.provider(this) ?? this.deps.llm;
  }

  /** The owner's address book. */
  contacts(): ContactBook | undefined {
    const book = this.toolbox.addressBook;
    return book && contactBook(book);
  }

  /** The tools' secrets, decrypted (what a tool adapter would use). */
  async credentials(): Promise<InstanceCredentials | undefined> {
    const wallet = this.life.wallet;
    if (!wallet) return undefined;
    return this.ws.readSecrets<InstanceCredentials>(wallet.credentialsKey());
  }

  async nonces(): Promise<SpentNonces> {
    this.spentNonces ??= await SpentNonces.open(this.ws);
    return this.spentNonces;
  }

  /** A sleep: read again on first use after the wake. */
  forgetNonces(): void {
    this.spentNonces = undefined;
  }

  /** Its level, log and tools, from the workspace and its credentials (configure, restart, update). */
  async loadTools(config: InstanceConfig): Promise<void> {
    await this.toolbox.load(config, (await this.credentials()) ?? {}, this.settings.templateMax());
  }

  /** What a configured agent keeps in its workspace beside config.json and its conversation: memory, inheritance, the owner's settings, tools. */
  async loadClaim(config: InstanceConfig): Promise<void> {
    await this.memory.load(config.ownerId);
    await this.inheritance.load();
    await this.settings.loadOwnerSettings();
    await this.loadTools(config);
  }
}
