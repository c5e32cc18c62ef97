// Runs the templates service on its own (production): configuration from the environment.
import { createLogger, installShutdownHandlers } from "@convos-pool/kit";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { startTemplateService } from "./server.js";

const log = createLogger("templates");
const serviceToken = process.env.POOL_SERVICE_TOKEN;
if (!serviceToken) {
  log.error("POOL_SERVICE_TOKEN is required: the credential internal callers present");
  process.exit(2);
}
const service = await startTemplateService({
  databaseUrl: process.env.DATABASE_URL,
  port: Number(process.env.PORT ?? 7001),
  host: process.env.HOST ?? "0.0.0.0",
  serviceToken,
  resolver: await inboxResolverFromEnv(log),
  sync: process.env.CLAIMS_URL ? { claimsUrl: process.env.CLAIMS_URL } : undefined,
  log,
});
installShutdownHandlers(log, () => service.close());
