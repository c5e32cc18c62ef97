// Runs the templates service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7001), HOST (0.0.0.0),
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   XMTP_API_URL (creators' signatures checked against the XMTP network),
//   CLAIMS_URL (instruction sync: new content versions are pushed there; ratings ask it who owns agents), POOL_LIMITS (docs/limits.md),
//   LINEAGE_URL (ratings ask it on how many days a rater's agent answered other people: docs/store.md, "Ratings";
//     the watch asks it how each live rollout's versions do: docs/rollouts.md, "It watches and stops itself"),
//   ROLLOUT_WATCH_INTERVAL_MS (600000: how often the watch looks at each live rollout),
//   POOL_OPERATORS (comma-separated inbox ids of the store's operators: docs/store.md)
//   POOL_MODELS (comma-separated models the pool's provider serves, the default first: docs/templates.md, "Models")
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { configured, runService } from "@convos-pool/kit/service";
import { parseOperators, startTemplateService } from "./server.js";
import { parseServedModels } from "./models/policy.js";

await runService(
  "templates",
  async (env, log) => {
    const claimsUrl = env.optional("CLAIMS_URL");
    return {
      databaseUrl: env.optional("DATABASE_URL"),
      port: env.port(7001),
      host: env.host(),
      credentials: env.credentials("templates"),
      poolId: env.poolId(),
      limits: env.limits(),
      operators: configured(() => parseOperators(env.optional("POOL_OPERATORS"))),
      models: configured(() => parseServedModels(env.optional("POOL_MODELS"))),
      resolver: await inboxResolverFromEnv(log),
      ...(claimsUrl ? { sync: { claimsUrl } } : {}),
      lineageUrl: env.optional("LINEAGE_URL"),
      watch: { intervalMs: env.int("ROLLOUT_WATCH_INTERVAL_MS", 600_000, 1_000) },
      log,
    };
  },
  startTemplateService,
);
