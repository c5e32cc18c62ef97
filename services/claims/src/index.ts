// The claims service as a package: how to run it (server.ts), and the
// secret box its options take a key for.
export {
  CLAIMS_ACCESS,
  startClaimsService,
  type ClaimsServiceOptions,
  type RunningClaimsService,
} from "./server.js";
export { SecretBox } from "./secrets.js";
/** The one statement that claims an idle instance: what bench/claims.ts measures the service against. */
export { CLAIM_SQL } from "./claim/claim-sql.js";
