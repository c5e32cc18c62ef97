import { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
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
  DEFAULT_LIMITS,
  type LimitConfig,
  type Logger,
  type ServiceCredentials,
} from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  type InboxResolver,
  SignatureVerifier,
  SignerRecoveryPool,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { INBOX_ID_PATTERN, SIGNATURE_MAX_AGE_SECONDS } from "@convos-pool/kit/content";
import { pruneRates, pruneSpentNonces, startService, type RunningService } from "@convos-pool/kit/service";
import { TemplateRow, TemplateVersionRow } from "./db/entities.js";
import { migrations } from "./db/migrations.js";
import { createStoreCurationService } from "./curation/service.js";
import { createTemplateService } from "./template/service.js";
import { createRolloutService } from "./rollout/service.js";
import { grpcRolloutWatch, startRolloutWatch, type RolloutWatchDeps } from "./rollout/watch.js";
import { createTemplateReleaseService } from "./release/service.js";
import { grpcActivity } from "./ratings/activity.js";
import { grpcOwnership } from "./ratings/ownership.js";
import { createRatingServices } from "./ratings/service.js";
import { createTemplateStandingService } from "./curation/standing.js";
import { startSyncRelay, type SyncRelay, type SyncRelayOptions } from "./sync/relay.js";
import { createTemplateUsageService, refreshRecentOwners } from "./usage/service.js";

export interface TemplateServiceOptions {
  /** The pool whose signatures it accepts (POOL_ID, docs/signatures.md); default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** postgres:// URL; absent: embedded PGlite under `embeddedDir`. */
  databaseUrl?: string | undefined;
  embeddedDir?: string | undefined;
  port?: number | undefined;
  host?: string | undefined;
  /** Its own credential (presented to the claims and lineage services) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** Who owns which wallet; offline XMTP inbox derivation by default. */
  resolver?: InboxResolver | undefined;
  /** Template writes and publishes per creator (docs/limits.md); default DEFAULT_LIMITS. */
  limits?: LimitConfig | undefined;
  /** The pool's operators: inbox ids who curate the store (POOL_OPERATORS; docs/store.md). None by default. */
  operators?: readonly string[] | undefined;
  /** The models a template may name (POOL_MODELS; docs/templates.md, "Models"); default DEFAULT_SERVED_MODELS. */
  models?: readonly string[] | undefined;
  /**
   * Instruction sync: where new content versions go (the claims service).
   * Absent: the outbox still records them, but nothing sends them.
   */
  sync?: Pick<SyncRelayOptions, "claimsUrl" | "intervalMs" | "concurrency" | "backoff"> | undefined;
  /**
   * The claims service, asked whether a rater owns an agent of the template
   * (docs/store.md, "Ratings"); default `sync.claimsUrl`. Absent both: no
   * ratings can be made (UNAVAILABLE); reading them works.
   */
  claimsUrl?: string | undefined;
  /**
   * The lineage service, asked on how many days a rater's agent answered
   * other people (docs/store.md, "Ratings"). Absent: no owner can rate
   * (UNAVAILABLE, once the claims service's rules are met); reading works.
   */
  lineageUrl?: string | undefined;
  /**
   * The pool's watch over live rollouts (docs/rollouts.md, "It watches and
   * stops itself"), which asks the lineage service: how often it looks
   * (default 10 minutes), and whom it asks (default the lineage service at
   * `lineageUrl`; a test's stand-in). Without either, nothing is watched.
   */
  watch?: Partial<Pick<RolloutWatchDeps, "intervalMs" | "source" | "timeoutMs">> | undefined;
  log?: Logger | undefined;
}

export type RunningTemplateService = RunningService;

/**
 * Who may call what (docs/security.md): people's requests (templates,
 * rollouts, the store) come through the gateway only; the claims service counts uses and reads what it configures
 * agents with; the lineage service reads who created a template.
 */
export const TEMPLATES_ACCESS: AccessPolicy = {
  [TemplateService.typeName]: ["gateway"],
  // People's: the creator's signed changes, and reads by the creator signed in (rollout/service.ts).
  [RolloutService.typeName]: ["gateway"],
  [TemplateUsageService.typeName]: ["claims"],
  [TemplateReleaseService.typeName]: ["claims", "lineage"],
  [StoreCurationService.typeName]: ["gateway"],
  [TemplateRatingService.typeName]: ["gateway"],
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

export async function startTemplateService(opts: TemplateServiceOptions): Promise<RunningTemplateService> {
  const { server, db, running } = await startService(
    {
      name: "templates",
      port: opts.port,
      host: opts.host,
      log: opts.log,
      credentials: opts.credentials,
      access: TEMPLATES_ACCESS,
      database: {
        url: opts.databaseUrl,
        embeddedDir: opts.embeddedDir,
        entities: [TemplateRow, TemplateVersionRow],
        migrations,
      },
    },
    ({ db, log, lifetime }) => {
      const em = db.em;
      const recovery = new SignerRecoveryPool();
      lifetime.defer(() => recovery.close());
      const verifier = new SignatureVerifier({
        resolver: opts.resolver ?? new DerivedInboxResolver(),
        poolId: opts.poolId ?? LOCAL_POOL_ID,
        maxAgeSeconds: SIGNATURE_MAX_AGE_SECONDS,
        recover: (params) => recovery.recover(params),
      });
      const limits = opts.limits ?? DEFAULT_LIMITS;
      const operators = new Set(opts.operators ?? []);
      let relay: SyncRelay | undefined;
      if (opts.sync) {
        const running = startSyncRelay({ ...opts.sync, em, credentials: opts.credentials, log });
        lifetime.defer(() => running.close());
        relay = running;
      } else {
        log.info(
          "instruction sync is off: no claims service configured (CLAIMS_URL); content versions wait in the outbox",
        );
      }
      pruneSpentNonces(lifetime, db);
      pruneRates(lifetime, db);
      // "Most used" counts owners within a window that slides by a day at a time.
      const refresh = () => refreshRecentOwners(em.fork());
      lifetime.every(3_600_000, "refreshing recent owners", refresh);
      void refresh().catch((err: unknown) => log.warn("refreshing recent owners failed", { err }));
      const claimsUrl = opts.claimsUrl ?? opts.sync?.claimsUrl;
      const ownership = claimsUrl ? grpcOwnership(claimsUrl, opts.credentials) : undefined;
      if (ownership) lifetime.defer(() => ownership.close());
      const activity = opts.lineageUrl ? grpcActivity(opts.lineageUrl, opts.credentials) : undefined;
      if (activity) lifetime.defer(() => activity.close());
      else log.info("ratings are off: no lineage service configured (LINEAGE_URL); reading them works");
      const rating = createRatingServices({ em, verifier, operators, ownership, activity });
      const templateDeps = {
        em,
        verifier,
        writesPerCreator: limits.templateWritesPerCaller,
        publishesPerCreator: limits.templatePublishesPerCaller,
        operators,
        models: opts.models,
        onContentChange: () => relay?.kick(),
      };
      const service = createTemplateService(templateDeps);
      const watchSource =
        opts.watch?.source ?? (opts.lineageUrl ? grpcRolloutWatch(opts.lineageUrl, opts.credentials) : undefined);
      if (watchSource) {
        if (!opts.watch?.source) lifetime.defer(() => watchSource.close());
        const watch = startRolloutWatch({
          ...opts.watch,
          em,
          log,
          source: watchSource,
          onContentChange: () => relay?.kick(),
        });
        lifetime.defer(() => watch.close());
      } else {
        log.info("rollouts are not watched: no lineage service configured (LINEAGE_URL); none halts by itself");
      }
      return (router) =>
        router
          .service(TemplateService, service)
          .service(RolloutService, createRolloutService(templateDeps))
          .service(TemplateUsageService, createTemplateUsageService(em))
          .service(TemplateReleaseService, createTemplateReleaseService(em, opts.models))
          .service(StoreCurationService, {
            ...createStoreCurationService({ em, verifier, operators }),
            ...rating.curation,
          })
          .service(TemplateRatingService, rating.ratings)
          .service(TemplateStandingService, createTemplateStandingService(em));
    },
  );
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
  return running;
}
