// What a host gives each of its agents (host/host.ts): its model, keys,
// resolvers and verifiers, tools' providers, limits, another runtime that may
// think for it, and the watch that wakes it when dormant. The agent's parts
// (parts.ts), its inheritance and its dormancy read it; nothing here runs.
import type { InboxResolver, ReleaseVerifier, SignatureVerifier } from "@convos-pool/kit/signing";
import type { Logger } from "@convos-pool/kit/server";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { LlmProvider } from "../../model/turn.js";
import type { PatternHooks } from "../../memory/patterns.js";
import type { Workspace } from "../../platform/workspace.js";
import type { AgentKeys } from "../../platform/keys.js";
import type { Clock } from "../../platform/clock.js";
import type { ToolEnvironment } from "../../tools/functions/agent-tools.js";
import type { ScheduleDesk } from "../../tools/schedules/desk.js";
import type { LlmLimits } from "../conversation/budget.js";
import type { ConversationState } from "../conversation/listening.js";
import type { InstanceConfig } from "../state/settings.js";

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
  keys: AgentKeys;
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
  /** What that wait reads the time from; default the machine's (tests: one they advance). */
  clock?: Clock;
  /** How often it looks for new mail; default 30 s. */
  mailPollMs?: number;
  /** The host's pattern exchange (memory/patterns.ts); none: sharing with the pattern pool is inert. */
  patterns?: PatternHooks;
  /** Quiet agents go dormant and the host's watch wakes them (host/group-watch.ts); none: they never do. */
  dormancy?: DormancyOptions;
  /** The pool hosts' key of a person's pseudonym of the day (agent/state/signals.ts personOf); absent: the process's own. */
  personKey?: Uint8Array;
  /** The pool's schedules service, on behalf of the people its agents hear (tools/schedules/desk.ts); none: agents keep no time. */
  schedules?: ScheduleDesk;
  /** Told of every file its workspace writes: the host keeps its durable state off the host (host/vault-sender.ts). */
  onWorkspaceWrite?: (instanceId: string) => (name: string) => void;
}
