// Runs the templates service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7001), HOST (0.0.0.0),
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   XMTP_API_URL (creators' signatures checked against the XMTP network),
//   CLAIMS_URL (instruction sync: new content versions are pushed there), POOL_LIMITS (docs/limits.md),
//   POOL_OPERATORS (comma-separated inbox ids of the store's operators: docs/store.md)
import { createLogger, installShutdownHandlers, limitsFromEnv, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { parseOperators, startTemplateService } from "./server.js";

const log = createLogger("templates");
let credentials, limits, operators;
try {
  credentials = serviceCredentialsFromEnv("templates");
  limits = limitsFromEnv();
  operators = parseOperators(process.env.POOL_OPERATORS);
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
const service = await startTemplateService({
  databaseUrl: process.env.DATABASE_URL,
  port: Number(process.env.PORT ?? 7001),
  host: process.env.HOST ?? "0.0.0.0",
  credentials,
  limits,
  operators,
  resolver: await inboxResolverFromEnv(log),
  sync: process.env.CLAIMS_URL ? { claimsUrl: process.env.CLAIMS_URL } : undefined,
  log,
});
installShutdownHandlers(log, () => service.close());
