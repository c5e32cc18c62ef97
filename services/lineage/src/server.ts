// The lineage service (docs/lineage.md): where agents come from. It owns the
// lineage tables, fed by the claims service's event feed, and answers
// lineage, dashboards and owners' lists; it never sees memory or summaries.
import { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
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
};

export async function startLineageService(opts: LineageServiceOptions): Promise<RunningLineageService> {
  const log = opts.log ?? createLogger("lineage");
  const db = await openDatabase({ name: "lineage", url: opts.databaseUrl, embeddedDir: opts.embeddedDir, entities, migrations });
  const templates = createServiceClient(TemplateReleaseService, opts.templatesUrl, opts.credentials);
  const server = await startServer({
    name: "lineage",
    port: opts.port,
    host: opts.host,
    log,
    interceptors: [loggingInterceptor(log), serviceAuthInterceptor(opts.credentials.directory, LINEAGE_ACCESS)],
    ...(opts.credentials.tls ? { tls: opts.credentials.tls } : {}),
    routes: (router) =>
      router
        .service(LineageService, createLineageService({ em: db.em, templates: grpcTemplateLookup(templates.client) }))
        .service(LineageEventService, createLineageEventService(db.em)),
  });
  log.info("lineage service listening", { url: server.url, embedded: db.embedded });
  return {
    url: server.url,
    port: server.port,
    async close() {
      await server.close();
      templates.close();
      await db.close();
    },
  };
}
