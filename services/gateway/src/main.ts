// Runs the gateway on its own (production): configuration from the environment.
//   PORT                 default 8080
//   HOST                 default 0.0.0.0
//   TEMPLATES_URL        the templates service (gRPC over h2c), default http://127.0.0.1:7001
//   CLAIMS_URL           the claims service (gRPC over h2c); absent: claims answer 503 / UNAVAILABLE
//   POOL_SERVICE_TOKEN   the internal service credential (required)
//   POOL_SESSION_SECRET  HMAC key of session tokens; without it sessions end at every restart
//   DATABASE_URL         postgres:// for the gateway's own table (used login nonces); absent: embedded PGlite
//   CORS_ORIGINS         comma-separated browser origins; default "*"
import { createLogger, installShutdownHandlers } from "@convos-pool/kit";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { startGateway } from "./server.js";

const log = createLogger("gateway");
const serviceToken = process.env.POOL_SERVICE_TOKEN;
if (!serviceToken) {
  log.error("POOL_SERVICE_TOKEN is required: the credential the gateway presents to internal services");
  process.exit(2);
}
const origins = process.env.CORS_ORIGINS?.trim();
const gateway = await startGateway({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? "0.0.0.0",
  templatesUrl: process.env.TEMPLATES_URL ?? "http://127.0.0.1:7001",
  claimsUrl: process.env.CLAIMS_URL || undefined,
  serviceToken,
  sessionSecret: process.env.POOL_SESSION_SECRET || undefined,
  databaseUrl: process.env.DATABASE_URL || undefined,
  corsOrigins: !origins || origins === "*" ? "*" : origins.split(",").map((o) => o.trim()).filter(Boolean),
  log,
});
installShutdownHandlers(log, () => gateway.close());
