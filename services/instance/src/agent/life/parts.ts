// What an agent is made of, as the rooms of agent/ share it (the agent
// itself, its one name, is face/agent.ts): each piece of state with the one
// file that changes it, read by the others through getters:
//   status        its InstanceState, client, wallet, when last active (state/status.ts)
//   settings      config.json, participation.json, sharing.json (state/settings.ts)
//   memory        its memory and the two files it is kept in (state/memory.ts)
//   conversations its conversations (conversation/conversations.ts), each with
//                 who is who there, how far it has read, its voice, phones and
//                 open request (conversation/listening.ts), its pace (carry-out.ts);
//                 `voice`, `phones`, `openRequest`, `phoneActs`, `outsideWords`
//                 below are those of the conversation a turn runs in
//   budget        the model calls of the last minute, across its conversations
//   inheritance   a clone's wait for its parent's summary (inheritance.ts)
//   toolbox       its trust level, permissions, tools and a waiting question
//                 (tools/toolbox/toolbox.ts)
//   invites, signals (state/), lessons
//   (memory/lessons.ts): each of its own files or job
// and its two queues (turns/serial.ts). The files that act on it
// (lifecycle.ts, dormancy.ts, face/claim.ts, face/owner.ts, face/profile.ts)
// take it whole; the conversation and the inheritance, built here, take
// what they name.

import type { Logger } from "@convos-pool/kit/server";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { InviteGuard } from "../state/invites.js";
import { SpentNonces } from "../../platform/nonces.js";
import { FeedbackReader } from "../../memory/feedback.js";
import { Lessons } from "../../memory/lessons.js";
import type { LlmProvider } from "../../model/turn.js";
import type { PatternAgent } from "../../memory/patterns.js";
import { AgentToolbox } from "../../tools/toolbox/toolbox.js";
import { Scheduling } from "../../tools/schedules/scheduling.js";
import { SYSTEM_CLOCK } from "../../platform/clock.js";
import { Workspace } from "../../platform/workspace.js";
import type { InstanceDeps, RuntimeAgent } from "./deps.js";
import { HeldMemory } from "../state/memory.js";
import { Conversations } from "../conversation/conversations.js";
import type { Conversation } from "../conversation/listening.js";
import { ModelBudget, LLM_LIMITS } from "../conversation/budget.js";
import { Inheritance } from "./inheritance.js";
import { Status } from "../state/status.js";
import type { OutsideWords } from "../state/outside-words.js";
import { Serial, Turns } from "../turns/serial.js";
import { Settings } from "../state/settings.js";
import { PROCESS_PERSON_KEY, Signals } from "../state/signals.js";
import type { Voice } from "../voice/send.js";
import { OwnerLine } from "../voice/direct.js";
import { contactBook, type ContactBook, type OpenRequest } from "../conversation/choosing.js";
import type { Declared, PhoneActs } from "../../connections/acts.js";
import { declaredConnections } from "../../connections/prompt.js";
import type { PhoneShares } from "../../connections/shares.js";
import type { ConversationState } from "../conversation/listening.js";
import type { InstanceConfig, InstanceCredentials } from "../state/settings.js";

export class Parts implements RuntimeAgent {
  /** Calls that change what it is, one at a time. */
  readonly ops = new Serial();
  /** What touches its conversation and memory, one at a time: the owner's first (turns/queue.ts). */
  readonly turns = new Turns();
  readonly ws: Workspace;
  readonly log: Logger;
  readonly status: Status;
  readonly settings: Settings;
  readonly memory: HeldMemory;
  /** Its trust level, activity log and tools (tools/toolbox/toolbox.ts). */
  readonly toolbox: AgentToolbox;
  /** Its owner's direct conversation with it, where it asks approvals when the owner chose so (voice/direct.ts). */
  readonly ownerLine: OwnerLine;
  /** What a message teaches it: reactions, corrections, what it learns and forgets (memory/lessons.ts). */
  readonly lessons: Lessons;
  /** Keeps it out of the conversations of invites it was released from. */
  readonly invites: InviteGuard;
  /** Its conversations: the home and those its owner added it to. */
  readonly conversations: Conversations;
  /** The model calls of the last minute, every conversation's: one budget per agent. */
  readonly budget: ModelBudget;
  readonly inheritance: Inheritance;
  /** Its daily counts for the version it runs, counts only (signals.ts). */
  readonly signals: Signals;
  /** Its reminders, routines and scheduled acts as its conversations ask for them (tools/schedules/scheduling.ts). */
  readonly scheduling: Scheduling;
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
    this.status = new Status({
      keys: deps.keys,
      walletIndex,
      xmtpApiUrl: deps.xmtpApiUrl,
      ws: this.ws,
      log: this.log,
    });
    this.settings = new Settings(this.ws, () => this.conversations?.here.id);
    this.signals = new Signals(
      this.ws,
      () => {
        const config = this.settings.config;
        const creatorId = (config?.template as { creatorId?: string } | undefined)?.creatorId;
        return config && { templateId: config.templateId, version: config.templateVersion, creatorId };
      },
      Date.now,
      deps.personKey ?? PROCESS_PERSON_KEY,
    );
    this.memory = new HeldMemory(this.ws, () => this.status.wallet);
    this.invites = new InviteGuard(this.ws, this.log, {
      mine: (id) => this.conversations.has(id),
      retryMs: deps.streamRetryMs ?? 2_000,
    });
    this.lessons = new Lessons({
      feedback: new FeedbackReader({
        inboxId: () => this.status.inboxId,
        ownerId: () => this.settings.config?.ownerId,
        lookup: (id) => this.status.client?.conversations.getMessageById(id),
        reacted: (r, by) => this.signals.reacted(r, by),
        log: this.log,
      }),
      save: (memory) => this.memory.save(memory),
      forgetAsked: () => this.signals.count("forgetRequests"),
      learned: (added) => deps.patterns?.learned(self, added),
      log: this.log,
    });
    this.budget = new ModelBudget(
      () => (deps.llmLimits ?? LLM_LIMITS).callsPerMinute,
      () => Math.max(1, this.conversations.count),
    );
    this.ownerLine = new OwnerLine({
      ws: this.ws,
      agentName: () => this.settings.config?.agentName ?? "",
      client: () => (this.status.stopped ? undefined : this.status.client),
      ownerId: () => this.settings.config?.ownerId,
      answer: (a) => this.toolbox.answer(a),
      tap: (group, tap) => this.conversations.tap(group, tap),
      log: this.log,
    });
    this.toolbox = new AgentToolbox({
      ws: this.ws,
      log: this.log,
      ...(deps.tools ? { env: deps.tools } : {}),
      ...(deps.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: deps.approvalTimeoutMs } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.mailPollMs !== undefined ? { mailPollMs: deps.mailPollMs } : {}),
      addressBookKey: () => this.status.wallet?.addressBookKey(),
      say: async (text, outside, replyTo) => {
        const id = await (replyTo ? this.voice.replyTo(text, replyTo) : this.voice.say(text));
        if (outside) await this.outsideWords.add(id);
        return id;
      },
      buttons: (b) => this.voice.buttons(b),
      direct: this.ownerLine,
      conversationName: () => this.conversations.here.groupName,
      toolsHere: () => this.conversations.here.tools === "shared",
      // Where a number it texts and a mail it sends answer back to (tools/routing/policy.ts).
      conversationId: () => this.conversations.here.id,
      placeOf: (id) => ((id && this.conversations.get(id)) || this.conversations.home)?.id ?? "",
      within: (id, job) => {
        const c = (id && this.conversations.get(id)) || this.conversations.home;
        return c ? this.conversations.within(c, job) : job();
      },
      paid: (payment) => this.voice.payment(payment),
      ownerName: () => {
        const owner = this.settings.config?.ownerId;
        return (owner && this.conversations.here.names[owner]) || "my owner";
      },
      betweenTurns: (job) => this.turns.run(job),
      park: (answer) => this.turns.park(answer),
      signal: (s, person) => this.signals.toolSignal(s, person),
    });
    this.scheduling = new Scheduling(id, deps.schedules, this.ws, deps.clock ?? SYSTEM_CLOCK);
    this.conversations = new Conversations(this);
    this.inheritance = new Inheritance(this);
  }

  // ---- the conversation a turn runs in (outside a turn, the home): conversation/conversations.ts ----

  /** The conversation at hand: the one a turn runs in; outside any turn (a call of the pool), the home. */
  get conversation(): Conversation {
    return this.conversations.here;
  }

  /** How its words go out there: replies, markdown, thinking and typing, payments (voice/send.ts). */
  get voice(): Voice {
    return this.conversation.voice;
  }

  /** An owner's request there it did not carry out, open for the owner's yes (choosing.ts). */
  get openRequest(): OpenRequest {
    return this.conversation.openRequest;
  }

  /** What people's phones share with it there, each piece its sender's (connections/shares.ts). */
  get phones(): PhoneShares {
    return this.conversation.phones;
  }

  /** What it asks of people's phones there, and the rules each ask is held to (connections/acts.ts). */
  get phoneActs(): PhoneActs {
    return this.conversation.phoneActs;
  }

  /** Its messages there that carry words from outside the conversation (outside-words.ts). */
  get outsideWords(): OutsideWords {
    return this.conversation.outsideWords;
  }

  /** Its home conversation's id (none: in no conversation). */
  homeId(): string | undefined {
    return this.conversations.home?.id;
  }

  /** The kinds of people's phone data its template (and its bases) declare it uses. */
  declaredConnections(): Declared[] {
    const config = this.settings.config;
    return config ? declaredConnections([config.template, ...(config.bases ?? [])]) : [];
  }

  // ---- what a runtime reads of it (RuntimeAgent, above) ----

  get config(): InstanceConfig | undefined {
    return this.settings.config;
  }

  get convo(): Readonly<ConversationState> | undefined {
    return this.conversations.home?.current;
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
    const wallet = this.status.wallet;
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
    await this.settings.loadOwnerSettings(this.conversations.all().flatMap((c) => (c.id ? [c.id] : [])));
    await this.loadTools(config);
  }
}
