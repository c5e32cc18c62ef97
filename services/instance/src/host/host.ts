// The instance host: one process that runs many agent instances (docs/instance.md:
// a process per instance costs ~100 MB, an idle instance in a shared host a
// few MB). It serves InstanceHostService and every instance's
// InstanceService on one port (host/routes.ts).
//
// Restart: instances live in workspaces under dataDir. When the host starts it
// scans dataDir and brings every instance back (unless StopInstance stopped
// it): same wallet, same XMTP database, config, memory and conversation, and
// it answers what arrived while it was down. StartInstance for an instance that
// is already running is idempotent (same id and wallet index: same inbox).

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";

import { type AccessPolicy, createLogger, forEachLimited, type Logger } from "@convos-pool/kit/server";
import { alreadyExists, failedPrecondition, INSTANCE_HEADER } from "@convos-pool/kit/content";
import { type InboxResolver, SignatureVerifier, VerifiedReleases, LOCAL_POOL_ID } from "@convos-pool/kit/signing";
import { startService } from "@convos-pool/kit/service";
import { XmtpInboxResolver } from "@convos-pool/convos";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceMemoryService } from "@convos-pool/gen/convos/pool/v1/instance_memory_service_pb.js";
import { InstanceAddressBookService } from "@convos-pool/gen/convos/pool/v1/instance_address_book_service_pb.js";
import { InstanceApprovalService } from "@convos-pool/gen/convos/pool/v1/instance_approval_service_pb.js";
import { InstanceConfirmationService } from "@convos-pool/gen/convos/pool/v1/instance_confirmation_service_pb.js";
import { InstanceScheduleService } from "@convos-pool/gen/convos/pool/v1/instance_schedule_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { VersionSignalService } from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { SignalSender } from "./signals-sender.js";
import { controlPlaneClient, hostRetrier } from "./control-plane.js";
import { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { type PutStates, VaultSender } from "./vault-sender.js";
import { AgentStateMarkService } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";
import { AgentRuntime } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { Agent } from "../agent/face/agent.js";
import { createInstanceHostService, createInstanceService, pickInstance } from "./routes.js";
import { hostAnswers } from "./restore.js";
import { createInstanceMemoryService } from "../memory/service.js";
import { createInstanceAddressBookService } from "../tools/address-book/service.js";
import { createInstanceApprovalService } from "../tools/approvals/service.js";
import { createInstanceConfirmationService } from "../tools/confirmations/service.js";
import { createInstanceScheduleService } from "./schedules.js";
import { OfflineProvider } from "../model/offline.js";
import { OpenAiProvider, type OpenAiOptions } from "../model/openai.js";
import { HOST_CALLS_WAITING, HOST_MODEL_CALLS, HostModelCalls } from "../model/host-calls.js";
import type { LlmProvider } from "../model/turn.js";
import { LLM_LIMITS } from "../agent/conversation/budget.js";
import { PatternExchange } from "../memory/patterns.js";
import { DEFAULT_DORMANT_AFTER_MS, hostDormancy } from "./group-watch.js";
import { type AgentKeys, seedKeys } from "../platform/keys.js";
import { remoteKeys } from "./keys-client.js";
import { remotePaymentSigner } from "./payment-signer.js";
import { remoteScheduleDesk } from "../tools/schedules/desk.js";
import { startSmsWebhook } from "./sms-webhook.js";
import { SYSTEM_CLOCK } from "../platform/clock.js";
import { DEFAULT_MAX_INSTANCES, type InstanceHostOptions, type LlmOptions } from "./options.js";
import { FILES, listWorkspaces, Workspace, type InstanceRecord } from "../platform/workspace.js";
import { findOpenClaw, openClawDir } from "../openclaw/install.js";
import { Retiree, retireWorkspace } from "./retiree.js";
import { Reviver } from "./reviver.js";
import { OpenClawRuntime } from "../openclaw/runtime.js";

/** The fields of `o` that are set. */
function definedOnly<T extends object>(o: T | undefined): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as never;
}

/** Call options for an InstanceService call to one instance: `client.health({}, instanceCall(id))`. */
export function instanceCall(instanceId: string): { headers: Record<string, string> } {
  return { headers: { [INSTANCE_HEADER]: instanceId } };
}

/**
 * Who may call an instance host: the claims service alone. A host calls one
 * pool service itself, the pattern pool, so its own credential opens that
 * and nothing else (docs/security.md).
 */
export const HOST_ACCESS: AccessPolicy = {
  [InstanceHostService.typeName]: ["claims"],
  [InstanceService.typeName]: ["claims"],
  [InstanceMemoryService.typeName]: ["claims"],
  [InstanceAddressBookService.typeName]: ["claims"],
  [InstanceApprovalService.typeName]: ["claims"],
  [InstanceConfirmationService.typeName]: ["claims"],
  [InstanceScheduleService.typeName]: ["claims"],
};

export interface RunningInstanceHost {
  url: string;
  port: number;
  /** Where the SMS provider posts texts to this host's agents, if it has SMS. */
  smsWebhookUrl?: string;
  /** The instances this host runs (tests, benchmarks). */
  instances: ReadonlyMap<string, Agent>;
  /** Destroyed instances still watching invites that could add them somewhere (host/retiree.ts). */
  retirees: ReadonlyMap<string, Retiree>;
  /** Its OpenClaw runtime, when it runs on OpenClaw (tests, benchmarks: its gateways). */
  runtime?: OpenClawRuntime;
  /** Its pattern exchange, when it has a pattern pool (tests run whole cycles: `cycle()`, then `idle()`). */
  patterns?: PatternExchange;
  /** What sends its agents' counts, when it has a signals URL (tests run a whole pass: `cycle()`). */
  signals?: SignalSender;
  /** What keeps its agents' states off the host, when it has a vault (tests: `flush()`). */
  vault?: VaultSender;
  /** Stops answering, ends streams, closes the server. Workspaces stay. */
  close(): Promise<void>;
}

/** Where its agents' keys come from: the keys service, or (a test of a host alone) a seed in this process. */
function agentKeys(opts: InstanceHostOptions, log: Logger): AgentKeys & { close?: () => void } {
  if (opts.keysUrl) return remoteKeys(opts.keysUrl, opts.credentials, log);
  if (opts.masterSeed) return seedKeys(opts.masterSeed);
  throw new Error("an instance host needs the keys service's URL (keysUrl, POOL_KEYS_URL)");
}

/** The endpoint's options with the host's model calls, one queue for all its agents (model/host-calls.ts). */
function withHostCalls(llm: LlmOptions): OpenAiOptions {
  return {
    ...llm,
    calls: new HostModelCalls(llm.hostCalls ?? HOST_MODEL_CALLS, llm.hostCallsWaiting ?? HOST_CALLS_WAITING),
  };
}

export async function startInstanceHost(opts: InstanceHostOptions): Promise<RunningInstanceHost> {
  const log = opts.log ?? createLogger("instance-host");
  const maxInstances = opts.maxInstances ?? DEFAULT_MAX_INSTANCES;
  const keys = agentKeys(opts, log);
  const poolId = opts.poolId ?? LOCAL_POOL_ID;
  const llm: LlmProvider =
    opts.llmProvider ?? (opts.llm ? new OpenAiProvider(withHostCalls(opts.llm)) : new OfflineProvider());
  const runtime = opts.runtime === "openclaw" ? await openClawRuntime(opts, llm, log) : undefined;
  let resolver: Promise<InboxResolver> | undefined;
  let verifier: Promise<SignatureVerifier> | undefined;
  let releases: Promise<VerifiedReleases> | undefined;
  const inboxResolver = () => (resolver ??= XmtpInboxResolver.connect({ apiUrl: opts.xmtpApiUrl }));
  const instances = new Map<string, Agent>();
  /** A client of `service` at `url` when the host was given one; closed with the host, once its agents stopped. */
  const clients: { close(): void }[] = [];
  // One retry budget for all of them: a busy control plane's refusals are waited out, never multiplied.
  const retrier = hostRetrier(log);
  const clientAt = <S extends DescService>(service: S, url: string | undefined) => {
    if (!url) return undefined;
    const made = controlPlaneClient(service, url, opts.credentials, retrier);
    clients.push(made);
    return made.client;
  };
  const agents = () => instances.values();
  const patternPool = clientAt(PatternPoolService, opts.patternPoolUrl);
  const patterns =
    patternPool &&
    new PatternExchange({ client: patternPool, agents, log, queryIntervalMs: opts.patternQueryIntervalMs });
  const signalClient = clientAt(VersionSignalService, opts.signalsUrl);
  const signals =
    signalClient && new SignalSender({ client: signalClient, agents, log, intervalMs: opts.signalsIntervalMs });
  // Texts to its agents' numbers, handed to the agent that holds the number.
  const sms = opts.tools?.sms
    ? await startSmsWebhook(
        opts.tools.sms,
        (number) =>
          [...instances.values()].find((i) =>
            i.configSnapshot?.tools.some((t) => t.toolId === "sms" && t.handle === number),
          ),
        log,
      )
    : undefined;
  // Where its agents keep what people ask of time (docs/schedules-language.md); none: they keep no time.
  const remoteSchedules =
    !opts.schedules && opts.schedulesUrl ? remoteScheduleDesk(opts.schedulesUrl, opts.credentials) : undefined;
  const schedules = opts.schedules ?? remoteSchedules;
  const paymentSigner = opts.tools?.chain?.signerUrl
    ? remotePaymentSigner(opts.tools.chain.signerUrl, opts.credentials)
    : undefined;
  // The vault's client needs the host's own URL, known once it listens: set below.
  let hostUrl = opts.hostPublicUrl ?? "";
  const vaultClient = opts.vaultPut ? undefined : clientAt(AgentVaultService, opts.vaultUrl);
  const vaultPut: PutStates | undefined =
    opts.vaultPut ??
    (vaultClient && (async (states) => (await vaultClient.putAgentStates({ hostUrl, states })).outcomes));
  const marksClient = clientAt(AgentStateMarkService, opts.stateMarksUrl);
  const vault =
    vaultPut &&
    new VaultSender({
      put: vaultPut,
      ...(marksClient
        ? {
            mark: async (marks) =>
              (await marksClient.putStateMarks({ marks })).outcomes.filter((o) => !o.kept).map((o) => o.instanceId),
          }
        : {}),
      poolId,
      keys,
      dataDir: opts.dataDir,
      log,
      hostUrl: () => hostUrl,
      ...(opts.vaultDebounceMs !== undefined ? { debounceMs: opts.vaultDebounceMs } : {}),
    });
  const dormancy = hostDormancy({
    afterMs: opts.dormantAfterMs ?? DEFAULT_DORMANT_AFTER_MS,
    apiUrl: opts.xmtpApiUrl,
    agents,
    log,
  });
  const deps = {
    ...(opts.signalsPersonKey ? { personKey: opts.signalsPersonKey } : {}),
    dataDir: opts.dataDir,
    xmtpApiUrl: opts.xmtpApiUrl,
    keys,
    llm,
    ...(runtime ? { runtime } : {}),
    log,
    resolver: inboxResolver,
    poolId,
    verifier: () => (verifier ??= inboxResolver().then((r) => new SignatureVerifier({ resolver: r, poolId }))),
    // One for the host: its agents share its process and its trust (docs/security.md).
    releases: () => (releases ??= deps.verifier().then((v) => new VerifiedReleases({ verifier: v }))),
    ...(patterns ? { patterns } : {}),
    ...(dormancy.options ? { dormancy: dormancy.options } : {}),
    ...(vault ? { onWorkspaceWrite: (id: string) => vault.listener(id) } : {}),
    ...(schedules ? { schedules } : {}),
    ...(opts.joinTimeoutMs !== undefined ? { joinTimeoutMs: opts.joinTimeoutMs } : {}),
    llmLimits: { ...LLM_LIMITS, ...definedOnly(opts.llmLimits) },
    ...(opts.tools?.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: opts.tools.approvalTimeoutMs } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.tools?.mailPollMs !== undefined ? { mailPollMs: opts.tools.mailPollMs } : {}),
    tools: {
      ...(opts.tools?.mail ? { mail: opts.tools.mail } : {}),
      ...(opts.tools?.agentmail ? { agentmail: opts.tools.agentmail } : {}),
      ...(opts.tools?.chain
        ? { chain: { rpcUrl: opts.tools.chain.rpcUrl, ...(paymentSigner ? { signer: paymentSigner } : {}) } }
        : {}),
      ...(sms ? { sms: { client: sms.client, ...(sms.profileId ? { profileId: sms.profileId } : {}) } } : {}),
    },
  };

  const retirees = new Map<string, Retiree>();
  const clock = opts.clock ?? SYSTEM_CLOCK;

  function byWalletIndex(index: number): { id: string } | undefined {
    for (const i of [...instances.values(), ...retirees.values()]) if (i.walletIndex === index) return i;
    return undefined;
  }

  /** Watches a retired instance's invites until they expire (host/retiree.ts); a failed start is tried at the next. */
  async function watchRetired(ws: Workspace, record: InstanceRecord): Promise<void> {
    const retiree = new Retiree({ ...deps, clock }, ws, record, () => {
      retirees.delete(record.instanceId);
      keys.forget(record.instanceId);
    });
    retirees.set(record.instanceId, retiree);
    try {
      await retiree.start();
    } catch (err) {
      retirees.delete(record.instanceId);
      await retiree.stop();
      log.warn("a retired instance's watch did not start", { instanceId: record.instanceId, err });
    }
  }

  /**
   * StopInstance with destroy, once the instance is stopped: the workspace
   * goes, unless an invite it asked to join could still add it somewhere;
   * then it retires, watching them.
   */
  async function destroyInstance(id: string): Promise<void> {
    if (retirees.has(id)) return;
    const ws = new Workspace(opts.dataDir, id);
    const retired = await retireWorkspace(ws, clock.now());
    if (!retired) {
      keys.forget(id);
      log.info("instance destroyed", { instanceId: id });
      return;
    }
    log.info("instance destroyed but for the watch of its invites", { instanceId: id, until: retired.retiredUntil });
    await watchRetired(ws, retired);
  }

  /** Starts (or returns the running) instance; refuses a wallet index that another instance uses. */
  async function startInstance(id: string, walletIndex: number): Promise<Agent> {
    if (retirees.has(id)) throw failedPrecondition(`instance ${id} was destroyed`);
    const running = instances.get(id);
    if (running) {
      if (running.walletIndex !== walletIndex) {
        throw failedPrecondition(`instance ${id} runs with wallet index ${running.walletIndex}, not ${walletIndex}`);
      }
      if (running.state === InstanceState.CRASHED) await running.start();
      else await running.ready;
      return running;
    }
    if (instances.size >= maxInstances) {
      throw new ConnectError(
        `this host runs ${instances.size} instances, its limit (maxInstances ${maxInstances}): start it on another host`,
        Code.ResourceExhausted,
      );
    }
    const other = byWalletIndex(walletIndex);
    if (other) throw alreadyExists(`wallet index ${walletIndex} is used by instance ${other.id}`);
    const instance = new Agent(deps, id, walletIndex);
    instances.set(id, instance);
    try {
      await instance.start();
    } catch (err) {
      // A workspace that belongs to another wallet index is not ours to keep listing.
      if (err instanceof ConnectError) instances.delete(id);
      throw err;
    }
    return instance;
  }

  // Crashed agents (a start or a wake the network refused) started again, each after its backoff.
  const reviver = new Reviver({
    agents,
    restart: async (id) => {
      const instance = instances.get(id);
      if (instance) await startInstance(id, instance.walletIndex);
    },
    log,
  });

  // Settled once the workspaces found at start are running again (below).
  let restoreDone!: () => void;
  const restored = new Promise<void>((resolve) => (restoreDone = resolve));

  const { server, lifetime } = await startService(
    {
      name: "instance-host",
      port: opts.port,
      host: opts.host,
      log,
      credentials: opts.credentials,
      access: HOST_ACCESS,
      // The warm pool lists every host every 5 s (each claims replica): a line each only at debug.
      logging: { routine: [`${InstanceHostService.typeName}/${InstanceHostService.method.listInstances.name}`] },
    },
    ({ lifetime }) => {
      // Closed very last, once the agents stopped: what they changed last still goes out, and the clients it went by.
      if (keys.close) lifetime.defer(() => keys.close?.());
      lifetime.defer(() => {
        for (const c of clients) c.close();
      });
      if (vault) lifetime.defer(() => vault.close());
      // Closed last: every agent, then the dormancy watch, then what the agents reached out with.
      lifetime.defer(() =>
        Promise.all(
          [...instances.values()].map((i) =>
            i.stop().catch((err: unknown) => log.warn("instance stop failed", { instanceId: i.id, err })),
          ),
        ).then(() => instances.clear()),
      );
      lifetime.defer(() => Promise.all([...retirees.values()].map((r) => r.stop())).then(() => retirees.clear()));
      // Before the agents stop: none is started again meanwhile.
      lifetime.defer(() => reviver.stop());
      lifetime.defer(() => dormancy.close());
      if (runtime) lifetime.defer(() => runtime.close());
      if (patterns) lifetime.defer(() => patterns.close());
      if (paymentSigner) lifetime.defer(() => paymentSigner.close());
      if (remoteSchedules) lifetime.defer(() => remoteSchedules.close());
      if (signals) lifetime.defer(() => signals.close());
      if (sms) lifetime.defer(() => sms.close());
      const host = {
        keys,
        instances,
        start: startInstance,
        destroy: destroyInstance,
        restored,
        dataDir: opts.dataDir,
        maxInstances,
        runtime: runtime ? AgentRuntime.OPENCLAW : AgentRuntime.POOL,
        llm,
        log,
        poolId,
        ...(marksClient
          ? { marks: async (instanceId: string) => (await marksClient.getStateMark({ instanceId })).mark }
          : {}),
        ownUrl: () => hostUrl,
        answers: (url: string) => hostAnswers(url, opts.credentials),
        verifier: deps.verifier,
      };
      const pick = pickInstance(instances);
      return (router) =>
        router
          .service(InstanceHostService, createInstanceHostService(host))
          .service(InstanceService, createInstanceService(pick))
          .service(InstanceMemoryService, createInstanceMemoryService(pick))
          .service(InstanceAddressBookService, createInstanceAddressBookService(pick))
          .service(InstanceApprovalService, createInstanceApprovalService(pick))
          .service(InstanceConfirmationService, createInstanceConfirmationService(pick))
          .service(InstanceScheduleService, createInstanceScheduleService(pick));
    },
  );
  // How long a dormant agent takes to wake, from the message (or call) that woke it to its client and
  // conversation ready: the answer's own time is the turn's (docs/runbook.md, "Dashboard and alerts").
  const wakeSeconds = server.metrics.histogram(
    "pool_agent_wake_seconds",
    "Wakes of dormant agents: from the message or call that woke one to its client and conversation ready.",
    [],
    [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  if (dormancy.options) dormancy.options.woke = (seconds) => wakeSeconds.observe(seconds);
  // Its agents by state: what the claims service's pool counts, as this host sees it (docs/runbook.md).
  server.metrics.gauge("pool_host_instances", "Agent instances on this host, by state.", ["state"], async (set) => {
    const counts = new Map<string, number>();
    for (const i of instances.values())
      counts.set(InstanceState[i.state], (counts.get(InstanceState[i.state]) ?? 0) + 1);
    for (const [state, n] of counts) set({ state: state.toLowerCase() }, n);
    set({ state: "retired" }, retirees.size);
  });

  // Bring back every instance found in dataDir (not those StopInstance stopped).
  try {
    const found = await listWorkspaces(opts.dataDir);
    const restoring: { id: string; walletIndex: number }[] = [];
    const retired: { ws: Workspace; record: InstanceRecord }[] = [];
    for (const id of found) {
      const ws = new Workspace(opts.dataDir, id);
      const record = await ws.readJson<InstanceRecord>(FILES.instance);
      if (record?.retiredUntil) retired.push({ ws, record });
      else if (record && !record.stopped && Number.isInteger(record.walletIndex))
        restoring.push({ id, walletIndex: record.walletIndex });
    }
    await forEachLimited(retired, opts.restoreConcurrency ?? 8, (r) => watchRetired(r.ws, r.record));
    if (restoring.length > 0) {
      const started = performance.now();
      let failed = 0;
      // A failed start is counted and logged by the instance; the others go on.
      await forEachLimited(restoring, opts.restoreConcurrency ?? 8, async (r) => {
        await startInstance(r.id, r.walletIndex).catch(() => failed++);
      });
      log.info("instances restored", { count: restoring.length, failed, ms: Math.round(performance.now() - started) });
    }
  } finally {
    restoreDone();
  }
  dormancy.start();
  reviver.start();
  hostUrl ||= server.url;
  // The vault keeps states only under a host's own credential, bound to its address (kit's auth.ts): said at start, not at every send.
  const ownHost = opts.credentials.directory.hostOf(opts.credentials.token);
  if (vaultClient && ownHost !== hostUrl)
    log.error(
      ownHost === undefined
        ? "this host's credential is the hosts' shared one: the vault keeps none of its agents' states (give it its own, instance-host@<its address>: docs/security.md)"
        : "this host's credential is another host's: the vault keeps none of its agents' states",
      { hostUrl, credentialHost: ownHost },
    );
  if (!vault) log.warn("no vault (VAULT_URL): agents' states are kept on this host's disk alone, lost with it");
  log.info("instance host running", { instances: instances.size, llm: llm.kind, runtime: runtime?.kind ?? "pool" });

  return {
    url: server.url,
    port: server.port,
    ...(runtime ? { runtime } : {}),
    ...(sms ? { smsWebhookUrl: sms.url } : {}),
    instances,
    retirees,
    ...(patterns ? { patterns } : {}),
    ...(signals ? { signals } : {}),
    ...(vault ? { vault } : {}),
    close: () => lifetime.close(),
  };
}

/** The OpenClaw runtime: its installation checked, and the model endpoint its gateways use. */
async function openClawRuntime(opts: InstanceHostOptions, host: LlmProvider, log: Logger): Promise<OpenClawRuntime> {
  if (!opts.llm)
    throw new Error("the OpenClaw runtime needs a model endpoint (LLM_BASE_URL): its gateways think through it");
  const install = await findOpenClaw(opts.openclawDir ?? openClawDir());
  log.info("openclaw runtime", { dir: install.dir, version: install.version });
  // Spares' state lives only as long as they do: what a host that stopped left is deleted.
  const spareDir = join(opts.dataDir, "openclaw-spares");
  await rm(spareDir, { recursive: true, force: true });
  const runtime = new OpenClawRuntime({
    install,
    upstream: opts.llm,
    host,
    log,
    ...(opts.openclawStartTimeoutMs !== undefined ? { startTimeoutMs: opts.openclawStartTimeoutMs } : {}),
    ...(opts.openclawMaxGateways !== undefined ? { maxGateways: opts.openclawMaxGateways } : {}),
    ...(opts.openclawWarmGateways ? { warmGateways: opts.openclawWarmGateways, spareDir } : {}),
  });
  // Its spares start with the host, so that the first claims and wakes find them ready.
  runtime.warm();
  return runtime;
}
