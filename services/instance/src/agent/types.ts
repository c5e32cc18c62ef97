// What an agent keeps in its workspace and what its host gives it: the
// types every room of agent/ shares, and agent/configure.ts and agent/update.ts build.
// Types only, so that whoever needs them imports no room.

import type { JsonValue } from "@bufbuild/protobuf";
import type { InboxResolver, ReleaseVerifier, SignatureVerifier } from "@convos-pool/kit/signing";
import type { Logger } from "@convos-pool/kit/server";
import type { ResolvedParticipation } from "@convos-pool/kit/content";
import type { LlmLimits } from "./budget.js";
import type { LlmProvider } from "../model/turn.js";
import type { PatternHooks } from "../memory/patterns.js";
import type { ToolEnvironment } from "../tools/agent-tools.js";
import type { MasterSeed } from "../platform/keys.js";
import type { Workspace } from "../platform/workspace.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";

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
  /** The owner's signature of the claim (convos.pool.v1.OwnerProof), for its birth certificate (profile.ts); none for a session. */
  ownerProof?: { ownerId: string; proof: JsonValue };
  /** Every change of owner it checked (convos.pool.v1.TransferProof), oldest first: its certificate's chain from the first owner. */
  transfers?: JsonValue[];
  /** The owner's withdrawn transfer offers: to whom, and up to when they were signed (unix seconds). */
  withdrawnOffers?: Record<string, number>;
  /** Nonces of offers a withdrawal voided whatever their date (owner.ts planWithdrawal), each until it would have expired. */
  voidedOffers?: Record<string, number>;
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
  /** How far it has read (agent/read-mark.ts): every message sent at or before this (ns, decimal) is done. */
  lastSeenNs: string;
  /** Messages done that were sent after `lastSeenNs` while an older one waited (agent/read-mark.ts); absent when none. */
  doneAfter?: { id: string; sentAtNs: string }[];
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

/** dormant.json: it is dormant; where the host's watch of its group starts. */
export interface DormantFile {
  conversationId: string;
  /** The node's newest message id of its group before it last synced (decimal). */
  cursor: string;
  since: string;
}

/** An agent as a runtime sees it (openclaw/runtime.ts): what it is, where it keeps files, where it talks. */
export interface RuntimeAgent {
  readonly id: string;
  readonly ws: Workspace;
  readonly log: Logger;
  readonly config: InstanceConfig | undefined;
  readonly convo: ConversationState | undefined;
  /** What it runs on: its signed template with its bases applied. */
  runningContent(): TemplateContent | undefined;
}

/**
 * What thinks for the agents of a host other than the host's own model calls
 * (docs/openclaw.md). Absent: the pool's own runtime. The host keeps the rest
 * (keys, XMTP, signatures, roles, trust levels, memory, the workspace).
 */
export interface AgentRuntime {
  readonly kind: "openclaw";
  /** Its provider of turns, bound to it. */
  provider(agent: RuntimeAgent): LlmProvider;
  /**
   * Configure, UpdateTemplate or a restart set what it runs on: its files
   * written (from `release`, checked, when given: an update's, before the
   * agent's config says so; else from what the agent runs), its thinker (re)started.
   */
  apply(agent: RuntimeAgent, release?: { content: TemplateContent; model: string }): Promise<void>;
  /** Health: its thinker running, started again when it is not. */
  check(agent: RuntimeAgent): void;
  /** Release: its thinker stopped and its state deleted. */
  release(agent: RuntimeAgent): Promise<void>;
  /** StopInstance or the host closing: its thinker stopped, its state kept. */
  stop(agent: RuntimeAgent): Promise<void>;
  /** Going dormant: its thinker stopped, its state kept; waking is `apply` (as after a restart). */
  rest(agent: RuntimeAgent): Promise<void>;
}

export interface InstanceDeps {
  dataDir: string;
  xmtpApiUrl: string;
  seed: MasterSeed;
  llm: LlmProvider;
  /** Another runtime thinks for its agents (openclaw/runtime.ts); absent: the host's `llm`. */
  runtime?: AgentRuntime;
  log: Logger;
  /** The network-backed inbox resolver, shared by the host, created on first use. */
  resolver: () => Promise<InboxResolver>;
  /** The pool its signatures name (signing.ts signatureDomain), written into its certificate. */
  poolId: string;
  /** Checks signatures (owners', creators'), through that resolver, for that pool. */
  verifier: () => Promise<SignatureVerifier>;
  /** Checks template releases' signatures once per release for all the host's agents (kit verified-releases.ts). */
  releases: () => Promise<ReleaseVerifier>;
  /** How long a join waits for the creator to add the instance; default 60 s. */
  joinTimeoutMs?: number;
  /** Lines of conversation given to the model; default 20. */
  historyLimit?: number;
  /** What its conversation may spend on the model (budget.ts, model/caps.ts); default LLM_LIMITS. */
  llmLimits?: LlmLimits;
  /** Stream reconnect delay; default 2 s. */
  streamRetryMs?: number;
  /** Where its tools reach their providers; none: it holds tools it cannot use. */
  tools?: ToolEnvironment;
  /** How long a tool call waits for the owner's approval; default 10 minutes. */
  approvalTimeoutMs?: number;
  /** How often it looks for new mail; default 30 s. */
  mailPollMs?: number;
  /** The host's pattern exchange (memory/patterns.ts); none: sharing with the pattern pool is inert. */
  patterns?: PatternHooks;
  /** Quiet agents go dormant and the host's watch wakes them (host/group-watch.ts); none: they never do. */
  dormancy?: DormancyOptions;
  /** Told of every file its workspace writes: the host keeps its durable state off the host (host/vault-sender.ts). */
  onWorkspaceWrite?: (instanceId: string) => (name: string) => void;
}

/** What its agents need of the host's watch of dormant groups (host/group-watch.ts; a fake of it needs no node). */
export interface DormancyWatch {
  /** The node's newest message id in the group (0 when it has none): an agent's cursor. */
  newest(groupId: string): Promise<bigint>;
  /** Calls `onMessage` once, on the first application message past `cursor` in the group. */
  watch(groupId: string, cursor: bigint, onMessage: () => void): void;
  unwatch(groupId: string): void;
}

export interface DormancyOptions {
  /** Quiet this long, a claimed agent goes dormant; 0: never. */
  afterMs: number;
  watch: DormancyWatch;
  /** Told how long each wake took, from its cause to its client and conversation ready (the host's histogram). */
  woke?: (seconds: number) => void;
}

/** participation.json: when it speaks, as its owner last set it (absent: by the conversation's size). */
export interface ParticipationFile {
  participation: ResolvedParticipation;
  setAt: string;
}
