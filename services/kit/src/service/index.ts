// `@convos-pool/kit/service`, the kit's top floor: what needs a database
// (MikroORM). A service's database and migrations, spent signature nonces,
// rate counters every replica shares, and how a service starts and stops
// (runService for a main.ts, startService for a server.ts). Kept apart so
// that code without a database (pure policy and its tests, the CLI) does not
// load the ORM.
export { type Database, type DatabaseOptions, type MigrationEntry, openDatabase } from "./db.js";
export { consumeNonce, CreateSignatureNonces, type NonceUse, pruneNonces, signatureNoncesMigration } from "./nonces.js";
export {
  CreateRateCounters,
  postgresRates,
  pruneRateCounters,
  RATE_COUNTERS_TABLE,
  rateCountersMigration,
} from "./rate-counters.js";
export {
  ConfigError,
  configured,
  Lifetime,
  METRICS_TOKEN_VAR,
  MIN_METRICS_TOKEN_BYTES,
  POOL_ID_VAR,
  pruneRates,
  pruneSpentNonces,
  type RunningService,
  runService,
  ServiceEnv,
  type ServiceFace,
  type ServiceOptions,
  type ServiceScope,
  type StartedService,
  startService,
} from "./run.js";
