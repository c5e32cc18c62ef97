// Runs the keys service on its own (production): configuration from the environment.
//   PORT (7005), HOST (0.0.0.0), CLAIMS_URL (required: where each agent runs),
//   POOL_MASTER_SEED (a BIP-39 mnemonic or 32 bytes of hex: every agent's wallet derives from it) or
//   POOL_MASTER_SEED_FILE (a file holding it, a mounted secret), exactly one (seed.ts),
//   POOL_SERVICE_TOKEN (or POOL_SERVICE_TOKEN_FILE) + POOL_SERVICE_DIGESTS (its credential and every
//   service's digest, each host's own among them; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   POOL_METRICS_TOKEN (GET /metrics)
import { runService } from "@convos-pool/kit/service";
import { masterSeedFromEnv } from "./seed.js";
import { startKeysService } from "./server.js";

await runService(
  "keys",
  (env, log) => ({
    port: env.port(7005),
    host: env.host(),
    credentials: env.credentials("keys"),
    claimsUrl: env.required(
      "CLAIMS_URL",
      "the claims service says which host runs each agent, e.g. http://claims:7002",
    ),
    masterSeed: masterSeedFromEnv(env),
    log,
  }),
  startKeysService,
);
