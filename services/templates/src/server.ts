import {
  StoreCurationService,
  TemplateStandingService,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import {
  TemplateReleaseService,
  TemplateService,
  TemplateUsageService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  type AccessPolicy,
  createLogger,
  DEFAULT_LIMITS,
  DerivedInboxResolver,
  INBOX_ID_PATTERN,
  type InboxResolver,
  type LimitConfig,
  type Logger,
  loggingInterceptor,
  NONCE_KEEP_SECONDS,
  openDatabase,
  pruneNonces,
  serviceAuthInterceptor,
  type ServiceCredentials,
  SIGNATURE_MAX_AGE_SECONDS,
  SignatureVerifier,
  SignerRecoveryPool,
  startServer,
} from "@convos-pool/kit";
import { TemplateRow, TemplateVersionRow } from "./entities.js";
import { migrations } from "./migrations.js";
import { createStoreCurationService } from "./curation.js";
import { createTemplateReleaseService, createTemplateService } from "./service.js";
import { createTemplateStandingService } from "./standing.js";
import { startSyncRelay, type SyncRelay, type SyncRelayOptions } from "./sync-relay.js";
import { createTemplateUsageService, refreshRecentOwners } from "./usage.js";

export interface TemplateServiceOptions {
  /** postgres:// URL; absent: embedded PGlite under `embeddedDir`. */
  databaseUrl?: string;
  embeddedDir?: string;
  port?: number;
  host?: string;
  /** Its own credential (presented to the claims service) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** Who owns which wallet; offline XMTP inbox derivation by default. */
  resolver?: InboxResolver;
  /** Template writes and publishes per creator (docs/limits.md); default DEFAULT_LIMITS. */
  limits?: LimitConfig;
  /** The pool's operators: inbox ids who curate the store (POOL_OPERATORS; docs/store.md). None by default. */
  operators?: readonly string[];
  /**
   * Instruction sync: where new content versions go (the claims service).
   * Absent: the outbox still records them, but nothing sends them.
   */
  sync?: Pick<SyncRelayOptions, "claimsUrl" | "intervalMs" | "concurrency" | "backoff">;
  log?: Logger;
}

export interface RunningTemplateService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Who may call what (docs/security.md): people's requests come through the
 * gateway only; the claims service counts uses and reads what it configures
 * agents with; the lineage service reads who created a template.
 */
export const TEMPLATES_ACCESS: AccessPolicy = {
  [TemplateService.typeName]: ["gateway"],
  [TemplateUsageService.typeName]: ["claims"],
  [TemplateReleaseService.typeName]: ["claims", "lineage"],
  [StoreCurationService.typeName]: ["gateway"],
  [TemplateStandingService.typeName]: ["claims"],
};

/** POOL_OPERATORS: comma-separated XMTP inbox ids; throws naming a malformed one. */
export function parseOperators(text = ""): string[] {
  const ids = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids)
    if (!INBOX_ID_PATTERN.test(id))
      throw new Error(`POOL_OPERATORS: "${id}" is not an XMTP inbox ID (64 lower-case hex characters)`);
  return ids;
}

/** How long a signature stays acceptable, and so how long its nonce must be remembered. */

export async function startTemplateService(opts: TemplateServiceOptions): Promise<RunningTemplateService> {
  const log = opts.log ?? createLogger("templates");
  const db = await openDatabase({
    name: "templates",
    url: opts.databaseUrl,
    embeddedDir: opts.embeddedDir,
    entities: [TemplateRow, TemplateVersionRow],
    migrations,
  });
  const recovery = new SignerRecoveryPool();
  const verifier = new SignatureVerifier({
    resolver: opts.resolver ?? new DerivedInboxResolver(),
    maxAgeSeconds: SIGNATURE_MAX_AGE_SECONDS,
    recover: (params) => recovery.recover(params),
  });
  let relay: SyncRelay | undefined;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const operators = new Set(opts.operators ?? []);
  const service = createTemplateService({
    em: db.em,
    verifier,
    writesPerCreator: limits.templateWritesPerCaller,
    publishesPerCreator: limits.templatePublishesPerCaller,
    operators,
    onContentChange: () => relay?.kick(),
  });
  const server = await startServer({
    name: "templates",
    port: opts.port,
    host: opts.host,
    log,
    interceptors: [loggingInterceptor(log), serviceAuthInterceptor(opts.credentials.directory, TEMPLATES_ACCESS)],
    ...(opts.credentials.tls ? { tls: opts.credentials.tls } : {}),
    routes: (router) =>
      router
        .service(TemplateService, service)
        .service(TemplateUsageService, createTemplateUsageService(db.em))
        .service(TemplateReleaseService, createTemplateReleaseService(db.em))
        .service(StoreCurationService, createStoreCurationService({ em: db.em, verifier, operators }))
        .service(TemplateStandingService, createTemplateStandingService(db.em)),
  });
  // The relay to the claims service: how far behind it is (docs/runbook.md).
  server.metrics.gauge(
    "pool_outbox_oldest_seconds",
    "Age of the oldest event not yet relayed, by outbox (0 when empty).",
    ["outbox"],
    async (set) => {
      const [r] = await db.em
        .fork()
        .execute<{ s: number | null }[]>(
          `select extract(epoch from now() - min(updated_at))::float8 as s from template_sync_outbox`,
        );
      set({ outbox: "template_releases" }, r?.s ?? 0);
    },
  );
  // Nonces older than the signature window can never be replayed: forget them.
  const pruner = setInterval(() => {
    pruneNonces(db.em.fork(), new Date(Date.now() - NONCE_KEEP_SECONDS * 1000)).catch((err: unknown) =>
      log.warn("nonce pruning failed", { err }),
    );
  }, 60_000);
  pruner.unref();
  // "Most used" counts owners within a window that slides by a day at a time.
  const refresh = () =>
    void refreshRecentOwners(db.em.fork()).catch((err: unknown) => log.warn("recent owners not refreshed", { err }));
  refresh();
  const refresher = setInterval(refresh, 3_600_000);
  refresher.unref();
  if (opts.sync) {
    relay = startSyncRelay({ ...opts.sync, em: db.em, credentials: opts.credentials, log });
  } else {
    log.info("instruction sync is off: no claims service configured (CLAIMS_URL); content versions wait in the outbox");
  }
  log.info("templates service listening", { url: server.url, embedded: db.embedded });
  return {
    url: server.url,
    port: server.port,
    async close() {
      clearInterval(pruner);
      clearInterval(refresher);
      await relay?.close();
      await server.close();
      await Promise.all([db.close(), recovery.close()]);
    },
  };
}
