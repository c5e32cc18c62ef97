// How every pool service starts and stops: its configuration from the
// environment (runService, for main.ts), and its database, server and
// background jobs with one orderly close (startService, for server.ts). A
// service's own file then says only what is its own: its clients, handlers
// and jobs.
import type { ConnectRouter } from "@connectrpc/connect";
import type { AccessPolicy, Principal, ServiceCredentials } from "../server/auth.js";
import { serviceAuthInterceptor, serviceCredentialsFromEnv } from "../server/auth.js";
import { NONCE_KEEP_SECONDS } from "../content/contract.js";
import { openDatabase, type Database, type DatabaseOptions } from "./db.js";
import { pruneNonces } from "./nonces.js";
import { isPoolId } from "../signing/sign.js";
import { pruneRateCounters } from "./rate-counters.js";
import { limitsFromEnv, type LimitConfig } from "../server/limits.js";
import { createLogger, loggingInterceptor, type Logger, type LoggingOptions } from "../server/log.js";
import { installShutdownHandlers, startServer, type RunningServer, type ServerOptions } from "../server/start.js";
import { startTracing } from "../server/tracing.js";

/** The deployment's id (ServiceEnv.poolId). */
export const POOL_ID_VAR = "POOL_ID";

/** What a deployed service's GET /metrics asks for (server/start.ts), and its least length. */
export const METRICS_TOKEN_VAR = "POOL_METRICS_TOKEN";
export const MIN_METRICS_TOKEN_BYTES = 16;

/** A mistake in a service's configuration: main exits with status 2 and this message. */
export class ConfigError extends Error {}

/** A service process's environment, read with errors that name the variable. */
export class ServiceEnv {
  constructor(readonly vars: NodeJS.ProcessEnv = process.env) {}

  /** The variable, or undefined when it is unset or empty. */
  optional(name: string): string | undefined {
    const v = this.vars[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  }

  required(name: string, what: string): string {
    const v = this.optional(name);
    if (v === undefined) throw new ConfigError(`${name} is required: ${what}`);
    return v;
  }

  /** A secret of at least `minBytes` bytes (UTF-8), or undefined when unset: a short one is refused, naming it. */
  secret(name: string, minBytes: number): string | undefined {
    const v = this.optional(name);
    if (v !== undefined && Buffer.byteLength(v) < minBytes) {
      throw new ConfigError(`${name} must be at least ${minBytes} bytes (openssl rand -hex ${minBytes} makes one)`);
    }
    return v;
  }

  /** A whole number, at least `min`; `fallback` when unset. */
  int(name: string, fallback: number, min?: number): number;
  int(name: string, fallback: undefined, min?: number): number | undefined;
  int(name: string, fallback: number | undefined, min = 0): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be a whole number, at least ${min}`);
    return n;
  }

  /** A comma-separated list, blanks dropped. */
  list(name: string): string[] {
    return (this.optional(name) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** PORT, or the service's default port. */
  port(fallback: number): number {
    return this.int("PORT", fallback, 0);
  }

  /** HOST; every interface by default (a container's service). */
  host(fallback = "0.0.0.0"): string {
    return this.optional("HOST") ?? fallback;
  }

  /** Its own credential and every service's digest (auth.ts). */
  credentials(principal: Principal): ServiceCredentials {
    return configured(() => serviceCredentialsFromEnv(principal, this.vars));
  }

  /**
   * POOL_ID, required: the deployment every signature names (signing/sign.ts
   * signatureDomain), so that one made for another pool is refused here.
   */
  poolId(): string {
    const id = this.required(POOL_ID_VAR, "the id of this deployment, named by every signature (docs/signatures.md)");
    if (!isPoolId(id))
      throw new ConfigError(`${POOL_ID_VAR} must be lower-case letters, digits and inner dashes, at most 63`);
    return id;
  }

  /** POOL_LIMITS (docs/limits.md). */
  limits(): LimitConfig {
    return configured(() => limitsFromEnv(this.vars));
  }
}

/** Runs `read`, turning what it throws into a ConfigError. */
export function configured<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * A service process's main: its options from the environment (a ConfigError
 * exits 2 with its message, before anything starts), then the service,
 * closed on the first SIGINT or SIGTERM.
 */
export async function runService<O, R extends { close(): Promise<unknown> }>(
  name: string,
  configure: (env: ServiceEnv, log: Logger) => O | Promise<O>,
  start: (options: O) => Promise<R>,
): Promise<R> {
  const log = createLogger(name);
  let options: O;
  try {
    const env = new ServiceEnv();
    // A deployed service's metrics are not for anyone who reaches its port (npm start runs services in-process, open on loopback).
    if (env.secret(METRICS_TOKEN_VAR, MIN_METRICS_TOKEN_BYTES) === undefined)
      env.required(METRICS_TOKEN_VAR, "GET /metrics answers only Authorization: Bearer <it>");
    options = await configure(env, log);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error(err.message);
    process.exit(2);
  }
  // Spans go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT names a collector (tracing.ts); the last batch on close.
  const tracing = startTracing(name);
  const running = await start(options);
  installShutdownHandlers(
    log,
    () => running.close(),
    () => tracing?.shutdown(),
  );
  return running;
}

/**
 * What a running service must stop or close, and the jobs it runs in the
 * background: closed once, last opened first.
 */
export class Lifetime {
  private readonly closers: Array<() => unknown> = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /** `close` runs when the lifetime ends, before what was deferred earlier. */
  defer(close: () => unknown): void {
    this.closers.unshift(close);
  }

  /** `job` every `ms` (not keeping the process alive); a failure is logged as "`what` failed". */
  every(ms: number, what: string, job: () => Promise<unknown>): void {
    const run = () => void job().catch((err: unknown) => this.log.warn(`${what} failed`, { err }));
    const timer = setInterval(run, ms);
    timer.unref();
    this.defer(() => clearInterval(timer));
  }

  /** Runs every closer in turn; the first failure is thrown after all have run. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let failure: { err: unknown } | undefined;
      for (const close of this.closers.splice(0)) {
        try {
          await close();
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure) throw failure.err;
    })();
    return this.closing;
  }

  /** For a start that failed half-way: closes what was opened (ignoring its errors) and rethrows. */
  async abandon(err: unknown): Promise<never> {
    await this.close().catch(() => undefined);
    throw err;
  }
}

export interface ServiceOptions {
  name: string;
  port?: number | undefined;
  host?: string | undefined;
  log?: Logger | undefined;
  /** Its credential, whom it recognizes and TLS when configured. */
  credentials?: ServiceCredentials | undefined;
  /** How its RPCs are logged (log.ts). */
  logging?: LoggingOptions | undefined;
  /** Who may call which of its services (auth.ts); absent: a public server (the gateway). */
  access?: AccessPolicy | undefined;
  /** Its own database, opened (and migrated) before the server starts. */
  database?: Omit<DatabaseOptions, "name"> | undefined;
  /** The server's options beyond these (cors, fallback, limits). */
  server?: Partial<
    Pick<ServerOptions, "cors" | "maxRequestBytes" | "shutdownGraceMs" | "metricsToken" | "connections" | "fallbackRpc">
  >;
}

export interface ServiceScope {
  log: Logger;
  lifetime: Lifetime;
}

/** What a service's start hands its callers: where it listens, and its one orderly close (the lifetime's). */
export interface RunningService {
  /** http://host:port */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartedService {
  server: RunningServer;
  log: Logger;
  lifetime: Lifetime;
  /** What server.ts returns to its callers: nothing of the server or the lifetime but their address and close. */
  running: RunningService;
}

type Routes = (router: ConnectRouter) => void;
/** What a service serves: its RPC routes, and its other HTTP paths (the gateway's REST API and web app). */
export type ServiceFace = Routes | { routes: Routes; fallback: NonNullable<ServerOptions["fallback"]> };
type Setup<S> = (scope: S) => Promise<ServiceFace> | ServiceFace;
type WithDatabase = { database: NonNullable<ServiceOptions["database"]> };

/**
 * A service's database, then its server (logging first, then the service
 * credential check when it has an access policy, TLS when configured), with
 * `setup` in between: what it builds from the database for its handlers,
 * returning the routes. Closing the lifetime closes, in order, what setup
 * deferred last first, the server, then the database; a start that fails
 * half-way closes what it opened.
 */
export async function startService(
  opts: ServiceOptions & WithDatabase,
  setup: Setup<ServiceScope & { db: Database }>,
): Promise<StartedService & { db: Database }>;
export async function startService(opts: ServiceOptions, setup: Setup<ServiceScope>): Promise<StartedService>;
export async function startService(
  opts: ServiceOptions,
  setup: Setup<never>,
): Promise<StartedService & { db?: Database | undefined }> {
  const log = opts.log ?? createLogger(opts.name);
  const lifetime = new Lifetime(log);
  const db = opts.database ? await openDatabase({ name: opts.name, ...opts.database }) : undefined;
  if (db) lifetime.defer(() => db.close());
  try {
    const scope: ServiceScope & { db?: Database } = { log, lifetime, ...(db ? { db } : {}) };
    const face = await setup(scope as never);
    const credentials = opts.credentials;
    const server = await startServer({
      ...opts.server,
      name: opts.name,
      port: opts.port,
      host: opts.host,
      log,
      interceptors: [
        loggingInterceptor(log, opts.logging),
        ...(credentials && opts.access ? [serviceAuthInterceptor(credentials.directory, opts.access)] : []),
      ],
      ...(credentials?.tls ? { tls: credentials.tls } : {}),
      ...(typeof face === "function" ? { routes: face } : face),
    });
    lifetime.defer(() => server.close());
    log.info(`${opts.name} service listening`, { url: server.url, embedded: db?.embedded ?? null });
    const running = { url: server.url, port: server.port, close: () => lifetime.close() };
    return { server, log, lifetime, running, ...(db ? { db } : {}) };
  } catch (err) {
    return lifetime.abandon(err);
  }
}

/** Spent nonces past the signature window can never be replayed: forgotten every minute. */
export function pruneSpentNonces(lifetime: Lifetime, db: Database): void {
  lifetime.every(60_000, "nonce pruning", () =>
    pruneNonces(db.em.fork(), new Date(Date.now() - NONCE_KEEP_SECONDS * 1000)),
  );
}

/** Rate counters whose window ended are dropped every five minutes (rate-counters.ts). */
export function pruneRates(lifetime: Lifetime, db: Database): void {
  lifetime.every(300_000, "rate counter pruning", () => pruneRateCounters(db.em.fork()));
}
