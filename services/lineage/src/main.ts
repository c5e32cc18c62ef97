// Runs the lineage service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7004), HOST (0.0.0.0), TEMPLATES_URL (required),
//   XMTP_API_URL (where the creators' signed hold and decisions are checked; docs/patterns.md),
//   PATTERN_QUORUM_OWNERS (3), PATTERN_QUORUM_TEMPLATES (2), PATTERN_QUORUM_CREATORS (2),
//   PATTERN_QUORUM_AGENT_AGE_DAYS (7), PATTERN_QUORUM_ACTIVE_DAYS (3): the pattern pool's quorum,
//   ROLLOUT_WATCH_MAX_OWNER_AGENTS (3), ROLLOUT_WATCH_REAL_USE_DAYS (3), ROLLOUT_WATCH_MIN_CONVERSATIONS (10),
//   ROLLOUT_WATCH_MIN_ANSWERS (200): who the rollout watch counts and how much is enough (docs/rollouts.md);
//     the defaults are a real pool's, and loosening them lets one person halt a rollout,
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS)
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { runService } from "@convos-pool/kit/service";
import { startLineageService } from "./server.js";
import { DEFAULT_WATCH_RULES } from "./signals/rollout.js";

await runService(
  "lineage",
  async (env, log) => ({
    databaseUrl: env.optional("DATABASE_URL"),
    port: env.port(7004),
    host: env.host(),
    credentials: env.credentials("lineage"),
    poolId: env.poolId(),
    templatesUrl: env.required("TEMPLATES_URL", "the templates service says who created a template"),
    patternQuorum: {
      owners: env.int("PATTERN_QUORUM_OWNERS", 3, 1),
      templates: env.int("PATTERN_QUORUM_TEMPLATES", 2, 1),
      creators: env.int("PATTERN_QUORUM_CREATORS", 2, 1),
      agentAgeDays: env.int("PATTERN_QUORUM_AGENT_AGE_DAYS", 7, 0),
      activeDays: env.int("PATTERN_QUORUM_ACTIVE_DAYS", 3, 0),
    },
    watchRules: {
      maxOwnerAgents: env.int("ROLLOUT_WATCH_MAX_OWNER_AGENTS", DEFAULT_WATCH_RULES.maxOwnerAgents, 0),
      realUseDays: env.int("ROLLOUT_WATCH_REAL_USE_DAYS", DEFAULT_WATCH_RULES.realUseDays, 0),
      minSample: {
        conversations: env.int("ROLLOUT_WATCH_MIN_CONVERSATIONS", DEFAULT_WATCH_RULES.minSample.conversations, 1),
        answers: env.int("ROLLOUT_WATCH_MIN_ANSWERS", DEFAULT_WATCH_RULES.minSample.answers, 0),
      },
    },
    resolver: await inboxResolverFromEnv(log),
    log,
  }),
  startLineageService,
);
