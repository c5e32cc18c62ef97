// Runs the keys service on its own (production): configuration from the environment.
//   PORT (7005), HOST (0.0.0.0), CLAIMS_URL (required: where each agent runs),
//   POOL_ID (required, as by every service; a sealed seed opens for its own pool alone),
//   the pool's seed (a BIP-39 mnemonic or 32 bytes of hex: every agent's wallet derives from it), one
//   way of three (seed.ts):
//     POOL_MASTER_SEED               the seed itself (development),
//     POOL_MASTER_SEED_FILE          a mounted secret holding it,
//     POOL_MASTER_SEED_SEALED_FILE   the seed sealed under a key-encryption key (sealed-seed.ts; made by
//                                    npm run -s seal-seed; may sit with the backups), with
//       POOL_KEK_FILE                that key, 32 bytes, a secret mounted apart (deploy/README.md, "Backup
//                                    and restore"),
//   POOL_SERVICE_TOKEN (or POOL_SERVICE_TOKEN_FILE) + POOL_SERVICE_DIGESTS (its credential and every
//   service's digest, each host's own among them; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   POOL_METRICS_TOKEN (GET /metrics)
import { runService } from "@convos-pool/kit/service";
import { masterSeedFromEnv } from "./seed.js";
import { startKeysService } from "./server.js";

await runService(
  "keys",
  async (env, log) => ({
    port: env.port(7005),
    host: env.host(),
    credentials: env.credentials("keys"),
    claimsUrl: env.required(
      "CLAIMS_URL",
      "the claims service says which host runs each agent, e.g. http://claims:7002",
    ),
    masterSeed: await masterSeedFromEnv(env),
    log,
  }),
  startKeysService,
);
