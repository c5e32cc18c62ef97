// The claims service as a package: how to run it (server.ts), and the
// secret box its options take a key for.
export {
  CLAIMS_ACCESS,
  startClaimsService,
  type ClaimsServiceOptions,
  type RunningClaimsService,
} from "./server.js";
export { SecretBox, secretAad } from "./tools/secrets.js";
/** What the pool pays for (docs/limits.md): the defaults, and an open budget for tests and benchmarks of other things. */
export {
  DEFAULT_BUDGET,
  OPEN_BUDGET,
  budgetDay,
  budgetFromEnv,
  grantCommand,
  parseBudget,
  type PoolBudget,
} from "./budget/policy.js";
/** How often the service sends its usage counts: what a test waits out to see that none was sent. */
export { USAGE_FLUSH_MS } from "./templates/usage.js";
/** The one query that claims an idle instance: what bench/claims.ts measures the service against. */
export { CLAIM_SQL, claimArgs } from "./claim/sql.js";
/** What a claim answers when no agent is idle, and the attestation key file of a service without one given: what the whole pool's tests check. */
export { NO_IDLE_AGENT } from "./claim/flow.js";
export { DEV_KEY_FILE } from "./badge/keys.js";
/** Schedules' timers as the service starts them, on the service's own tables: what bench/schedules.ts measures. */
export { FIRINGS_QUEUE, startTimers, TIMERS_SCHEMA } from "./schedules/timers.js";
/** When an item fires first and next, as the service decides it: what bench/schedules.ts drives across a daylight-saving change. */
export { firstOccurrence, planFiring } from "./schedules/policy.js";
export { entities as claimsEntities } from "./db/entities.js";
export { migrations as claimsMigrations } from "./schema/migrations.js";
