// Runs the gateway on its own (production): configuration from the environment.
//   PORT                 default 8080
//   HOST                 default 0.0.0.0
//   TEMPLATES_URL        the templates service (gRPC over h2c), default http://127.0.0.1:7001
//   CLAIMS_URL           the claims service (gRPC over h2c); absent: claims answer 503 / UNAVAILABLE
//   LINEAGE_URL          the lineage service (gRPC over h2c); absent: lineage answers 503 / UNAVAILABLE
//   POOL_ID (required) the deployment every signature names (docs/signatures.md)
//   POOL_SERVICE_TOKEN   the gateway's own credential, presented to internal services (required)
//   POOL_SERVICE_DIGESTS every service's credential digest (required; docs/security.md)
//   POOL_TLS_CERT, POOL_TLS_KEY, POOL_TLS_CA [, POOL_TLS_MUTUAL]   internal gRPC over TLS
//   POOL_SESSION_SECRET  HMAC key of session tokens, at least 32 bytes; without it sessions end at every restart
//   POOL_METRICS_TOKEN   what GET /metrics asks for (Authorization: Bearer), at least 16 bytes (required, as for every service)
//   DATABASE_URL         postgres:// for the gateway's own table (used login nonces); absent: embedded PGlite
//   POOL_PUBLIC_URL      comma-separated URLs people reach the gateway at (https://pool.example): a sign-in
//                        must name one of their origins; absent: only its loopback address (a warning)
//   CORS_ORIGINS         comma-separated browser origins; default "*"
//   POOL_LIMITS          limits per client address and sign-ins per inbox (docs/limits.md)
//   POOL_TRUSTED_PROXIES addresses of proxies in front of the gateway (their X-Forwarded-For names the client)
//   XMTP_API_URL         the XMTP network: sign-ins are checked against it (without it: inbox derivation only, with a warning)
//   POOL_SIGN_IN_KEY     the pool's sign-in inbox's wallet key (0x and 64 hex digits): Sign in with Convos,
//                        on the node at XMTP_API_URL; absent: wallets only. Set it on one replica.
//   POOL_SIGN_IN_DB      that inbox's XMTP database file; default .data/gateway-sign-in/xmtp.db3
//   WEB_DIR              the built web app (services/web/dist) to serve at /; absent: the API only
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { ConfigError, configured, runService } from "@convos-pool/kit/service";
import { parseTrustedProxies } from "./limits/addresses.js";
import { MIN_SESSION_SECRET_BYTES, originsOf } from "./sessions/service.js";
import { startGateway } from "./server.js";

/** POOL_PUBLIC_URL's URLs, refused at start when one is not an http(s) URL. */
function publicUrls(urls: string[]): string[] {
  try {
    originsOf(urls);
  } catch (err) {
    throw new Error(`POOL_PUBLIC_URL: ${(err as Error).message}`);
  }
  return urls;
}

/** The sign-in inbox's settings, refused at start when the key is malformed or there is no node to reach. */
async function signInInbox(key: string | undefined, apiUrl: string | undefined, dbPath: string | undefined) {
  if (!key) return undefined;
  // Never echo the key: say only what is wrong with it.
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new ConfigError("POOL_SIGN_IN_KEY: must be 0x and 64 hex digits");
  if (!apiUrl) throw new ConfigError("POOL_SIGN_IN_KEY needs XMTP_API_URL: the node the sign-in inbox listens on");
  const path = dbPath ?? join(".data", "gateway-sign-in", "xmtp.db3");
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return { apiUrl, privateKey: key as `0x${string}`, dbPath: path };
}

await runService(
  "gateway",
  async (env, log) => {
    const origins = env.optional("CORS_ORIGINS")?.trim();
    return {
      port: env.port(8080),
      host: env.host(),
      templatesUrl: env.optional("TEMPLATES_URL") ?? "http://127.0.0.1:7001",
      claimsUrl: env.optional("CLAIMS_URL"),
      lineageUrl: env.optional("LINEAGE_URL"),
      credentials: env.credentials("gateway"),
      poolId: env.poolId(),
      sessionSecret: env.secret("POOL_SESSION_SECRET", MIN_SESSION_SECRET_BYTES),
      databaseUrl: env.optional("DATABASE_URL"),
      publicUrls: configured(() => publicUrls(env.list("POOL_PUBLIC_URL"))),
      corsOrigins: !origins || origins === "*" ? ("*" as const) : env.list("CORS_ORIGINS"),
      limits: env.limits(),
      trustedProxies: configured(() => parseTrustedProxies(env.optional("POOL_TRUSTED_PROXIES"))),
      webDir: env.optional("WEB_DIR"),
      signInInbox: await signInInbox(
        env.optional("POOL_SIGN_IN_KEY"),
        env.optional("XMTP_API_URL"),
        env.optional("POOL_SIGN_IN_DB"),
      ),
      // Sign-ins are checked against the XMTP network (XMTP_API_URL), as every other signature.
      resolver: await inboxResolverFromEnv(log),
      log,
    };
  },
  startGateway,
);
