// Runs the gateway on its own (production): configuration from the environment.
//   PORT                 default 8080
//   HOST                 default 0.0.0.0
//   TEMPLATES_URL        the templates service (gRPC over h2c), default http://127.0.0.1:7001
//   CLAIMS_URL           the claims service (gRPC over h2c); absent: claims answer 503 / UNAVAILABLE
//   LINEAGE_URL          the lineage service (gRPC over h2c); absent: lineage answers 503 / UNAVAILABLE
//   POOL_SERVICE_TOKEN   the gateway's own credential, presented to internal services (required)
//   POOL_SERVICE_DIGESTS every service's credential digest (required; docs/security.md)
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL]   internal gRPC over TLS
//   POOL_SESSION_SECRET  HMAC key of session tokens; without it sessions end at every restart
//   DATABASE_URL         postgres:// for the gateway's own table (used login nonces); absent: embedded PGlite
//   CORS_ORIGINS         comma-separated browser origins; default "*"
//   POOL_LIMITS          limits per client address and sign-ins per inbox (docs/limits.md)
//   POOL_TRUSTED_PROXIES addresses of proxies in front of the gateway (their X-Forwarded-For names the client)
//   XMTP_API_URL         the XMTP network: sign-ins are checked against it (without it: inbox derivation only, with a warning)
//   WEB_DIR              the built web app (services/web/dist) to serve at /; absent: the API only
import { createLogger, installShutdownHandlers, limitsFromEnv, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { parseTrustedProxies } from "./limits.js";
import { startGateway } from "./server.js";

const log = createLogger("gateway");
let credentials, limits, trustedProxies;
try {
  credentials = serviceCredentialsFromEnv("gateway");
  limits = limitsFromEnv();
  trustedProxies = parseTrustedProxies(process.env.POOL_TRUSTED_PROXIES);
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
const origins = process.env.CORS_ORIGINS?.trim();
const gateway = await startGateway({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? "0.0.0.0",
  templatesUrl: process.env.TEMPLATES_URL ?? "http://127.0.0.1:7001",
  claimsUrl: process.env.CLAIMS_URL || undefined,
  lineageUrl: process.env.LINEAGE_URL || undefined,
  credentials,
  sessionSecret: process.env.POOL_SESSION_SECRET || undefined,
  databaseUrl: process.env.DATABASE_URL || undefined,
  corsOrigins:
    !origins || origins === "*"
      ? "*"
      : origins
          .split(",")
          .map((o) => o.trim())
          .filter(Boolean),
  limits,
  trustedProxies,
  webDir: process.env.WEB_DIR || undefined,
  // Sign-ins are checked against the XMTP network (XMTP_API_URL), as every other signature.
  resolver: await inboxResolverFromEnv(log),
  log,
});
installShutdownHandlers(log, () => gateway.close());
