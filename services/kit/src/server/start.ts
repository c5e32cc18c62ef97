// The server every pool service runs: Connect, gRPC and gRPC-Web on one port,
// over HTTP/1.1 (browsers, connect-web, curl) and cleartext HTTP/2 with prior
// knowledge (gRPC clients). A Connect server on plain HTTP/2 refuses HTTP/1.1
// clients (docs/server-kit.md), so a TCP listener looks at the first bytes
// of each connection and hands it to the right Node server. With TLS
// configured, one secure HTTP/2 server takes both, chosen by ALPN. What one
// connection may hold of the server is bounded (connection-limits.ts).

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type * as tls from "node:tls";
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  cors as connectCors,
} from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ConnectionGate, connectionLimitsOf, type ConnectionLimits } from "./connection-limits.js";
import { databaseAwayInterceptor } from "./db-away.js";
import { boundedErrorsInterceptor } from "./bounded-errors.js";
import { HealthState, registerHealth } from "./health.js";
import { limitsFromEnv } from "./limits.js";
import type { AdmissionOptions } from "./overload/admission.js";
import { admissionFromEnv } from "./overload/config.js";
import { deadlineClock, runWithDeadline, timeoutOf } from "./overload/deadline.js";
import { entryAdmission, type Entry } from "./overload/entry.js";
import { admissionGate, admittedAtEntry } from "./overload/interceptor.js";
import { admitRest, type RestRpcOf } from "./overload/rest.js";
import { answerScrape, Metrics, metricsInterceptor } from "./metrics.js";
import { parseErrorsAsInvalidArgument } from "./parse-errors.js";
import { drainUnreadRequests } from "./unread-requests.js";
import { registerReflection } from "./reflection.js";
import { inServerSpan, tracingServerInterceptor } from "./tracing.js";
import type { Logger } from "./log.js";
import type { TlsConfig } from "./tls.js";

export type ServerRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ServerResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface ServerOptions {
  /** Service name for logs. */
  name: string;
  /** 0 or absent: a free port. */
  port?: number | undefined;
  /** Default "127.0.0.1". */
  host?: string | undefined;
  routes: (router: ConnectRouter) => void;
  /**
   * Applied to every RPC, the health service included, outermost first.
   * Put loggingInterceptor(log) first so refused calls are logged too.
   */
  interceptors?: Interceptor[] | undefined;
  /** Browser access (CORS) for Connect / gRPC-Web over HTTP/1.1 and HTTP/2. */
  cors?: { allowedOrigins: string[] | "*" } | undefined;
  /**
   * Non-RPC HTTP paths (the gateway's REST API). Return true when handled.
   * Called for requests Connect does not route; CORS headers are already set.
   * Unhandled requests get 404, a throw gets 500 (both as JSON {code, message}).
   */
  fallback?: ((req: ServerRequest, res: ServerResponse) => Promise<boolean> | boolean) | undefined;
  /**
   * The RPC a `fallback` request's route calls (`Service/Method`), by its
   * method and path: the admission judges the request as that RPC
   * (criticality.ts); undefined: `default` (overload/rest.ts).
   */
  fallbackRpc?: RestRpcOf | undefined;
  log: Logger;
  /** Largest RPC request message; default DEFAULT_MAX_REQUEST_BYTES. */
  maxRequestBytes?: number | undefined;
  /** How long close() lets in-flight requests finish; default 5000 ms. */
  shutdownGraceMs?: number | undefined;
  /** Serve over TLS (https://), with client certificates required when `mutual`. */
  tls?: TlsConfig | undefined;
  /**
   * GET /metrics answers only `Authorization: Bearer <token>` when set;
   * default POOL_METRICS_TOKEN from the environment, else open (an internal
   * port). A public server (the gateway) should have one.
   */
  metricsToken?: string | undefined;
  /**
   * Caps on connections per client address and in all, the deadline of a
   * connection's first request, the idle timeout of HTTP/2 sessions
   * (docs/server-kit.md). Default: the `connections.*` entries of
   * POOL_LIMITS from the environment, or their defaults.
   */
  connections?: ConnectionLimits | undefined;
  /**
   * The admission at the server's entry: a concurrency limit learned from
   * latency, a queue bounded in time, criticality, deadlines
   * (docs/server-kit.md, "Overload"). Default: POOL_ADMISSION from the
   * environment, or its defaults; false lets every call in at once.
   */
  admission?: Partial<AdmissionOptions> | false | undefined;
}

/** The TCP peer of the request's connection; handlers read it with peerAddress(ctx). */
const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "TCP peer address" });

/** The address the request came from (the TCP peer: a proxy in front of the server, if any). */
export function peerAddress(ctx: HandlerContext): string | undefined {
  return ctx.values.get(peerAddressKey);
}

/** The same for a request of a `fallback` handler. */
export function peerAddressOf(req: ServerRequest): string | undefined {
  return req.socket?.remoteAddress;
}

export interface RunningServer {
  port: number;
  /** http://host:port, or https:// with TLS */
  url: string;
  health: HealthState;
  /** Its Prometheus metrics (GET /metrics): RPCs by method and code, and what the service adds. */
  metrics: Metrics;
  /** Idempotent; always resolves within about shutdownGraceMs + 1 s. */
  close(): Promise<void>;
}

/** 1 MiB + 64 KiB: space for 256 KiB instructions as JSON plus the rest of a request. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024 + 64 * 1024;
const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
/** After the grace period, streaming handlers get this long to react to the abort. */
const STREAM_ABORT_MS = 250;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

// CORS header lists: Connect's own (cors from @connectrpc/connect) plus what
// the pool's REST paths and auth use.
export const CORS_ALLOWED_METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE", "OPTIONS"];
export const CORS_ALLOWED_HEADERS = unique([
  ...connectCors.allowedHeaders,
  "Grpc-Timeout",
  "Authorization",
  "If-Match",
  "If-None-Match",
]);
export const CORS_EXPOSED_HEADERS = unique([
  ...connectCors.exposedHeaders,
  "Grpc-Status-Details-Bin",
  "ETag",
  "Location",
  "Retry-After",
]);

interface Conn {
  /** "pending" until the first bytes told which protocol it speaks. */
  kind: "pending" | "h1" | "h2";
  /** HTTP/1 requests in progress on this socket. */
  active: number;
}

interface InFlight {
  /** Streaming RPCs (e.g. Health/Watch) may never end by themselves. */
  streaming: boolean;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log;
  const host = opts.host ?? "127.0.0.1";
  const graceMs = opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const health = new HealthState();
  const metrics = new Metrics(opts.name);
  const metricsToken = opts.metricsToken ?? process.env.POOL_METRICS_TOKEN ?? "";
  // Aborting this aborts ctx.signal of every running handler.
  const shutdown = new AbortController();
  const connectionLimits = opts.connections ?? connectionLimitsOf(limitsFromEnv());
  const cut = metrics.counter(
    "pool_connections_cut_total",
    "Connections refused at accept (a cap reached) or cut (no first request in time, an idle HTTP/2 session), by reason.",
    ["reason"],
  );
  const gate = new ConnectionGate(connectionLimits, (reason, address) => {
    cut.inc({ reason });
    log.debug("connection cut", { reason, address });
  });
  metrics.gauge("pool_connections_open", "Connections open now (HTTP/1.1, and HTTP/2 sessions).", [], async (set) =>
    set({}, gate.open),
  );

  const admission = opts.admission ?? admissionFromEnv();
  const entry = admission === false ? undefined : admissionGate(opts.name, admission, metrics);

  const streamingPaths = new Set<string>();
  const unaryCalls = new Map<string, { service: string; method: string }>();
  // Unary calls are judged in the request handler, before Connect reads them (overload/entry.ts).
  const door: Entry | undefined = entry && entryAdmission(entry, unaryCalls, metrics);
  const serviceNames = new Set<string>();
  const rpcHandler = connectNodeAdapter({
    routes(router) {
      registerHealth(router, health);
      opts.routes(router);
      registerReflection(router, () => [...new Set(router.handlers.map((h) => h.service))]);
      // A request that does not decode is the caller's INVALID_ARGUMENT, naming where (parse-errors.ts);
      // one refused before it was read to its end does not cost its connection (unread-requests.ts).
      const readMaxBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
      router.handlers.splice(
        0,
        router.handlers.length,
        ...router.handlers.map((h) => drainUnreadRequests(parseErrorsAsInvalidArgument(h, readMaxBytes))),
      );
      for (const h of router.handlers) {
        if (h.method.methodKind !== "unary") streamingPaths.add(h.requestPath);
        else unaryCalls.set(h.requestPath, { service: h.service.typeName, method: h.method.name });
        serviceNames.add(h.service.typeName);
      }
    },
    // Errors cut to a size every protocol can carry (bounded-errors.ts), after the service's own interceptors logged them whole.
    // A database away is UNAVAILABLE to the caller (db-away.ts), as the service's logging interceptor sees it too.
    // The RPC's span outermost: its log line and everything the handler does are in it (tracing.ts).
    // Admission before the service's own interceptors, for the calls the entry left to Connect.
    interceptors: [
      tracingServerInterceptor(opts.name),
      metricsInterceptor(metrics),
      boundedErrorsInterceptor(),
      ...(entry ? [entry.interceptor] : []),
      ...(opts.interceptors ?? []),
      databaseAwayInterceptor(),
    ],
    readMaxBytes: opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    shutdownSignal: shutdown.signal,
    contextValues: (req) =>
      createContextValues().set(peerAddressKey, peerAddressOf(req)).set(admittedAtEntry, door?.admittedOf(req)),
    fallback: (req, res) => void runFallback(req, res as ServerResponse),
  });

  async function runFallback(req: ServerRequest, res: ServerResponse): Promise<void> {
    try {
      if (pathOf(req) === "/metrics" && req.method === "GET")
        return await answerScrape(metrics, metricsToken, req, res);
      // A REST path is a server span of its own, by its method alone: a path may name ids, never its query.
      // It is admitted as the RPC its route calls, before its body is read (overload/rest.ts).
      const { fallback } = opts;
      const serve = () => Promise.resolve(fallback ? fallback(req, res) : false);
      if (
        fallback &&
        (await inServerSpan(
          `HTTP ${req.method}`,
          req.headers,
          { "http.request.method": req.method, "pool.service": opts.name },
          () =>
            entry ? admitRest(entry, opts.fallbackRpc, req, res, pathOf(req), serve) : withRestDeadline(req, serve),
        ))
      )
        return;
      if (!res.headersSent)
        sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${pathOf(req)}` });
    } catch (err) {
      log.error("fallback handler failed", { method: req.method, path: pathOf(req), err });
      if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      else res.end();
    }
  }

  // ---- bookkeeping for graceful shutdown ----
  let closing = false;
  const conns = new Map<net.Socket, Conn>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const inflight = new Set<InFlight>();
  let onInflightChange: (() => void) | undefined;

  function onRequest(req: ServerRequest, res: ServerResponse): void {
    gate.requestArrived(req.socket);
    const entry: InFlight = { streaming: streamingPaths.has(pathOf(req)) };
    inflight.add(entry);
    const h1Socket = req instanceof http.IncomingMessage ? req.socket : undefined;
    const conn = h1Socket ? conns.get(h1Socket) : undefined;
    if (conn) conn.active++;
    res.once("close", () => {
      inflight.delete(entry);
      if (conn && h1Socket) {
        conn.active--;
        // A keep-alive socket that became idle during shutdown is not reused.
        if (closing && conn.active === 0) h1Socket.end();
      }
      onInflightChange?.();
    });
    if (closing && res instanceof http.ServerResponse) res.setHeader("Connection", "close");
    if (opts.cors && applyCors(req, res, opts.cors.allowedOrigins)) return;
    if (door) door.handle(req, res, () => rpcHandler(req, res));
    else rpcHandler(req, res);
  }

  const h1 = http.createServer((req, res) => onRequest(req, res));
  const h2 = opts.tls
    ? http2.createSecureServer(
        {
          allowHTTP1: true,
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.ca,
          requestCert: Boolean(opts.tls.mutual),
          rejectUnauthorized: Boolean(opts.tls.mutual),
          // The handshake is part of the first request's deadline (120 s by default in Node).
          ...(connectionLimits.firstRequestMs !== undefined
            ? { handshakeTimeout: connectionLimits.firstRequestMs }
            : {}),
        },
        (req, res) => onRequest(req, res),
      )
    : http2.createServer((req, res) => onRequest(req, res));
  h1.on("clientError", (err, socket) => {
    log.debug("http/1 client error", { err });
    socket.destroy();
  });
  h2.on("session", (session) => {
    sessions.add(session);
    gate.watch(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", (err) => log.debug("http/2 session error", { err }));
    if (closing) session.close();
  });

  function track(socket: net.Socket, kind: Conn["kind"]): Conn {
    const conn: Conn = { kind, active: 0 };
    conns.set(socket, conn);
    socket.once("close", () => conns.delete(socket));
    return conn;
  }

  let listener: net.Server;
  if (opts.tls) {
    // The secure server reads ALPN itself: h2, or HTTP/1.1 on the same port.
    const secure = h2 as http2.Http2SecureServer;
    // Connections are counted from their accept (a handshake counts against
    // the first request's deadline), tracked for shutdown from their handshake on.
    secure.on("connection", (socket: net.Socket) => {
      socket.on("error", () => {});
      if (closing) socket.destroy();
      else gate.admit(socket);
    });
    secure.on("secureConnection", (socket: tls.TLSSocket) => {
      const raw = (socket as unknown as { _parent?: net.Socket | null })._parent;
      if (raw) gate.carry(raw, socket);
      track(socket, socket.alpnProtocol === "h2" ? "h2" : "h1");
    });
    secure.on("tlsClientError", (err) => log.debug("tls client error", { err }));
    listener = secure;
  } else {
    listener = net.createServer({ noDelay: true }, (socket) => {
      if (closing) {
        socket.destroy();
        return;
      }
      if (!gate.admit(socket)) return;
      const conn = track(socket, "pending");
      // Errors are handled by the HTTP servers once they own the socket; until
      // then (and in between) an unhandled 'error' would crash the process.
      socket.on("error", () => {});
      sniff(socket, (isH2) => {
        conn.kind = isH2 ? "h2" : "h1";
        if (isH2) {
          // The HTTP/2 session drains the unshifted bytes itself, then reads the handle.
          h2.emit("connection", socket);
        } else {
          // The HTTP/1 parser reads 'data' events: the paused socket must flow again.
          h1.emit("connection", socket);
          socket.resume();
        }
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(opts.port ?? 0, host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  listener.on("error", (err) => log.error("listener error", { err }));

  const port = (listener.address() as net.AddressInfo).port;
  const url = `${opts.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  health.set("", true);
  for (const name of serviceNames) health.set(name, true);
  log.info("server listening", { service: opts.name, url, services: [...serviceNames] });

  let closed: Promise<void> | undefined;

  async function doClose(): Promise<void> {
    closing = true;
    const started = Date.now();
    const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
    // Probes see NOT_SERVING first; Watch streams get that status, then end.
    health.setAllNotServing();
    health.close();
    // GOAWAY: open HTTP/2 sessions finish their streams but start no new ones.
    for (const session of sessions) session.close();
    for (const [socket, conn] of conns) {
      if (conn.kind === "pending") socket.destroy();
      else if (conn.kind === "h1" && conn.active === 0) socket.end();
    }
    // Let unary calls and REST requests finish (bounded).
    await waitUntil(() => ![...inflight].some((r) => !r.streaming), graceMs);
    // Then ask streaming handlers to stop (ctx.signal), briefly.
    shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
    await waitUntil(() => inflight.size === 0, STREAM_ABORT_MS);
    // Whatever is still open is cut: a client holding an HTTP/2 session open
    // would otherwise keep the server (and a test) alive forever.
    for (const session of sessions) session.destroy();
    for (const socket of conns.keys()) socket.destroy();
    const done = await Promise.race([listenerClosed.then(() => true), sleep(1_000).then(() => false)]);
    if (!done) log.warn("connections still open after close", { connections: conns.size, sessions: sessions.size });
    log.info("server stopped", { service: opts.name, ms: Date.now() - started });
  }

  function waitUntil(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        onInflightChange = undefined;
        resolve();
      }
      onInflightChange = () => {
        if (done()) finish();
      };
    });
  }

  return {
    port,
    url,
    health,
    metrics,
    close: () => (closed ??= doClose()),
  };
}

/**
 * Waits for enough bytes to tell the HTTP/2 preface from anything else, then
 * puts them back (socket.unshift) so the chosen server reads the stream from
 * its first byte. A connection that never says enough is cut by its
 * first-request deadline (connection-limits.ts), which no byte restarts.
 */
function sniff(socket: net.Socket, decide: (isH2: boolean) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const n = Math.min(buffered.length, H2_PREFACE.length);
    const matchesSoFar = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matchesSoFar && n < H2_PREFACE.length) return; // need more bytes
    socket.off("data", onData);
    socket.pause();
    socket.unshift(buffered);
    decide(matchesSoFar);
  };
  socket.on("data", onData);
}

/** Sets CORS headers. Returns true when it answered the request (a preflight). */
function applyCors(req: ServerRequest, res: ServerResponse, allowedOrigins: string[] | "*"): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== "string" || origin === "") return false;
  const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  const allowed = allowedOrigins === "*" || allowedOrigins.includes(origin);
  if (!allowed) {
    if (!preflight) return false; // the browser blocks the response without our headers
    res.writeHead(403);
    res.end();
    return true;
  }
  res.setHeader("Access-Control-Allow-Origin", allowedOrigins === "*" ? "*" : origin);
  if (allowedOrigins !== "*") res.setHeader("Vary", "Origin");
  if (preflight) {
    res.setHeader("Access-Control-Allow-Methods", CORS_ALLOWED_METHODS.join(", "));
    res.setHeader("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS.join(", "));
    res.setHeader("Access-Control-Max-Age", "7200");
    res.writeHead(204);
    res.end();
    return true;
  }
  res.setHeader("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS.join(", "));
  return false;
}

/**
 * Runs each closer once, in order, on the first SIGINT or SIGTERM, then exits
 * (0, or 1 if a closer failed). A second signal, or closers taking longer than
 * 10 s, exits at once. Returns a function that removes the handlers.
 */
export function installShutdownHandlers(log: Logger, ...closers: Array<() => unknown>): () => void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      log.warn("second signal, exiting now", { signal });
      process.exit(1);
    }
    started = true;
    log.info("shutting down", { signal });
    setTimeout(() => {
      log.error("shutdown took too long, exiting");
      process.exit(1);
    }, 10_000).unref();
    void (async () => {
      let code = 0;
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          code = 1;
          log.error("shutdown step failed", { err });
        }
      }
      process.exit(code);
    })();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

/** Without admission, a REST call whose caller sent a timeout header still runs with its deadline, as an RPC does (overload/deadline.ts). */
function withRestDeadline<T>(req: ServerRequest, fn: () => Promise<T>): Promise<T> {
  const header = new Headers();
  for (const name of ["connect-timeout-ms", "grpc-timeout"]) {
    const value = req.headers[name];
    if (typeof value === "string") header.set(name, value);
  }
  const timeout = timeoutOf(header);
  return timeout === undefined ? fn() : runWithDeadline(deadlineClock() + timeout, fn);
}

function pathOf(req: ServerRequest): string {
  return (req.url ?? "").split("?", 1)[0] ?? "";
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function unique(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
