import path from "node:path";
import { AttestationKeyService } from "@convos-pool/gen/convos/pool/v1/attestation_service_pb.js";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AgentMemoryService } from "@convos-pool/gen/convos/pool/v1/agent_memory_service_pb.js";
import { AddressBookService } from "@convos-pool/gen/convos/pool/v1/address_book_service_pb.js";
import { ApprovalService } from "@convos-pool/gen/convos/pool/v1/approval_service_pb.js";
import { ConfirmationService } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { AgentVaultService } from "@convos-pool/gen/convos/pool/v1/agent_vault_service_pb.js";
import { InstancePlacementService } from "@convos-pool/gen/convos/pool/v1/instance_placement_service_pb.js";
import { PaymentSignerService } from "@convos-pool/gen/convos/pool/v1/payment_signer_service_pb.js";
import { TemplateStandingService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TemplateReleaseService, TemplateUsageService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { TemplateOwnershipService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import {
  type AccessPolicy,
  createServiceClient,
  DEFAULT_LIMITS,
  type LimitConfig,
  type Logger,
  type Metrics,
  RateLimit,
  type Rate,
  type ServiceCredentials,
} from "@convos-pool/kit/server";
import {
  type AttestationKeyRing,
  DerivedInboxResolver,
  type InboxResolver,
  SignatureVerifier,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { SIGNATURE_MAX_AGE_SECONDS } from "@convos-pool/kit/content";
import { postgresRates, pruneRates, pruneSpentNonces, startService } from "@convos-pool/kit/service";
import type { EntityManager } from "@mikro-orm/postgresql";
import { Attestations } from "./badge/attestations.js";
import { developmentKeys } from "./badge/keys.js";
import { ClaimFlow } from "./claim/flow.js";
import { ConversationFlow } from "./conversations/flow.js";
import { createConversationService } from "./conversations/service.js";
import { pruneKeys } from "./claim/idempotency-keys.js";
import { createTemplateOwnershipService } from "./claim/ownership.js";
import { entities } from "./db/entities.js";
import { createAgentMemoryService } from "./memory/service.js";
import { createAddressBookService } from "./address-book/service.js";
import { createApprovalService } from "./approvals/service.js";
import { createConfirmationService } from "./confirmations/service.js";
import { migrations } from "./schema/migrations.js";
import { GrpcInstanceHost, PoolManager } from "./pool/manager.js";
import { HostMover } from "./pool/host-mover.js";
import { countUnmovable } from "./pool/lost-hosts.js";
import { hostsCommandOn } from "./pool/host-commands.js";
import { PoolTools } from "./tools/provisioning.js";
import { LocalWalletProvider, openProviders, type ProviderSettings } from "./providers/index.js";
import type { ToolProvider } from "./providers/types.js";
import { GrpcInstanceRuntime } from "./hosts/grpc-runtime.js";
import type { InstanceRuntime } from "./hosts/runtime.js";
import { SecretBox } from "./tools/secrets.js";
import { startLineageRelay, type LineageRelay } from "./sync/lineage-relay.js";
import { createClaimService } from "./claim/service.js";
import { DRAFT_ANSWERS, POOL_ANSWERS } from "./draft/policy.js";
import { createTryDraft } from "./draft/service.js";
import { draftHost } from "./draft/hosts.js";
import { createTemplateSyncService } from "./sync/service.js";
import { grpcTemplateStandings } from "./templates/standings.js";
import { SyncWorker } from "./sync/worker.js";
import { cachedTemplateSource } from "./templates/cache.js";
import { UsageBatcher } from "./templates/usage.js";
import { grpcTemplateSource } from "./templates/release.js";
import { DEFAULT_BUDGET, type PoolBudget } from "./budget/policy.js";
import { MAX_VAULT_REQUEST_BYTES } from "./vault/policy.js";
import { createAgentVaultService } from "./vault/service.js";
import { createInstancePlacementService } from "./placement/service.js";
import { chainIdOf, createPaymentSignerService } from "./signer/service.js";
import { type SchedulesOptions, startSchedules } from "./schedules/start.js";
import { HostScheduleService, ScheduleService } from "@convos-pool/gen/convos/pool/v1/schedule_service_pb.js";

/** Its providers (`ProviderSettings`): local ones unless production ones are named. */
export interface ClaimsServiceOptions extends ProviderSettings {
  /** The pool whose signatures it accepts (POOL_ID, docs/signatures.md); default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** postgres:// URL; absent: embedded PGlite under `embeddedDir`. */
  databaseUrl?: string | undefined;
  embeddedDir?: string | undefined;
  /** Connection pool size (PostgreSQL). */
  poolSize?: number | undefined;
  port?: number | undefined;
  host?: string | undefined;
  /** Its own credential (presented to the templates service and instance hosts) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** Where the template service listens. */
  templatesUrl: string;
  /** POOL_SECRETS_KEY: seals provisioned tools' secrets (SecretBox.fromConfig). */
  secretsKey: string;
  /** Data of the local providers (mailboxes); default `.data/claims`. */
  dataDir?: string | undefined;
  /** Tool providers by tool id (tests); default: the ones the settings name. */
  providers?: Map<string, ToolProvider> | undefined;
  /** How instances are reached; default: gRPC to their instance host. */
  runtime?: InstanceRuntime | undefined;
  /** The studio's test chat answers per creator; default DRAFT_ANSWERS (draft/policy.ts). */
  draftAnswers?: Rate | undefined;
  /**
   * The warm pool: keep `target` instances idle on these instance hosts
   * (InstanceHostService). Absent: no pool manager (instances are registered
   * by someone else, e.g. tests).
   */
  pool?:
    | {
        hostUrls: string[];
        target: number;
        intervalMs?: number | undefined;
        /** HOST_LOST_AFTER_SECONDS (lost-hosts.ts); 0: only an operator marks a host lost. */
        lostAfterSeconds?: number | undefined;
        /** How often the host mover looks for agents to move off lost hosts; default 5 s. */
        moveIntervalMs?: number | undefined;
      }
    | undefined;
  /** A claim's lease (ClaimFlowDeps.claimLeaseSeconds): a claim whose process died is resolved this long after; default 20 s. */
  claimLeaseSeconds?: number | undefined;
  /** How often the sweep runs (claims whose lease ran out, tools to release); default 5 s. */
  sweepIntervalMs?: number | undefined;
  /** How long a template read serves the next claims (templates/cache.ts); default TEMPLATE_CACHE_MS. */
  templateCacheMs?: number | undefined;
  /** Instruction sync: calls in flight at most (default 64), agents of a host per call (default 250), due scan interval (default 1 s). */
  sync?:
    | { concurrency?: number | undefined; batchSize?: number | undefined; scanIntervalMs?: number | undefined }
    | undefined;
  /** Who owns which wallet (requesters' and owners' signatures); offline XMTP inbox derivation by default. */
  resolver?: InboxResolver | undefined;
  /** Claims per caller, the caps per owner and the test chat's answers in all (docs/limits.md); default DEFAULT_LIMITS. */
  limits?: LimitConfig | undefined;
  /**
   * What the pool pays for: which numbers and mailboxes need no grant, the
   * day's budget (docs/limits.md); default DEFAULT_BUDGET (a grant for each).
   */
  budget?: PoolBudget | undefined;
  /**
   * The lineage service, which the lineage outbox is relayed to
   * (lineage-relay.ts). Absent: the outbox keeps its events until one is
   * configured.
   */
  lineageUrl?: string | undefined;
  /**
   * The pool operator's attestation keys (ATTESTATION_KEYS): the verified
   * badge of every claimed agent. Absent: a development key kept in `dataDir`.
   */
  attestationKeys?: AttestationKeyRing | undefined;
  /**
   * How often agents are attested again (default 12 h) and due ones looked
   * for (default 30 s); whether each attestation carries the agent's
   * statement of what it may do, which it posts (default true; docs/statement.md).
   */
  attestation?:
    | { refreshMs?: number | undefined; scanIntervalMs?: number | undefined; statements?: boolean | undefined }
    | undefined;
  log?: Logger | undefined;
  /** Agents' reminders, routines and scheduled acts (docs/schedules.md): their hosts and timers' polling (tests). */
  schedules?: SchedulesOptions | undefined;
}

export interface RunningClaimsService {
  url: string;
  port: number;
  flow: ClaimFlow;
  sync: SyncWorker;
  pool?: PoolManager;
  lineage?: LineageRelay;
  attestations: Attestations;
  /**
   * An operator's host command (pool/host-commands.ts) run by this service on its own
   * database (`npm start`'s terminal: its embedded database has one
   * session); a host marked lost has its agents moved at once. The exit code.
   */
  hostsCommand(args: string[], out: (line: string) => void): Promise<number>;
  close(): Promise<void>;
}

/**
 * Who may call what (docs/security.md): people's requests come through the
 * gateway only; new template versions from the templates service only, and
 * so are questions about who owns agents of a template (ratings).
 */
export const CLAIMS_ACCESS: AccessPolicy = {
  [ClaimService.typeName]: ["gateway"],
  [AgentMemoryService.typeName]: ["gateway"],
  [AddressBookService.typeName]: ["gateway"],
  [ApprovalService.typeName]: ["gateway"],
  [ConfirmationService.typeName]: ["gateway"],
  [TemplateSyncService.typeName]: ["templates"],
  [TemplateOwnershipService.typeName]: ["templates"],
  // Public keys only; the gateway serves them as the JWKS.
  [AttestationKeyService.typeName]: ["gateway"],
  // Agents' sealed states, kept off their hosts: from the hosts alone.
  [AgentVaultService.typeName]: ["instance-host"],
  // Which host runs an agent: for the keys service, which releases its key to that host alone.
  [InstancePlacementService.typeName]: ["keys"],
  // Agents' payments signed for the host that runs each, within its owner's signed limit: from the hosts alone.
  [PaymentSignerService.typeName]: ["instance-host"],
  // Agents' schedules: people's listing and changes through the gateway; made by the host that runs the agent.
  [ScheduleService.typeName]: ["gateway"],
  [HostScheduleService.typeName]: ["instance-host"],
};

export async function startClaimsService(opts: ClaimsServiceOptions): Promise<RunningClaimsService> {
  const secrets = SecretBox.fromConfig(opts.secretsKey);
  let built:
    | { flow: ClaimFlow; sync: SyncWorker; attestations: Attestations; conversations: ConversationFlow }
    | undefined;
  const { server, lifetime, db, log } = await startService(
    {
      name: "claims",
      port: opts.port,
      host: opts.host,
      log: opts.log,
      credentials: opts.credentials,
      access: CLAIMS_ACCESS,
      // Space for a host's batch of sealed agent states (vault/policy.ts).
      server: { maxRequestBytes: MAX_VAULT_REQUEST_BYTES },
      database: { url: opts.databaseUrl, embeddedDir: opts.embeddedDir, poolSize: opts.poolSize, entities, migrations },
    },
    async ({ db, log, lifetime }) => {
      const em = db.em;
      const providers = opts.providers
        ? { current: opts.providers, retired: [new LocalWalletProvider()] }
        : await openProviders({ ...pick(opts), em, dataDir: opts.dataDir ?? path.resolve(".data", "claims") });
      log.info("pool tools' providers", { providers: [...providers.current.values()].map((p) => p.name) });
      const templates = createServiceClient(TemplateReleaseService, opts.templatesUrl, opts.credentials);
      lifetime.defer(() => templates.close());
      const usage = createServiceClient(TemplateUsageService, opts.templatesUrl, opts.credentials);
      lifetime.defer(() => usage.close());
      const standings = createServiceClient(TemplateStandingService, opts.templatesUrl, opts.credentials);
      lifetime.defer(() => standings.close());
      let runtime = opts.runtime;
      if (!runtime) {
        const grpc = new GrpcInstanceRuntime({ credentials: opts.credentials });
        lifetime.defer(() => grpc.close());
        runtime = grpc;
      }
      const freshTemplates = grpcTemplateSource(templates.client);
      // One cache for claims and statements: a statement asks for a read no older than the version it names.
      const templateSource = cachedTemplateSource(freshTemplates, opts.templateCacheMs);
      const keys =
        opts.attestationKeys ?? (await developmentKeys(opts.dataDir ?? path.resolve(".data", "claims"), log));
      const attestations = new Attestations({
        em,
        runtime,
        keys,
        log,
        refreshMs: opts.attestation?.refreshMs,
        scanIntervalMs: opts.attestation?.scanIntervalMs,
        poolId: opts.poolId ?? LOCAL_POOL_ID,
        templates: templateSource,
        statements: opts.attestation?.statements,
      });
      lifetime.defer(() => attestations.stop());
      const schedules = await startSchedules(
        { em, databaseUrl: opts.databaseUrl, credentials: opts.credentials, log },
        opts.schedules,
      );
      lifetime.defer(() => schedules.stop());
      const usageCounts = new UsageBatcher(
        async (templateId, count, ownerIds) => {
          await usage.client.recordTemplateUse({ templateId, count: BigInt(count), ownerIds }, { timeoutMs: 5_000 });
        },
        (templateId, err) => log.warn("usage count not recorded yet", { templateId, err }),
      );
      lifetime.defer(() => usageCounts.close());
      const verifier = new SignatureVerifier({
        resolver: opts.resolver ?? new DerivedInboxResolver(),
        poolId: opts.poolId ?? LOCAL_POOL_ID,
        maxAgeSeconds: SIGNATURE_MAX_AGE_SECONDS,
      });
      // The one owner of pool tools: claims, rollbacks, the sweep and sync provision and release through it.
      const tools = new PoolTools(providers.current, em, secrets, log, providers.retired);
      const flow = new ClaimFlow({
        em,
        verifier,
        limits: opts.limits ?? DEFAULT_LIMITS,
        budget: opts.budget ?? DEFAULT_BUDGET,
        templates: templateSource,
        tools,
        runtime,
        log,
        claimLeaseSeconds: opts.claimLeaseSeconds,
        // The store's "most used" order counts distinct owners.
        recordUse: async (templateId, ownerId) => usageCounts.record(templateId, ownerId),
        claimed: (instance) => attestations.claimed(instance),
      });
      const sync = new SyncWorker({
        em,
        runtime,
        tools,
        withoutGrant: (opts.budget ?? DEFAULT_BUDGET).withoutGrant,
        log,
        concurrency: opts.sync?.concurrency,
        batchSize: opts.sync?.batchSize,
        scanIntervalMs: opts.sync?.scanIntervalMs,
      });
      // Deferred before the server: the server closes first, so no push is accepted that would not be kicked.
      lifetime.defer(() => sync.stop());
      // An agent's conversations added and removed (conversations/flow.ts): its stale additions swept below.
      const conversations = new ConversationFlow({
        em,
        verifier,
        runtime,
        limits: opts.limits ?? DEFAULT_LIMITS,
        log,
      });
      built = { flow, sync, attestations, conversations };
      const agents = runtime;
      return (router) => {
        router.service(
          ClaimService,
          createClaimService({
            em,
            flow,
            // Composed here: conversations/ is a floor above claim/ (docs/claims.md, "Where the code lives").
            conversations: createConversationService(conversations),
            runtime: agents,
            verifier,
            sync,
            templates: freshTemplates,
            standings: grpcTemplateStandings(standings.client, log),
            tryDraft: createTryDraft({
              templates: freshTemplates,
              perCreator: new RateLimit(
                "test chat answers per creator",
                opts.draftAnswers ?? DRAFT_ANSWERS,
                postgresRates(em),
              ),
              perPool: new RateLimit(
                POOL_ANSWERS,
                (opts.limits ?? DEFAULT_LIMITS).testChatAnswersPerPool,
                postgresRates(em),
              ),
              host: draftHost(opts.pool?.hostUrls ?? [], opts.credentials),
            }),
          }),
        );
        // The owner's memory calls, relayed to the agent sealed (docs/memory.md).
        router.service(AgentMemoryService, createAgentMemoryService({ em, verifier, runtime: agents }));
        // The owner's address book, relayed to the agent sealed; the agent checks every signature (docs/address-book.md).
        router.service(AddressBookService, createAddressBookService({ em, verifier, runtime: agents }));
        // The owner answers its questions from outside the conversation; the agent checks every answer (docs/trust.md).
        router.service(ApprovalService, createApprovalService({ em, verifier, runtime: agents }));
        // The owner's steps confirmed in Convos: relayed; the agent asks its owner there and applies (docs/trust.md).
        router.service(ConfirmationService, createConfirmationService({ em, runtime: agents, log }));
        schedules.register(router);
        // Internal: the template service pushes every new content version here.
        router.service(TemplateSyncService, createTemplateSyncService({ em, sync, verifier, log }));
        // Internal: since when an inbox holds an agent of a template (ratings in the store).
        router.service(TemplateOwnershipService, createTemplateOwnershipService(em));
        // Internal: instance hosts keep their agents' sealed states here (docs/scaling.md).
        router.service(AgentVaultService, createAgentVaultService(em));
        // Internal: where each agent runs, for the keys service (docs/security.md, "Agents' keys").
        router.service(InstancePlacementService, createInstancePlacementService(em));
        // Internal: agents' payments, signed here where their keys are kept (docs/security.md, "Agents' money").
        router.service(
          PaymentSignerService,
          createPaymentSignerService({ em, secrets, chainId: chainIdOf(opts.chain?.rpcUrl), log }),
        );
        // Internal: the public attestation keys, which the gateway publishes as the JWKS.
        router.service(AttestationKeyService, {
          listAttestationKeys: () => ({ keys: keys.publicKeys() }),
        });
      };
    },
  );
  if (!built) throw new Error("the claims service started without building its routes");
  const { flow, sync, attestations, conversations } = built;
  poolMetrics(server.metrics, db.em);
  sync.start();
  attestations.start();
  pruneSpentNonces(lifetime, db);
  pruneRates(lifetime, db);
  // And claims' idempotency keys past their day.
  lifetime.every(60_000, "claim key pruning", () => pruneKeys(db.em.fork()));
  lifetime.every(opts.sweepIntervalMs ?? 5_000, "sweep", () => flow.sweep());
  lifetime.every(opts.sweepIntervalMs ?? 5_000, "conversation sweep", () => conversations.sweep());
  // The claims in flight here keep their leases, renewed at a quarter of their length.
  lifetime.every((flow.claimLeaseSeconds * 1000) / 4, "renewing claim leases", () => flow.renewLeases());
  void flow.sweep().catch((err: unknown) => log.warn("sweep failed", { err }));
  let pool: PoolManager | undefined;
  let mover: HostMover | undefined;
  if (opts.pool && opts.pool.hostUrls.length > 0) {
    const hosts = opts.pool.hostUrls.map((url) => new GrpcInstanceHost(url, opts.credentials));
    lifetime.defer(() => {
      for (const h of hosts) h.close();
    });
    const moves = moveMetrics(server.metrics);
    mover = new HostMover({
      em: db.em,
      hosts,
      log,
      intervalMs: opts.pool.moveIntervalMs,
      onMoved: (seconds) => {
        moves.moved.inc();
        moves.seconds.observe(seconds);
      },
      onSyncDue: () => sync.kick(),
    });
    pool = new PoolManager({
      em: db.em,
      hosts,
      target: opts.pool.target,
      intervalMs: opts.pool.intervalMs,
      lostAfterSeconds: opts.pool.lostAfterSeconds,
      log,
      // Instances back from a crash or an unreachable host: their pending updates go now.
      onSyncDue: () => sync.kick(),
      onHostLost: () => mover?.kick(),
    });
    const manager = pool;
    const moving = mover;
    lifetime.defer(() => manager.stop());
    lifetime.defer(() => moving.stop());
    manager.start();
    moving.start();
  }
  let lineage: LineageRelay | undefined;
  if (opts.lineageUrl) {
    const relay = startLineageRelay({ em: db.em, lineageUrl: opts.lineageUrl, credentials: opts.credentials, log });
    lifetime.defer(() => relay.close());
    lineage = relay;
  } else {
    log.info("lineage is off: no lineage service configured (LINEAGE_URL); its events wait in the outbox");
  }
  return {
    url: server.url,
    port: server.port,
    flow,
    sync,
    ...(pool ? { pool } : {}),
    ...(lineage ? { lineage } : {}),
    attestations,
    async hostsCommand(args, out) {
      const code = await hostsCommandOn(db.em.fork(), args, opts.pool?.hostUrls ?? [], out);
      if (code === 0 && args[0] === "lost") mover?.kick();
      return code;
    },
    close: () => lifetime.close(),
  };
}

/** The moves off lost hosts (host-mover.ts), counted as they happen (docs/runbook.md). */
function moveMetrics(metrics: Metrics) {
  return {
    moved: metrics.counter("pool_agents_moved_total", "Claimed agents moved off hosts lost for good.", []),
    seconds: metrics.histogram(
      "pool_agent_move_seconds",
      "From a host marked lost to each of its agents restored on another host.",
      [],
      [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    ),
  };
}

/** The provider settings of the options, and nothing else. */
function pick(opts: ProviderSettings): ProviderSettings {
  const { smsRange, emailDomain, telnyx, agentmail, chain } = opts;
  return { smsRange, emailDomain, telnyx, agentmail, chain };
}

/**
 * What an operator watches besides RPCs (docs/runbook.md): instances by
 * state, agents due for an update, the lineage outbox, claims in flight.
 * Claims per second are the Claim RPCs' rate.
 */
function poolMetrics(metrics: Metrics, em: EntityManager): void {
  const query = <T>(sql: string) => em.fork().execute<T[]>(sql);
  metrics.gauge("pool_instances", "Agent instances by state (idle: the warm pool).", ["state"], async (set) => {
    for (const r of await query<{ state: string; n: number }>(
      `select state, count(*)::int as n from instances group by state`,
    ))
      set({ state: r.state }, r.n);
  });
  metrics.gauge(
    "pool_sync_backlog",
    "Live agents due for a template update they have not applied yet.",
    [],
    async (set) => {
      const [r] = await query<{ n: number }>(
        `select count(*)::int as n from instances where sync_next_at is not null and state = 'claimed'`,
      );
      set({}, r?.n ?? 0);
    },
  );
  metrics.gauge("pool_sync_failing", "Live agents whose last update delivery failed.", [], async (set) => {
    const [r] = await query<{ n: number }>(
      `select count(*)::int as n from instances where sync_error is not null and state = 'claimed'`,
    );
    set({}, r?.n ?? 0);
  });
  metrics.gauge(
    "pool_outbox_oldest_seconds",
    "Age of the oldest event not yet relayed, by outbox (0 when empty).",
    ["outbox"],
    async (set) => {
      const [r] = await query<{ s: number | null }>(
        `select extract(epoch from now() - min(at))::float8 as s from lineage_outbox`,
      );
      set({ outbox: "lineage" }, r?.s ?? 0);
    },
  );
  metrics.gauge("pool_hosts_lost", "Instance hosts marked lost for good (lost-hosts.ts).", [], async (set) => {
    const [r] = await query<{ n: number }>(`select count(*)::int as n from instance_hosts where lost_at is not null`);
    set({}, r?.n ?? 0);
  });
  metrics.gauge(
    "pool_agents_unmovable",
    "Claimed agents on lost hosts with no sealed state kept: they cannot be moved.",
    [],
    async (set) => set({}, await countUnmovable(em.fork())),
  );
  metrics.gauge(
    "pool_claims_in_flight_oldest_seconds",
    "Age of the oldest claim in flight (0 when none); past the lease, its process died.",
    [],
    async (set) => {
      const [r] = await query<{ s: number | null }>(
        `select extract(epoch from now() - min(coalesce(claim_renewed_at, claim_started_at)))::float8 as s from instances where state = 'claiming'`,
      );
      set({}, r?.s ?? 0);
    },
  );
}
