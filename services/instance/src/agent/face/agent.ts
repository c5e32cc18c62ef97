// One agent: its wallet, XMTP client, workspace and conversation.
// An instance host runs many of these in one process (host/host.ts); each is
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
// leave that invite's conversation (agent/state/invites.ts). A dormant one holds no
// client either (agent/life/dormancy.ts, host/group-watch.ts).
//
// Agent is the face the host and its services call, and the one name of
// the agent; the work is in the rooms of agent/, each of one job
// (docs/instance.md, "Where the code lives"): what the agent is made of is
// life/parts.ts, each piece of its state held by the one file that changes
// it (state/, conversation/listening.ts, life/inheritance.ts); the calls
// beside this file (claim.ts, owner.ts, profile.ts), life/lifecycle.ts and
// life/dormancy.ts act on it.

import type { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { inSpan } from "@convos-pool/kit/server";
import { notFound } from "@convos-pool/kit/content";
import { InstanceState, type ActivityEntry } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type {
  AddConversationRequest,
  AttestRequest,
  LeaveConversationRequest,
  CloneSummaryRequest,
  ConfigureRequest,
  InstanceServiceSetTrustLevelRequest,
  InstanceServiceSetPermissionsRequest,
  InstanceServiceSetParticipationRequest,
  InstanceServiceUpdateTemplateRequest,
  ListActivityRequest,
  TransferOwnerRequest,
  InstanceServiceWithdrawTransferRequest,
  NoteTransferOfferRequest,
} from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { SignedTemplate, TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { InviteGuard } from "../state/invites.js";
import type { InboundTextTurn } from "../../model/turn.js";
import type { Memory } from "../../memory/store.js";
import type { MemoryAccess } from "../../memory/service.js";
import type { AddressBookAccess } from "../../tools/address-book/service.js";
import type { ApprovalAccess } from "../../tools/approvals/service.js";
import type { ConfirmationAccess } from "../../tools/confirmations/service.js";
import type { Contact } from "../../tools/address-book/policy.js";
import type { PatternAgent } from "../../memory/patterns.js";
import type { TrustFile } from "../../tools/trust/levels.js";
import type { Funds } from "../../tools/toolbox/toolbox.js";
import type { ResolvedParticipation, ResolvedPermissions } from "@convos-pool/kit/content";
import type { Workspace } from "../../platform/workspace.js";
import type { AgentClient } from "../../platform/xmtp.js";
import { Parts } from "../life/parts.js";
import { Claim } from "./claim.js";
import { Dormancy } from "../life/dormancy.js";
import { Lifecycle } from "../life/lifecycle.js";
import { signDays, type SentDay, type SignedDay } from "../state/signals.js";
import { OwnerOperations } from "./owner.js";
import { isMember, runFiring, type FiringParts } from "../../tools/schedules/firing-run.js";
import type { Firing } from "../../tools/schedules/firing.js";
import { routineAnswer } from "../conversation/routine-turn.js";
import { Profile } from "./profile.js";
import { TemplateRoutines } from "./routines.js";
import type { InheritanceFile } from "../life/inheritance.js";
import type { InstanceConfig, InstanceCredentials } from "../state/settings.js";
import type { InstanceDeps } from "../life/deps.js";

export class Agent implements PatternAgent {
  private readonly parts: Parts;
  private readonly dormancy: Dormancy;
  private readonly lifecycle: Lifecycle;
  private readonly claim: Claim;
  private readonly owner: OwnerOperations;
  private readonly profile: Profile;
  private readonly routines: TemplateRoutines;

  constructor(
    deps: InstanceDeps,
    readonly id: string,
    readonly walletIndex: number,
  ) {
    this.parts = new Parts(deps, id, walletIndex, this);
    this.dormancy = new Dormancy(this.parts);
    // A start finds it dormant, and a call wakes it: its life drives its sleep.
    this.lifecycle = new Lifecycle(this.parts, this.dormancy);
    this.claim = new Claim(this.parts);
    this.owner = new OwnerOperations(this.parts);
    this.profile = new Profile(this.parts);
    // Its template's routines, kept in each conversation once its zone is known (routines.ts).
    this.routines = new TemplateRoutines(this.parts);
    // Someone who joins later learns what it is only from its own profile.
    this.parts.conversations.onOthersJoined = (c) => this.profile.republish(c);
  }

  /** A call that changes it: one at a time with its others, once it is ready (a dormant one wakes for it). */
  private call<T>(job: () => Promise<T>): Promise<T> {
    return this.parts.ops.run(async () => {
      await this.lifecycle.ensureReady();
      return job();
    });
  }

  // ---- what it is ----

  get state(): InstanceState {
    return this.parts.status.state;
  }

  get inboxId(): string {
    return this.parts.status.inboxId;
  }

  /** The kinds `person`'s phone shares with it in its conversation, newest first (connections/shares.ts). */
  phoneKinds(person: string): string[] {
    return this.parts.phones.of(person).map((p) => p.kind);
  }

  /** Why it crashed, for logs and ListInstances callers. */
  get failure(): string | undefined {
    return this.parts.status.failure;
  }

  /** Its XMTP client while it is awake (a restore revokes its other installations with it: host/restore.ts). */
  get client(): AgentClient | undefined {
    return this.parts.status.client;
  }

  get ws(): Workspace {
    return this.parts.ws;
  }

  /** Keeps it out of the conversations of invites it was released from. */
  get invites(): InviteGuard {
    return this.parts.invites;
  }

  /** Settles when its last start did. */
  get ready(): Promise<void> {
    return this.lifecycle.ready;
  }

  get address(): string | undefined {
    return this.parts.status.wallet?.address;
  }

  get conversationId(): string | undefined {
    return this.parts.conversations.home?.id;
  }

  get appliedTemplateVersion(): bigint {
    const config = this.parts.settings.config;
    return config ? BigInt(config.templateVersion) : 0n;
  }

  /** The content versions of its template's bases it runs on, its base first. */
  get appliedBaseVersions(): bigint[] {
    return this.parts.settings.appliedBaseVersions;
  }

  /** Whether its owner lets it offer lessons to, and adopt lessons from, the pattern pool. */
  get sharing(): { offer: boolean; adopt: boolean } {
    const { offer, adopt } = this.parts.settings.sharing;
    return { offer, adopt };
  }

  get configSnapshot(): InstanceConfig | undefined {
    return this.parts.settings.config;
  }

  get memorySnapshot(): Memory | undefined {
    return this.parts.memory.current;
  }

  get trustSnapshot(): TrustFile | undefined {
    return this.parts.toolbox.snapshot;
  }

  /** Its owner's contacts (tests); none while it holds no address book. */
  get addressBookSnapshot(): readonly Contact[] | undefined {
    return this.parts.toolbox.addressBook?.list();
  }

  get permissionsSnapshot(): ResolvedPermissions {
    return this.parts.toolbox.grants;
  }

  get participationSnapshot(): ResolvedParticipation {
    return this.parts.settings.participation;
  }

  /** A clone's inheritance (tests, the host's listing). */
  get inheritanceSnapshot(): InheritanceFile | undefined {
    return this.parts.inheritance.file;
  }

  /** The tools' secrets, decrypted (what a tool adapter would use). */
  credentials(): Promise<InstanceCredentials | undefined> {
    return this.parts.credentials();
  }

  /** The signed template it was configured with. */
  signedTemplate(): SignedTemplate | undefined {
    return this.parts.settings.signedTemplate();
  }

  /** What it runs on: its signed template with its bases applied (checked when they came). */
  runningContent(): TemplateContent | undefined {
    return this.parts.settings.runningContent();
  }

  health(): {
    state: InstanceState;
    inboxId: string;
    appliedTemplateVersion: bigint;
    appliedBaseVersions: bigint[];
    inheritedEntries: number;
  } {
    const inheritance = this.parts.inheritance.file;
    // Its runtime's thinker (an OpenClaw gateway) is looked after too: started again when it is down.
    if (this.parts.settings.config && this.state !== InstanceState.DEAD) this.parts.deps.runtime?.check(this.parts);
    return {
      state: this.state,
      inboxId: this.inboxId,
      appliedTemplateVersion: this.appliedTemplateVersion,
      appliedBaseVersions: this.appliedBaseVersions,
      inheritedEntries: inheritance?.state === "inherited" ? (inheritance.entries ?? 0) : 0,
    };
  }

  // ---- its life (life/lifecycle.ts, life/dormancy.ts) ----

  /** Creates (or reopens) its workspace and XMTP client; resumes its conversation if it had one. */
  async start(): Promise<void> {
    await this.lifecycle.start();
    // Restored from a lost host: back into its conversation in the background, STARTING until it is.
    if (this.lifecycle.rejoining) {
      void this.claim
        .rejoin()
        .catch((err: unknown) => this.parts.log.error("could not get back into its conversation", { err }));
    }
  }

  /** Stops answering and closes its client; the workspace stays (the host destroys it: host/host.ts). */
  stop(opts: { markStopped?: boolean } = {}): Promise<void> {
    return this.lifecycle.stop(opts);
  }

  /** Forgets the claim: leaves the conversation, wipes config, credentials, memory; back to IDLE. */
  release(): Promise<void> {
    // A join it still waits on ends first: the release is queued behind it.
    this.claim.stopJoin();
    return this.call(() => this.lifecycle.release());
  }

  /** The host's sweep: goes dormant if it may and has been quiet `afterMs`. True when it did. */
  sleepIfQuiet(afterMs: number): Promise<boolean> {
    return this.dormancy.sleepIfQuiet(afterMs);
  }

  // ---- a claim (claim.ts) ----

  // The agent's part of a claim's trace (docs/runbook.md, "Traces").
  configure(req: ConfigureRequest): Promise<void> {
    return inSpan("agent.configure", { "pool.instance_id": this.id }, () => this.call(() => this.claim.configure(req)));
  }

  joinConversation(invite: string, signal?: AbortSignal): Promise<string> {
    return inSpan("agent.join", { "pool.instance_id": this.id }, () =>
      this.call(() => this.claim.joinConversation(invite, signal)),
    ).then((id) => {
      this.routines.later(id);
      return id;
    });
  }

  /** Joins another conversation as its owner signed it (claim.ts), and says its profile there. */
  addConversation(req: AddConversationRequest): Promise<string> {
    return inSpan("agent.add_conversation", { "pool.instance_id": this.id }, () =>
      this.call(async () => {
        const id = await this.claim.addConversation(req);
        const added = this.parts.conversations.get(id);
        if (added) {
          await this.profile
            .republish(added)
            .catch((err: unknown) => this.parts.log.warn("profile not said in the conversation joined", { err }));
        }
        return id;
      }),
    ).then((id) => {
      this.routines.later(id);
      return id;
    });
  }

  /** Leaves one of its conversations as its owner signed it (claim.ts); its home from now on. */
  leaveConversation(req: LeaveConversationRequest): Promise<string> {
    return this.call(() => this.claim.leaveConversation(req));
  }

  updateTemplate(
    req: InstanceServiceUpdateTemplateRequest,
  ): Promise<{ appliedVersion: bigint; appliedBaseVersions: bigint[]; model: string; trustLevel: TrustLevel }> {
    return this.call(async () => {
      const applied = await this.claim.updateTemplate(req);
      // Its certificate names the version it runs: members see the new one.
      await this.profile.republish().catch((err: unknown) => this.parts.log.warn("profile not republished", { err }));
      // A routine the update adds, changes or drops, in every conversation (tools/schedules/template-routines.ts).
      this.routines.everywhere();
      return applied;
    });
  }

  // ---- its profile (profile.ts) ----

  /** The pool's attestation: checked to name this agent, then published with its certificate; its statement posted when new. */
  attest(req: AttestRequest): Promise<{ metadataKeys: string[]; statementPosted: boolean }> {
    return this.call(() => this.profile.attest(req));
  }

  // ---- clone with context (life/inheritance.ts) ----

  /** The parent's side: the owner-signed summary of what carries, sent to the child. */
  cloneSummary(
    req: CloneSummaryRequest,
    signal?: AbortSignal,
  ): Promise<{ entries: number; bytes: number; via: string }> {
    return this.call(() => this.parts.inheritance.cloneSummary(req, signal));
  }

  // ---- its owner's calls (owner.ts) ----

  transferOwner(req: TransferOwnerRequest): Promise<void> {
    return this.call(async () => {
      await this.owner.transferOwner(req);
      // Its certificate names its owner and carries the transfer: members see the new one.
      await this.profile.republish().catch((err: unknown) => this.parts.log.warn("profile not republished", { err }));
    });
  }

  withdrawTransfer(req: InstanceServiceWithdrawTransferRequest): Promise<void> {
    return this.call(() => this.owner.withdrawTransfer(req));
  }

  noteTransferOffer(req: NoteTransferOfferRequest): Promise<void> {
    return this.call(() => this.owner.noteTransferOffer(req));
  }

  setTrustLevel(req: InstanceServiceSetTrustLevelRequest): Promise<TrustFile> {
    return this.call(() => this.owner.setTrustLevel(req));
  }

  setPermissions(req: InstanceServiceSetPermissionsRequest): Promise<ResolvedPermissions> {
    return this.call(() => this.owner.setPermissions(req));
  }

  setParticipation(req: InstanceServiceSetParticipationRequest): Promise<ResolvedParticipation> {
    return this.call(async () => {
      const set = await this.owner.setParticipation(req);
      // Its profile says when it speaks: members who join later, or read it while it is paused, see the new one.
      await this.profile.republish().catch((err: unknown) => this.parts.log.warn("profile not republished", { err }));
      return set;
    });
  }

  /** An owner's memory call (memory/service.ts checks their signature), between turns. */
  memoryCall<T>(job: (access: MemoryAccess) => Promise<T>): Promise<T> {
    return this.call(() => this.owner.memoryCall(job));
  }

  /** An owner's address-book call (tools/address-book/service.ts checks their signature), between turns. */
  addressBookCall<T>(job: (access: AddressBookAccess) => Promise<T>): Promise<T> {
    return this.call(() => this.owner.addressBookCall(job));
  }

  /**
   * Its owner's answers to its questions, from outside the conversation: not
   * queued behind its other calls, since a question waits inside one of them.
   * A dormant agent waits on no question, and is not woken to say so.
   */
  approvalCall<T>(job: (access: ApprovalAccess) => Promise<T>): Promise<T> {
    return this.owner.approvalCall(job);
  }

  /** Its owner's steps confirmed in Convos (tools/confirmations/): woken for, since asking one says a question. */
  confirmationCall<T>(job: (access: ConfirmationAccess) => Promise<T>): Promise<T> {
    return this.call(() => this.owner.confirmationCall(job));
  }

  /** Its conversation's name from the group's metadata, as it last read it; "" when none (not woken for it). */
  get conversationName(): string {
    return this.parts.conversations.home?.groupName ?? "";
  }

  /** Members of its home, or of the conversation named, itself included (woken for it when dormant). */
  countMembers(conversationId?: string): Promise<number> {
    return this.call(() => {
      const { conversations } = this.parts;
      const c = conversationId ? conversations.get(conversationId) : conversations.home;
      if (!c) throw notFound(`conversation_id: the agent is not in conversation ${conversationId}`);
      return c.countMembers();
    });
  }

  /** Every conversation it is in, the home first, with each name as it last read it (ListInstances). */
  get conversations(): { conversationId: string; name: string }[] {
    return this.parts.conversations.all().flatMap((c) => (c.id ? [{ conversationId: c.id, name: c.groupName }] : []));
  }

  /** Its activity log, newest first. */
  async listActivity(req: ListActivityRequest): Promise<{ entries: ActivityEntry[]; nextPageToken: string }> {
    if (this.state === InstanceState.DORMANT) await this.parts.ops.run(() => this.lifecycle.ensureReady());
    await this.lifecycle.ensureReady();
    return this.parts.toolbox.listActivity(req);
  }

  /** Its wallet's balance and what it spent today against its limit (GetFunds), read like its log. */
  async getFunds(): Promise<Funds> {
    if (this.state === InstanceState.DORMANT) await this.parts.ops.run(() => this.lifecycle.ensureReady());
    await this.lifecycle.ensureReady();
    return this.parts.toolbox.funds();
  }

  // ---- its schedules (tools/schedules/firing-run.ts) ----

  /** One firing of its schedules, woken for (a dormant agent wakes as for any call); whether it was done before. */
  async fireSchedule(f: Firing): Promise<boolean> {
    await this.call(() => Promise.resolve());
    // Not yet back in its conversations (restored from a lost host, or crashed): tried again, never read as having left.
    if (this.state === InstanceState.STARTING || this.state === InstanceState.CRASHED)
      throw new ConnectError(
        `the agent is ${InstanceState[this.state].toLowerCase()}: try the firing again`,
        Code.Unavailable,
      );
    return runFiring(this.firingParts(), f);
  }

  /** Whether `inboxId` is a member of `conversationId` now (woken for it when dormant). */
  isMember(conversationId: string, inboxId: string): Promise<boolean> {
    return this.call(() => isMember(this.firingParts(), conversationId, inboxId));
  }

  private firingParts(): FiringParts {
    const parts = this.parts;
    return {
      id: this.id,
      scheduling: parts.scheduling,
      settings: parts.settings,
      conversations: parts.conversations,
      toolbox: parts.toolbox,
      log: parts.log,
      routine: async (id, r, askerHere) => {
        const c = parts.conversations.get(id);
        return c ? routineAnswer(parts, c, r, askerHere) : undefined;
      },
      within: (id, job) => {
        const c = parts.conversations.get(id);
        return parts.turns.run(() => (c ? parts.conversations.within(c, job) : job()));
      },
    };
  }

  // ---- its conversation (conversation/) ----

  /** A text to its number (the host's SMS webhook): relayed to the conversation, and answered by text when its level allows. */
  inboundText(t: InboundTextTurn): void {
    if (this.state === InstanceState.DORMANT) {
      void this.parts.ops
        .run(() => this.dormancy.awaken("a text"))
        .then(() => this.inboundText(t))
        .catch((err: unknown) => this.parts.log.error("waking for a text failed", { err }));
      return;
    }
    this.parts.conversations.inboundText(t);
  }

  /**
   * Changes its memory between turns (the pattern exchange's adoptions): on
   * the memory of the claim as it is now, never on a later one's after a
   * Release; memory.json is written when `change` returns true.
   */
  changeMemory(change: (memory: Memory) => Promise<boolean>): Promise<boolean> {
    const parts = this.parts;
    const memory = parts.memory.current;
    return parts.turns.run(async () => {
      if (!memory || parts.memory.current !== memory || parts.status.stopped) return false;
      if (await change(memory)) await parts.memory.save(memory);
      return true;
    });
  }

  /** Resolves when every message queued so far has been handled. */
  settled(): Promise<void> {
    return this.parts.turns.idle();
  }

  /** Its days of counts to send (docs/signals.md), signed by its own wallet; none before it started and joined. */
  async signedSignals(): Promise<SignedDay[]> {
    const parts = this.parts;
    if (!parts.status.inboxId) return [];
    // A dormant agent's days go out too: its key is asked for then.
    const wallet = await parts.status.walletNow();
    if (!wallet) return [];
    return signDays(await parts.signals.reports(), {
      instanceId: parts.id,
      inboxId: parts.status.inboxId,
      wallet: wallet.account,
      poolId: parts.deps.poolId,
    });
  }

  /** Days the lineage service took (or will never take): no longer kept. */
  signalsSent(days: readonly SentDay[]): Promise<void> {
    return this.parts.signals.sent(days);
  }
}
