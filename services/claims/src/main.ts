// Runs the claims service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7002), HOST, TEMPLATES_URL, POOL_SECRETS_KEY,
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   POOL_DATA_DIR (local providers' data, default .data/claims),
//   INSTANCE_HOST_URLS (comma-separated instance hosts; with them the warm pool runs), POOL_TARGET_IDLE (default 10),
//   SYNC_CONCURRENCY (template updates delivered at once, default 64),
//   CLAIM_LEASE_SECONDS (a claim whose process died is resolved this long after, default 20), XMTP_API_URL (requesters' and owners' signatures
//   checked against it), POOL_LIMITS (claims per caller, caps per owner: docs/limits.md),
//   LINEAGE_URL (the lineage service, fed from the lineage outbox),
//   the pool tools' providers (providers/env.ts; docs/tools.md, "Production providers"):
//     SMS_PROVIDER local [SMS_NUMBER_RANGE] | telnyx (SMS_API_KEY [, SMS_API_URL, SMS_COUNTRY, SMS_MESSAGING_PROFILE_ID]),
//     EMAIL_PROVIDER local | agentmail (AGENTMAIL_API_KEY [, AGENTMAIL_API_URL]) [, EMAIL_DOMAIN],
//     CHAIN_RPC_URL + CHAIN_FAUCET_KEY [+ CHAIN_FUND_WEI] (agents' wallets on that chain, funded from the faucet;
//     absent: wallets are generated keys, unfunded)
import path from "node:path";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { createLogger, installShutdownHandlers, limitsFromEnv, serviceCredentialsFromEnv } from "@convos-pool/kit";
import { providerSettingsFromEnv } from "./providers/env.js";
import { startClaimsService } from "./server.js";

const log = createLogger("claims");
const required = (name: string, what: string): string => {
  const v = process.env[name];
  if (!v) {
    log.error(`${name} is required: ${what}`);
    process.exit(2);
  }
  return v;
};
let credentials, limits, providers;
try {
  credentials = serviceCredentialsFromEnv("claims");
  limits = limitsFromEnv();
  providers = providerSettingsFromEnv(process.env);
} catch (err) {
  log.error((err as Error).message);
  process.exit(2);
}
const lease = process.env.CLAIM_LEASE_SECONDS ? Number(process.env.CLAIM_LEASE_SECONDS) : undefined;
if (lease !== undefined && !(Number.isInteger(lease) && lease >= 4)) {
  log.error("CLAIM_LEASE_SECONDS must be a whole number of seconds, at least 4 (renewed every quarter of it)");
  process.exit(2);
}
const templatesUrl = required("TEMPLATES_URL", "where the template service listens, e.g. http://templates:7001");
const secretsKey = required(
  "POOL_SECRETS_KEY",
  "32 random bytes (64 hex characters) that seal provisioned tools' secrets",
);
const service = await startClaimsService({
  databaseUrl: process.env.DATABASE_URL,
  port: Number(process.env.PORT ?? 7002),
  host: process.env.HOST ?? "0.0.0.0",
  credentials,
  limits,
  templatesUrl,
  secretsKey,
  dataDir: path.resolve(process.env.POOL_DATA_DIR ?? ".data/claims"),
  ...providers,
  pool: process.env.INSTANCE_HOST_URLS
    ? {
        hostUrls: process.env.INSTANCE_HOST_URLS.split(",")
          .map((u) => u.trim())
          .filter(Boolean),
        target: Number(process.env.POOL_TARGET_IDLE ?? 10),
      }
    : undefined,
  sync: process.env.SYNC_CONCURRENCY ? { concurrency: Number(process.env.SYNC_CONCURRENCY) } : undefined,
  ...(lease ? { claimLeaseSeconds: lease } : {}),
  resolver: await inboxResolverFromEnv(log),
  lineageUrl: process.env.LINEAGE_URL || undefined,
  log,
});
installShutdownHandlers(log, () => service.close());
