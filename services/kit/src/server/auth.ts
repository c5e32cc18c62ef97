// Service-to-service authentication and least privilege (docs/security.md).
//
// Each service of the pool is a principal with its own credential, a random
// token it presents in `x-pool-service-token` on every internal call. A
// server knows every principal by the SHA-256 digest of its token (the
// directory: digests are not credentials, so every service can hold all of
// them), and an access policy in its code says which principals may call
// which of its services. A token it does not know is UNAUTHENTICATED; a known
// principal calling outside its policy is PERMISSION_DENIED.
//
// An instance host may have a credential of its own, bound to its address
// (`instance-host@<url>` in the directory): it is the instance-host principal
// to every access policy, and callerHost() names the host, so that what only
// the host itself may do (keep its own agents' states: the claims service's
// vault) is decided by the credential, never by an address the caller names.
//
// Only the gateway authenticates people. It forwards the caller's XMTP inbox
// ID in `x-pool-caller`, and callerInboxId() returns that header only when
// the call was authenticated as the gateway: the same header from any other
// principal (an instance host, a compromised claims service) is ignored.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { CALLER_HEADER, SERVICE_TOKEN_HEADER } from "../content/contract.js";
import { tlsFromEnv, type TlsConfig } from "./tls.js";

/** The services of the pool, as callers. */
export const PRINCIPALS = ["gateway", "templates", "claims", "lineage", "keys", "instance-host"] as const;
export type Principal = (typeof PRINCIPALS)[number];

const HEALTH_SERVICE = "grpc.health.v1.Health";
const REFLECTION_SERVICE = "grpc.reflection.v1.ServerReflection";
const DIGEST_HEX = /^[0-9a-f]{64}$/;

/** An instance host's own credential, by the address the pool names it by. */
export type HostIdentity = `instance-host@${string}`;

/** The directory's name of the host at `url`. */
export function hostIdentity(url: string): HostIdentity {
  return `instance-host@${url}`;
}

/** The principal whose credential the current call presented; set by serviceAuthInterceptor. */
const principalKey = createContextKey<Principal | undefined>(undefined, { description: "pool service principal" });
/** The host whose own credential the current call presented, if it was one. */
const hostKey = createContextKey<string | undefined>(undefined, { description: "pool instance host" });

/** Whom a credential is: a principal, and for a host's own credential its address. */
interface Holder {
  principal: Principal;
  host?: string;
}

/** Splits a directory name: a principal, or `instance-host@<url>`. */
function holderOf(name: string): Holder | undefined {
  if (name.startsWith("instance-host@")) {
    const host = name.slice("instance-host@".length);
    return host !== "" && !/[\s,]/.test(host) ? { principal: "instance-host", host } : undefined;
  }
  return PRINCIPALS.includes(name as Principal) ? { principal: name as Principal } : undefined;
}

const nameOf = (h: Holder): string => (h.host === undefined ? h.principal : hostIdentity(h.host));

/** SHA-256 of a service token, hex: how the directory knows a token without holding it. */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Every principal's credential digest(s). Parsed from and printed as
 * `gateway=<hex>,templates=<hex>,claims=<hex>,lineage=<hex>,instance-host=<hex>`; a
 * principal may have several (during a rotation), and each instance host one of
 * its own, bound to its address: `instance-host@http://host-1:7100=<hex>`.
 */
export class ServiceDirectory {
  private readonly byDigest = new Map<string, Holder>();

  constructor(entries: Iterable<readonly [Principal | HostIdentity, string]>) {
    for (const [name, digest] of entries) {
      const holder = holderOf(name);
      if (!holder) throw new Error(`service directory: unknown principal "${name}"`);
      if (!DIGEST_HEX.test(digest))
        throw new Error(`service directory: the digest of ${name} is not 64 lower-case hex characters`);
      const other = this.byDigest.get(digest);
      if (other && nameOf(other) !== name)
        throw new Error(`service directory: ${name} and ${nameOf(other)} have the same credential`);
      this.byDigest.set(digest, holder);
    }
  }

  /** Parses the POOL_SERVICE_DIGESTS form; the error names the bad entry, never a digest. */
  static parse(text: string): ServiceDirectory {
    const entries: [Principal | HostIdentity, string][] = [];
    for (const [i, part] of text
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)
      .entries()) {
      // The digest is hex: the last "=" ends the name, whatever a host's address holds.
      const eq = part.lastIndexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq).trim();
      if (eq < 0 || !holderOf(name)) {
        throw new Error(
          `service directory: entry ${i + 1} must be <principal>=<sha256 hex>, principal one of ${PRINCIPALS.join(", ")} or instance-host@<a host's address>`,
        );
      }
      entries.push([
        name as Principal | HostIdentity,
        part
          .slice(eq + 1)
          .trim()
          .toLowerCase(),
      ]);
    }
    return new ServiceDirectory(entries);
  }

  /** The principal whose token this is, if any. */
  principalOf(token: string): Principal | undefined {
    // The lookup is by the digest of a high-entropy secret: its timing tells nothing usable about the token.
    return this.byDigest.get(tokenDigest(token))?.principal;
  }

  /** The host whose own credential this is; undefined for any other (the hosts' shared one included). */
  hostOf(token: string): string | undefined {
    return this.byDigest.get(tokenDigest(token))?.host;
  }

  toString(): string {
    return [...this.byDigest].map(([digest, holder]) => `${nameOf(holder)}=${digest}`).join(",");
  }
}

/** What a service needs to call others: its own token and, when configured, TLS. */
export interface ClientCredentials {
  /** This service's credential. Never logged. */
  token: string;
  tls?: TlsConfig;
}

/** A service's whole identity: its credential, and whom it recognizes. */
export interface ServiceCredentials extends ClientCredentials {
  directory: ServiceDirectory;
}

/**
 * Which principals may call each service a server serves, by the service's
 * full name. A service of the server that is not listed is refused to all;
 * grpc.health.v1.Health is always open (probes).
 */
export type AccessPolicy = Readonly<Record<string, readonly Principal[]>>;

/** Server side: authenticates the calling service and applies the access policy. */
export function serviceAuthInterceptor(directory: ServiceDirectory, policy: AccessPolicy): Interceptor {
  return (next) => async (req) => {
    const service = req.service.typeName;
    if (service === HEALTH_SERVICE || service === REFLECTION_SERVICE) return next(req);
    const given = req.header.get(SERVICE_TOKEN_HEADER);
    const principal = given === null || given === "" ? undefined : directory.principalOf(given);
    // Same answer for missing and wrong: no hint for a guesser.
    if (!principal) throw new ConnectError("missing or invalid service credential", Code.Unauthenticated);
    if (!policy[service]?.includes(principal)) {
      throw new ConnectError(`the ${principal} credential may not call ${service}`, Code.PermissionDenied);
    }
    req.contextValues.set(principalKey, principal);
    req.contextValues.set(hostKey, directory.hostOf(given ?? ""));
    return next(req);
  };
}

/** Client side: adds a service credential to every call of a transport. */
export function serviceCredentialClientInterceptor(token: string): Interceptor {
  if (!token) throw new Error("serviceCredentialClientInterceptor: empty service token");
  return (next) => (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, token);
    return next(req);
  };
}

/**
 * Call options headers that forward the end user's inbox ID (gateway to
 * internal services): `client.getThing(req, { headers: callerHeaders(inboxId) })`.
 */
export function callerHeaders(inboxId: string): Record<string, string> {
  return { [CALLER_HEADER]: inboxId };
}

/** The service that made this call, as serviceAuthInterceptor authenticated it. */
export function callerPrincipal(ctx: HandlerContext): Principal | undefined {
  return ctx.values.get(principalKey);
}

/** The instance host whose own credential made this call (its address), as serviceAuthInterceptor authenticated it. */
export function callerHost(ctx: HandlerContext): string | undefined {
  return ctx.values.get(hostKey);
}

/**
 * The XMTP inbox ID of the person on whose behalf the gateway made this call;
 * undefined when there is none, or when the call was not authenticated as
 * the gateway (see the top of this file).
 */
export function callerInboxId(ctx: HandlerContext): string | undefined {
  if (ctx.values.get(principalKey) !== "gateway") return undefined;
  const v = ctx.requestHeader.get(CALLER_HEADER);
  return v === null || v === "" ? undefined : v;
}

/** A fresh random service token: 32 bytes, base64url. */
export function newServiceToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Every principal's credentials, and each named host's own, all sharing one directory. */
export type ServiceCredentialSet = Record<Principal, ServiceCredentials> & Record<HostIdentity, ServiceCredentials>;

/**
 * A credential for each principal and the directory that knows them all: what
 * `npm start` runs with, and what `npm run -s credentials` prints for a
 * deployment. Each address of `hosts` gets a credential of its own
 * (`set[hostIdentity(url)]`); hosts not named share `set["instance-host"]`.
 */
export function generateServiceCredentials(tls?: TlsConfig, hosts: readonly string[] = []): ServiceCredentialSet {
  const names: (Principal | HostIdentity)[] = [...PRINCIPALS, ...hosts.map(hostIdentity)];
  const tokens = names.map((n) => [n, newServiceToken()] as const);
  const directory = new ServiceDirectory(tokens.map(([n, t]) => [n, tokenDigest(t)] as const));
  return Object.fromEntries(
    tokens.map(([n, token]) => [n, { token, directory, ...(tls ? { tls } : {}) }]),
  ) as ServiceCredentialSet;
}

/**
 * The same set with a credential of its own for the host at `url`, every
 * other token kept: for a harness that learns a host's address (its port)
 * after it made the set. Services started with the old set do not know it.
 */
export function withHostCredential(set: ServiceCredentialSet, url: string): ServiceCredentialSet {
  const identity = hostIdentity(url);
  if (set[identity]) return set;
  const token = newServiceToken();
  const some = set.gateway;
  const directory = ServiceDirectory.parse(`${some.directory.toString()},${identity}=${tokenDigest(token)}`);
  const tls = some.tls;
  return Object.fromEntries([
    ...Object.entries(set).map(([n, c]) => [n, { ...c, directory }]),
    [identity, { token, directory, ...(tls ? { tls } : {}) }],
  ]) as ServiceCredentialSet;
}

/** The own credential of the host at `url` in a set generateServiceCredentials made with it. */
export function hostCredentials(set: ServiceCredentialSet, url: string): ServiceCredentials {
  const c = set[hostIdentity(url)];
  if (!c) throw new Error(`no credential of the host ${url} in this set: name it when the set is made`);
  return c;
}

/**
 * A service's credentials from the environment: POOL_SERVICE_TOKEN (its own),
 * POOL_SERVICE_DIGESTS (the directory) and the TLS variables (tls.ts). The
 * token must be in the directory as `expected`, so that a service started
 * with another's credential says so instead of being refused at every call.
 */
export function serviceCredentialsFromEnv(
  expected: Principal,
  env: NodeJS.ProcessEnv = process.env,
): ServiceCredentials {
  const token = env.POOL_SERVICE_TOKEN || tokenFromFile(env.POOL_SERVICE_TOKEN_FILE);
  if (!token)
    throw new Error(
      `POOL_SERVICE_TOKEN (or POOL_SERVICE_TOKEN_FILE) is required: the ${expected} service's own credential (npm run -s credentials prints a set)`,
    );
  const digests = env.POOL_SERVICE_DIGESTS;
  if (!digests)
    throw new Error(
      "POOL_SERVICE_DIGESTS is required: every service's credential digest (npm run -s credentials prints a set)",
    );
  const directory = ServiceDirectory.parse(digests);
  const principal = directory.principalOf(token);
  if (principal !== expected) {
    throw new Error(
      principal
        ? `POOL_SERVICE_TOKEN is the ${principal} credential, not the ${expected}'s`
        : `POOL_SERVICE_TOKEN is not in POOL_SERVICE_DIGESTS as ${expected}`,
    );
  }
  const tls = tlsFromEnv(env);
  return { token, directory, ...(tls ? { tls } : {}) };
}

/** POOL_SERVICE_TOKEN_FILE's token (a mounted secret: one per pod of a StatefulSet); the error names the file, never its content. */
function tokenFromFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new Error(
      `POOL_SERVICE_TOKEN_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** The environment that gives a service process these credentials (what serviceCredentialsFromEnv reads; TLS not included). */
export function serviceEnv(credentials: ServiceCredentials): {
  POOL_SERVICE_TOKEN: string;
  POOL_SERVICE_DIGESTS: string;
} {
  return { POOL_SERVICE_TOKEN: credentials.token, POOL_SERVICE_DIGESTS: credentials.directory.toString() };
}

/** Compares two secrets in constant time, whatever their lengths (a token against the one expected). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
