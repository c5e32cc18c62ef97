// The lineage service (docs/lineage.md): where agents come from. It owns the
// lineage tables, fed by the claims service's event feed, and answers
// lineage, dashboards and owners' lists; the pool of learned patterns
// (docs/patterns.md: what a template's agents learned, one more read model of
// the same agents); the agents' signed day counts (docs/signals.md), and
// from them, for the templates service, on how many days an owner's agent
// answered others (activity/), and how a live rollout's versions do
// (signals/watch.ts). It never sees memory or summaries.
import { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { OwnerActivityService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { PatternInsightsService, PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import {
  VersionSignalInsightsService,
  VersionSignalService,
} from "@convos-pool/gen/convos/pool/v1/signal_service_pb.js";
import { TemplateReleaseService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { RolloutWatchService } from "@convos-pool/gen/convos/pool/v1/rollout_watch_service_pb.js";
import { DerivedInboxResolver, SignatureVerifier, type InboxResolver, LOCAL_POOL_ID } from "@convos-pool/kit/signing";
import { createServiceClient, type AccessPolicy, type Logger, type ServiceCredentials } from "@convos-pool/kit/server";
import { startService, type RunningService } from "@convos-pool/kit/service";
import { entities } from "./db/entities.js";
import { migrations } from "./db/migrations.js";
import { createPatternInsightsService } from "./patterns/insights.js";
import { createPatternPoolService } from "./patterns/service.js";
import { checkQuorum, DEFAULT_QUORUM, type Quorum } from "./patterns/policy.js";
import { sweepExpiredPatterns } from "./patterns/sql.js";
import { createLineageEventService, createLineageService, grpcTemplateLookup } from "./lineage/service.js";
import { createVersionSignalInsightsService, createVersionSignalService } from "./signals/service.js";
import { createRolloutWatchService } from "./signals/watch.js";
import { type WatchRules, checkWatchRules } from "./signals/rollout.js";
import { createStateMarkService } from "./marks/service.js";
import { createOwnerActivityService } from "./activity/service.js";
import { AgentStateMarkService } from "@convos-pool/gen/convos/pool/v1/state_mark_service_pb.js";

export interface LineageServiceOptions {
  /** The pool whose signatures it accepts (POOL_ID, docs/signatures.md); default LOCAL_POOL_ID. */
  poolId?: string | undefined;
  /** postgres:// URL; absent: embedded PGlite under `embeddedDir`. */
  databaseUrl?: string | undefined;
  embeddedDir?: string | undefined;
  port?: number | undefined;
  host?: string | undefined;
  /** Its own credential (presented to the templates service) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** The templates service: who created a template, and whether it is public. */
  templatesUrl: string;
  /** How often patterns expired long ago are deleted (docs/patterns.md); default hourly. */
  patternSweepMs?: number | undefined;
  /** What a lesson needs before it reaches anyone (patterns/policy.ts Quorum); what is left out is DEFAULT_QUORUM's. */
  patternQuorum?: Partial<Quorum> | undefined;
  /**
   * Who the rollout watch counts and how much is enough (signals/rollout.ts
   * WatchRules); what is left out is DEFAULT_WATCH_RULES', the pool's. Only a
   * demo or test stack loosens them: one machine, a few people, minutes.
   * Checked at start (checkWatchRules): a bad rule stops the service.
   */
  watchRules?: Partial<WatchRules> | undefined;
  /** Who owns a wallet, for the creators' signed hold and decisions; default: derivation only (tests). */
  resolver?: InboxResolver | undefined;
  log?: Logger | undefined;
}

export type RunningLineageService = RunningService;

/** People's reads come through the gateway; the feed from the claims service alone. */
export const LINEAGE_ACCESS: AccessPolicy = {
  [LineageService.typeName]: ["gateway"],
  [LineageEventService.typeName]: ["claims"],
  // Instance hosts speak for the agents they run; people read the pool through the gateway.
  [PatternPoolService.typeName]: ["instance-host"],
  [PatternInsightsService.typeName]: ["gateway"],
  // Hosts carry their agents' counts; the agent's own signature is what makes a report count.
  [VersionSignalService.typeName]: ["instance-host"],
  [VersionSignalInsightsService.typeName]: ["gateway"],
  // Hosts carry their agents' marks and read one before a restore; the agent's signature makes a mark.
  [AgentStateMarkService.typeName]: ["instance-host"],
  // The templates service asks, before an owner rates, on how many days their agent answered others.
  [OwnerActivityService.typeName]: ["templates"],
  // The templates service asks how a live rollout's versions do, and halts it on the answer.
  [RolloutWatchService.typeName]: ["templates"],
};

export async function startLineageService(opts: LineageServiceOptions): Promise<RunningLineageService> {
  const watchRules = checkWatchRules(opts.watchRules);
  const { running } = await startService(
    {
      name: "lineage",
      port: opts.port,
      host: opts.host,
      log: opts.log,
      credentials: opts.credentials,
      access: LINEAGE_ACCESS,
      database: { url: opts.databaseUrl, embeddedDir: opts.embeddedDir, entities, migrations },
    },
    ({ db, log, lifetime }) => {
      const em = db.em;
      const templates = createServiceClient(TemplateReleaseService, opts.templatesUrl, opts.credentials);
      lifetime.defer(() => templates.close());
      const templateLookup = grpcTemplateLookup(templates.client);
      const quorum = checkQuorum({ ...DEFAULT_QUORUM, ...opts.patternQuorum });
      const verifier = new SignatureVerifier({
        resolver: opts.resolver ?? new DerivedInboxResolver(),
        poolId: opts.poolId ?? LOCAL_POOL_ID,
      });
      lifetime.every(opts.patternSweepMs ?? 3_600_000, "pattern sweep", async () => {
        const swept = await sweepExpiredPatterns(em.fork());
        if (swept > 0) log.info("expired patterns swept", { swept });
      });
      return (router) =>
        router
          .service(LineageService, createLineageService({ em, templates: templateLookup }))
          .service(LineageEventService, createLineageEventService(em))
          .service(PatternPoolService, createPatternPoolService({ em, templates: templateLookup, log, quorum }))
          .service(
            PatternInsightsService,
            createPatternInsightsService({ em, templates: templateLookup, verifier, quorum, log }),
          )
          .service(VersionSignalService, createVersionSignalService({ em, verifier, log }))
          .service(AgentStateMarkService, createStateMarkService({ em, verifier, log }))
          .service(VersionSignalInsightsService, createVersionSignalInsightsService({ em, templates: templateLookup }))
          .service(OwnerActivityService, createOwnerActivityService(em))
          .service(RolloutWatchService, createRolloutWatchService({ em, rules: watchRules }));
    },
  );
  return running;
}
