// What an instance host is started with (startInstanceHost, host.ts): from
// its environment (config.ts) or from the pool in one process (dev's pool.ts)
// and tests. Types and their defaults' constants only.
import type { Logger, ServiceCredentials } from "@convos-pool/kit/server";
import type { LlmProvider } from "../model/turn.js";
import type { LlmLimits } from "../agent/conversation/budget.js";
import type { Clock } from "../platform/clock.js";
import type { SmsWebhookOptions } from "./sms-webhook.js";
import type { PutStates } from "./vault-sender.js";
import type { ScheduleDesk } from "../tools/schedules/desk.js";

/** What thinks for a host's agents: its own model calls ("pool"), or one OpenClaw gateway per agent (docs/openclaw.md). */
export const INSTANCE_RUNTIMES = ["pool", "openclaw"] as const;
export type InstanceRuntime = (typeof INSTANCE_RUNTIMES)[number];

export const DEFAULT_MAX_INSTANCES = 1000;

export interface LlmOptions {
  /** OpenAI-compatible API base, for example https://openrouter.ai/api/v1. */
  baseUrl: string;
  apiKey: string;
  /** Used when an instance's config names no model. */
  model?: string | undefined;
  /** Completions the host runs at once, every agent's together (model/host-calls.ts; 0: no limit); default HOST_MODEL_CALLS. */
  hostCalls?: number | undefined;
  /** Members' calls that may wait for a place; one more is refused (model/host-calls.ts); default HOST_CALLS_WAITING. */
  hostCallsWaiting?: number | undefined;
}

export interface InstanceHostOptions {
  port?: number | undefined;
  host?: string | undefined;
  /** The XMTP node's API URL (the local node in development and tests). */
  xmtpApiUrl: string;
  /**
   * The keys service (POOL_KEYS_URL): each agent's wallet key, released to
   * this host, under its own credential, for the agents it runs and no other
   * (docs/security.md, "Agents' keys").
   */
  keysUrl?: string | undefined;
  /**
   * Tests of a host alone, instead of `keysUrl`: keys derived in this process
   * from a seed (a BIP-39 mnemonic or 32 bytes of hex), as the keys service
   * derives them. No deployed host holds a seed.
   */
  masterSeed?: string | undefined;
  /** The pool whose signatures its agents accept (POOL_ID); default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** Workspaces live in <dataDir>/instances/<id>. */
  dataDir: string;
  /**
   * The host's credential and whom it recognizes: only the claims service
   * may call it (HOST_ACCESS); TLS when configured.
   */
  credentials: ServiceCredentials;
  /** Absent: the offline provider (no key, labelled in every answer). */
  llm?: LlmOptions | undefined;
  /**
   * "openclaw": each configured agent thinks through an OpenClaw gateway of
   * its own, on `llm`'s endpoint (required then); default "pool".
   */
  runtime?: InstanceRuntime | undefined;
  /** Where scripts/openclaw-install.sh installed OpenClaw; default POOL_OPENCLAW_DIR, else vendor/openclaw. */
  openclawDir?: string | undefined;
  /** How long an OpenClaw gateway may take to start (default 240 s). */
  openclawStartTimeoutMs?: number | undefined;
  /** OpenClaw gateways running at once; beyond it the least recently used idle one stops (default: no limit). */
  openclawMaxGateways?: number | undefined;
  /** OpenClaw gateways kept started with no agent, for a wake or a claim to take (default 0; docs/openclaw.md). */
  openclawWarmGateways?: number | undefined;
  /** Overrides `llm` (tests). */
  llmProvider?: LlmProvider | undefined;
  /**
   * What each agent's conversation may spend on the model: calls a minute,
   * tokens of a message, of the history and of memory in a prompt (0: no
   * limit); each unset one is LLM_LIMITS's (agent/conversation/budget.ts).
   */
  llmLimits?: { [K in keyof LlmLimits]?: number | undefined } | undefined;
  log?: Logger | undefined;
  /** How long a join waits for the creator to add the instance; default 60 s. */
  joinTimeoutMs?: number | undefined;
  /** Instances brought back in parallel when the host starts; default 8. */
  restoreConcurrency?: number | undefined;
  /**
   * StartInstance beyond this many running instances is RESOURCE_EXHAUSTED
   * (the caller starts it on another host); default 1000. Each idle instance
   * holds about 12 to 19 file descriptors and 3 threads of the XMTP SDK
   * (docs/instance.md): the process's open-files limit must allow for it.
   */
  maxInstances?: number | undefined;
  /** Where agents' tools reach their providers; none: agents hold tools they cannot use. */
  tools?: HostToolOptions | undefined;
  /**
   * The lineage service's PatternPoolService, called with this host's
   * credential for its agents whose owners opted in (memory/patterns.ts); absent:
   * the owners' choice is kept but nothing is offered or adopted.
   */
  patternPoolUrl?: string | undefined;
  /** How often every agent offers and queries the pattern pool; default 10 minutes. */
  patternQueryIntervalMs?: number | undefined;
  /**
   * The lineage service's VersionSignalService: where its agents' signed days
   * of counts go (docs/signals.md); absent: they are counted and kept (a week
   * of them), not sent.
   */
  signalsUrl?: string | undefined;
  /**
   * The lineage service's AgentStateMarkService: each state the vault kept is
   * marked there, signed by its agent, and a restore here opens no state
   * older than its agent's mark (docs/scaling.md, "Only the newest state");
   * absent: no marks are sent, and a restore checks none.
   */
  stateMarksUrl?: string | undefined;
  /** How often every agent's counts are sent; default 15 minutes. */
  signalsIntervalMs?: number | undefined;
  /**
   * The key of a person's pseudonym of the day in the counts (docs/signals.md,
   * "Per person"), the same on every host of the pool and never given to the
   * lineage service; absent: the process's own, drawn at start (one host
   * alone counts a person once; hosts with different keys count them once
   * each).
   */
  signalsPersonKey?: Uint8Array | undefined;
  /**
   * A claimed agent quiet this long goes dormant: its XMTP client and memory
   * unloaded until a message in its conversation or a call wakes it
   * (host/group-watch.ts); default 10 minutes; 0: never.
   */
  dormantAfterMs?: number | undefined;
  /**
   * The claims service's AgentVaultService: where each claimed agent's sealed
   * state goes as it changes (host/vault-sender.ts, docs/scaling.md "A host
   * lost for good"); absent (and no `vaultPut`): agents live on this host's
   * disk alone.
   */
  vaultUrl?: string | undefined;
  /** This host's address as the claims service names it (its INSTANCE_HOST_URLS); default the URL it listens on. */
  hostPublicUrl?: string | undefined;
  /** Overrides `vaultUrl`: where sealed states go (tests: a sink). */
  vaultPut?: PutStates | undefined;
  /** How long changes gather before a send; default 2 s. */
  vaultDebounceMs?: number | undefined;
  /**
   * The claims service's HostScheduleService (SCHEDULES_URL): where agents keep the reminders, routines and
   * scheduled acts people ask for in their conversations (docs/schedules-language.md); absent: they keep no time.
   */
  schedulesUrl?: string | undefined;
  /** Overrides `schedulesUrl` (tests: a schedules service in memory). */
  schedules?: ScheduleDesk | undefined;
  /** What retired instances' watches and approval questions' waits read the time from; default the machine's (tests: one they advance). */
  clock?: Clock | undefined;
}

/** The host's side of its agents' tools (docs/tools.md; main.ts reads them from the environment). */
export interface HostToolOptions {
  /** SMTP to send and POP3 to read agents' mail, for local mailboxes (a password). */
  mail?: { smtpUrl: string; pop3Url: string };
  /** AgentMail's API, for mailboxes made there (an inbox's own key). */
  agentmail?: { apiUrl: string };
  /**
   * The chain agents' wallets are on (JSON-RPC), and the pool's payment signer (the claims service's
   * PaymentSignerService), which signs their payments under this host's credential: their keys are never here.
   * Without `signerUrl`, a wallet pays only with a key the host was given (tests of a host alone).
   */
  chain?: { rpcUrl: string; signerUrl?: string };
  /** Telnyx's messaging API (or the local stand-in): texts out, and a webhook for texts in. */
  sms?: SmsWebhookOptions;
  /** How long a tool call waits for the owner's approval; default 10 minutes. */
  approvalTimeoutMs?: number;
  /** How often agents look for new mail; default 30 s. */
  mailPollMs?: number;
}
