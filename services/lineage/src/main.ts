// Runs the lineage service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7004), HOST (0.0.0.0), TEMPLATES_URL (required),
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS)
import { createLogger, installShutdownHandlers, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { startLineageService } from "./server.js";

const log = createLogger("lineage");
let credentials;
try {
  credentials = serviceCredentialsFromEnv("lineage");
  if (!process.env.TEMPLATES_URL)
    throw new Error("TEMPLATES_URL is required: the templates service says who created a template");
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
const service = await startLineageService({
  databaseUrl: process.env.DATABASE_URL,
  port: Number(process.env.PORT ?? 7004),
  host: process.env.HOST ?? "0.0.0.0",
  credentials,
  templatesUrl: process.env.TEMPLATES_URL,
  log,
});
installShutdownHandlers(log, () => service.close());
