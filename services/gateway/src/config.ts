// The gateway's configuration from its environment (main.ts lists the
// variables): a pure read but for the sign-in inbox's folder, refused with a
// ConfigError naming the variable, so that a deployed gateway stops at start
// (exit 2) and its checks run as unit tests (config.test.ts).
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { inboxResolverFromEnv } from "@convos-pool/convos/resolver";
import { ConfigError, configured, type ServiceEnv } from "@convos-pool/kit/service";
import type { Logger } from "@convos-pool/kit/server";
import { parseTrustedProxies } from "./limits/addresses.js";
import { MIN_SESSION_SECRET_BYTES, originsOf } from "./sessions/service.js";
import type { GatewayOptions } from "./server.js";

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

/** The gateway's options from `env`; a ConfigError names what is wrong. */
export async function gatewayOptions(env: ServiceEnv, log: Logger): Promise<GatewayOptions> {
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
}
