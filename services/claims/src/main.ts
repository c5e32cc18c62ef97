// Runs the claims service on its own (production): configuration from the environment.
//   DATABASE_URL, PORT (7002), HOST, TEMPLATES_URL, POOL_SECRETS_KEY,
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN + POOL_SERVICE_DIGESTS (its credential and every service's digest; docs/security.md),
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL] (internal gRPC over TLS),
//   POOL_DATA_DIR (local providers' data, default .data/claims),
//   INSTANCE_HOST_URLS (comma-separated instance hosts; with them the warm pool runs), POOL_TARGET_IDLE (default 10),
//   HOST_LOST_AFTER_SECONDS (a host silent this long is lost for good and its agents move: default 1800; 0: only
//   when an operator marks it; docs/scaling.md),
//   SYNC_CONCURRENCY (template updates delivered at once, default 64),
//   CLAIM_LEASE_SECONDS (a claim whose process died is resolved this long after, default 20), XMTP_API_URL (requesters' and owners' signatures
//   checked against it), POOL_LIMITS (claims per caller, caps per owner, the test chat's
//   answers in all: docs/limits.md),
//   LINEAGE_URL (the lineage service, fed from the lineage outbox),
//   ATTESTATION_KEYS (the operator's Ed25519 attestation keys: a JSON list of {kid, pem, exp?}, the last one
//   signing; or ATTESTATION_KEYS_FILE, a file of that JSON; absent: a development key under POOL_DATA_DIR),
//   the pool tools' providers (providers/env.ts; docs/tools.md, "Production providers"):
//     SMS_PROVIDER local [SMS_NUMBER_RANGE] | telnyx (SMS_API_KEY [, SMS_API_URL, SMS_COUNTRY, SMS_MESSAGING_PROFILE_ID]),
//     EMAIL_PROVIDER local | agentmail (AGENTMAIL_API_KEY [, AGENTMAIL_API_URL]) [, EMAIL_DOMAIN],
//     CHAIN_RPC_URL + CHAIN_FAUCET_KEY (agents' wallets on that chain, funded from the faucet only under an
//     operator's grant; absent: wallets are generated keys, unfunded),
//   what the pool pays for (docs/limits.md): POOL_BUDGET (funds.day=<wei>, tools.day=<n>: the day's budget in all),
//   POOL_TOOLS_WITHOUT_GRANT (sms,email: numbers and mailboxes for every template; none by default)
import { readFile } from "node:fs/promises";
import path from "node:path";
import { AttestationKeyRing } from "@convos-pool/kit/signing";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { configured, runService } from "@convos-pool/kit/service";
import { DEFAULT_HOST_LOST_AFTER_SECONDS } from "./pool/lost-hosts.js";
import { budgetFromEnv } from "./budget/policy.js";
import { providerSettingsFromEnv } from "./providers/env.js";
import { startClaimsService } from "./server.js";

await runService(
  "claims",
  async (env, log) => {
    const hostUrls = env.list("INSTANCE_HOST_URLS");
    const syncConcurrency = env.int("SYNC_CONCURRENCY", undefined, 1);
    const lease = env.int("CLAIM_LEASE_SECONDS", undefined, 4); // renewed every quarter of it
    const lineageUrl = env.optional("LINEAGE_URL");
    const keysFile = env.optional("ATTESTATION_KEYS_FILE");
    const keysJson = env.optional("ATTESTATION_KEYS") ?? (keysFile ? await readFile(keysFile, "utf8") : undefined);
    return {
      databaseUrl: env.optional("DATABASE_URL"),
      port: env.port(7002),
      host: env.host(),
      credentials: env.credentials("claims"),
      poolId: env.poolId(),
      limits: env.limits(),
      budget: configured(() => budgetFromEnv(env.vars)),
      templatesUrl: env.required("TEMPLATES_URL", "where the template service listens, e.g. http://templates:7001"),
      secretsKey: env.required(
        "POOL_SECRETS_KEY",
        "32 random bytes (64 hex characters) that seal provisioned tools' secrets",
      ),
      dataDir: path.resolve(env.optional("POOL_DATA_DIR") ?? ".data/claims"),
      ...configured(() => providerSettingsFromEnv(env.vars)),
      ...(hostUrls.length > 0
        ? {
            pool: {
              hostUrls,
              target: env.int("POOL_TARGET_IDLE", 10),
              lostAfterSeconds: env.int("HOST_LOST_AFTER_SECONDS", DEFAULT_HOST_LOST_AFTER_SECONDS),
            },
          }
        : {}),
      ...(syncConcurrency !== undefined ? { sync: { concurrency: syncConcurrency } } : {}),
      ...(lease !== undefined ? { claimLeaseSeconds: lease } : {}),
      resolver: await inboxResolverFromEnv(log),
      ...(lineageUrl ? { lineageUrl } : {}),
      ...(keysJson ? { attestationKeys: AttestationKeyRing.fromJson(keysJson) } : {}),
      log,
    };
  },
  startClaimsService,
);
