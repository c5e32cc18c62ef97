// The lineage service (docs/lineage.md): where agents come from. It owns the
// lineage tables, fed by the claims service's event feed, and answers
// lineage, dashboards and owners' lists; and the pool of learned patterns
// (docs/patterns.md: what a template's agents learned, one more read model of
// the same agents). It never sees memory or summaries.
import { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { PatternInsightsService, PatternPoolService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { TemplateReleaseService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  createLogger,
  createServiceClient,
  loggingInterceptor,
  openDatabase,
  serviceAuthInterceptor,
  startServer,
  type AccessPolicy,
  type Logger,
  type ServiceCredentials,
} from "@convos-pool/kit";
import { entities } from "./entities.js";
import { migrations } from "./migrations.js";
import { createPatternInsightsService } from "./patterns-insights-api.js";
import { createPatternPoolService } from "./patterns-pool-api.js";
import { sweepExpiredPatterns } from "./patterns-queries.js";
import { createLineageEventService, createLineageService, grpcTemplateLookup } from "./service.js";

export interface LineageServiceOptions {
  /** postgres:// URL; absent: embedded PGlite under `embeddedDir`. */
  databaseUrl?: string;
  embeddedDir?: string;
  port?: number;
  host?: string;
  /** Its own credential (presented to the templates service) and whom it recognizes; TLS when configured. */
  credentials: ServiceCredentials;
  /** The templates service: who created a template, and whether it is public. */
  templatesUrl: string;
  /** How often patterns expired long ago are deleted (docs/patterns.md); default hourly. */
  patternSweepMs?: number;
  log?: Logger;
}

export interface RunningLineageService {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** People's reads come through the gateway; the feed from the claims service alone. */
export const LINEAGE_ACCESS: AccessPolicy = {
  [LineageService.typeName]: ["gateway"],
  [LineageEventService.typeName]: ["claims"],
  // Instance hosts speak for the agents they run; people read the pool through the gateway.
  [PatternPoolService.typeName]: ["instance-host"],
  [PatternInsightsService.typeName]: ["gateway"],
};

export async function startLineageService(opts: LineageServiceOptions): Promise<RunningLineageService> {
  const log = opts.log ?? createLogger("lineage");
  const db = await openDatabase({
    name: "lineage",
    url: opts.databaseUrl,
    embeddedDir: opts.embeddedDir,
    entities,
    migrations,
  });
  const templates = createServiceClient(TemplateReleaseService, opts.templatesUrl, opts.credentials);
  const templateLookup = grpcTemplateLookup(templates.client);
  const server = await startServer({
    name: "lineage",
    port: opts.port,
    host: opts.host,
    log,
    interceptors: [loggingInterceptor(log), serviceAuthInterceptor(opts.credentials.directory, LINEAGE_ACCESS)],
    ...(opts.credentials.tls ? { tls: opts.credentials.tls } : {}),
    routes: (router) =>
      router
        .service(LineageService, createLineageService({ em: db.em, templates: templateLookup }))
        .service(LineageEventService, createLineageEventService(db.em))
        .service(PatternPoolService, createPatternPoolService({ em: db.em, templates: templateLookup, log }))
        .service(PatternInsightsService, createPatternInsightsService({ em: db.em, templates: templateLookup })),
  });
  const sweeper = setInterval(() => {
    sweepExpiredPatterns(db.em.fork()).then(
      (swept) => swept > 0 && log.info("expired patterns swept", { swept }),
      (err: unknown) => log.warn("pattern sweep failed", { err }),
    );
  }, opts.patternSweepMs ?? 3_600_000);
  sweeper.unref();
  log.info("lineage service listening", { url: server.url, embedded: db.embedded });
  return {
    url: server.url,
    port: server.port,
    async close() {
      clearInterval(sweeper);
      await server.close();
      templates.close();
      await db.close();
    },
  };
}
