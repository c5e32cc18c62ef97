/**
 * The local XMTP node: `xmtp.mls.api.v1.MlsApi` and
 * `xmtp.identity.api.v1.IdentityApi` over cleartext HTTP/2 gRPC (grpc-js),
 * backed by PostgreSQL or embedded PGlite. See docs/xmtp-devnode.md.
 */
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  createLogger,
  startMetricsServer,
  type Logger,
  type Metrics,
  type RunningMetricsServer,
} from "@convos-pool/kit/server";
import { DevnodeMetrics } from "./metrics.js";
import { callerAddress, type RateLimits, RateWindow, WRITE_METHODS } from "./rate-limit.js";
import { RpcError, Status } from "./rpc-error.js";
import { DevnodeService, type MethodSpec, type StreamSink } from "./service.js";
import { Store } from "./store.js";

/** The port of the SDK's (and the Convos CLI's) `local` environment: http://localhost:5556. */
export const DEFAULT_DEVNODE_PORT = 5556;

export interface DevnodeOptions {
  /** Default 5556; 0 picks a free port. */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** postgres:// URL; absent: embedded PGlite in `embeddedDir`. */
  databaseUrl?: string | undefined;
  /** Default `.data/xmtp-devnode` under the working directory. */
  embeddedDir?: string | undefined;
  /**
   * Serve Prometheus metrics at GET /metrics over plain HTTP/1.1 on this port
   * (0: a free one), on `host`; absent: not served (they are still kept, in
   * `metrics`). The gRPC port cannot answer them: it speaks only HTTP/2.
   */
  metricsPort?: number | undefined;
  /** What a scrape must present as `Authorization: Bearer`; default POOL_METRICS_TOKEN, else open. */
  metricsToken?: string | undefined;
  log?: Logger | undefined;
  /**
   * The network's rate limits per client (rate-limit.ts): past them a call is
   * refused with RESOURCE_EXHAUSTED. Absent: none (the node's own tests and
   * benchmarks drive many clients hard); its main.ts sets the network's.
   */
  rateLimits?: RateLimits | undefined;
  /** The most subscriptions it holds at once; past them a new one is refused (subscriptions.ts; 0: no limit; default DEFAULT_MAX_STREAMS). */
  maxStreams?: number | undefined;
}

export interface RunningDevnode {
  /** http://host:port, what an SDK's `apiUrl` takes. */
  url: string;
  port: number;
  /** Its Prometheus metrics: RPCs by method and code, messages stored and relayed, open subscriptions (src/metrics.ts). */
  metrics: Metrics;
  /** http://host:port of GET /metrics when `metricsPort` was given. */
  metricsUrl?: string;
  /** Sets the rate limits from now on (undefined: none), counting afresh: a test limits what follows its setup. */
  setRateLimits(limits: RateLimits | undefined): void;
  /** Ends subscriptions (UNAVAILABLE, so clients reconnect), closes HTTP/2 sessions and the database. Idempotent. */
  close(): Promise<void>;
}

/** Who a call is counted against: its caller's address, as the network counts it (rate-limit.ts). */
function callerOf(call: { getPeer(): string; metadata: grpc.Metadata }): string {
  const forwarded = call.metadata.get("x-forwarded-for")[0];
  return callerAddress(call.getPeer(), typeof forwarded === "string" ? forwarded : undefined);
}

/** What a refused call says, as the network's rate limiter does. */
const RATE_LIMITED = "rate limit exceeded: too many requests from this client in five minutes";

/** How long close() lets unary calls in flight finish before it cuts every session. */
const SHUTDOWN_GRACE_MS = 2_000;
/** Large enough for MLS commits of big groups and inline attachments. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function grpcError(err: unknown, log: Logger, method: string): grpc.ServiceError {
  if (err instanceof RpcError) {
    return Object.assign(new Error(err.message), {
      code: err.code,
      details: err.message,
      metadata: new grpc.Metadata(),
    });
  }
  log.error("rpc failed", { method, err });
  return Object.assign(new Error("internal error"), {
    code: Status.INTERNAL,
    details: "internal error",
    metadata: new grpc.Metadata(),
  });
}

function identity(b: Buffer): Buffer {
  return b;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Logs and counts one call that ended with `code`. */
function callEnded(log: Logger, metrics: DevnodeMetrics, spec: MethodSpec, started: number, code: Status): void {
  const ms = performance.now() - started;
  metrics.rpc(spec.service, spec.method, code, ms / 1000);
  const fields = { method: `${spec.service}/${spec.method}`, code: Status[code], durationMs: Math.round(ms) };
  if (code === Status.INTERNAL || code === Status.UNKNOWN) log.error("rpc", fields);
  else log.debug("rpc", fields);
}

/** grpc-js handlers for one service's methods (requests and responses stay raw bytes). */
function grpcService(
  specs: MethodSpec[],
  log: Logger,
  metrics: DevnodeMetrics,
  limits: { window?: RateWindow },
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Uint8Array>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const spec of specs) {
    const fullName = `${spec.service}/${spec.method}`;
    definition[spec.method] = {
      path: `/${fullName}`,
      requestStream: spec.kind === "bidi",
      responseStream: spec.kind !== "unary",
      requestSerialize: toBuffer,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
      originalName: spec.method,
    };
    if (spec.kind === "unary") {
      const handler = spec.unary;
      implementation[spec.method] = ((
        call: grpc.ServerUnaryCall<Buffer, Uint8Array>,
        callback: grpc.sendUnaryData<Uint8Array>,
      ) => {
        const started = performance.now();
        if (limits.window && !limits.window.take(callerOf(call), WRITE_METHODS.has(spec.method) ? "writes" : "reads")) {
          callEnded(log, metrics, spec, started, Status.RESOURCE_EXHAUSTED);
          callback(grpcError(new RpcError(Status.RESOURCE_EXHAUSTED, RATE_LIMITED), log, fullName));
          return;
        }
        handler(call.request).then(
          (response) => {
            callEnded(log, metrics, spec, started, Status.OK);
            callback(null, response);
          },
          (err: unknown) => {
            const e = grpcError(err, log, fullName);
            callEnded(log, metrics, spec, started, e.code);
            callback(e);
          },
        );
      }) as grpc.handleUnaryCall<Buffer, Uint8Array>;
    } else if (spec.kind === "serverStream") {
      const handler = spec.stream;
      implementation[spec.method] = ((call: grpc.ServerWritableStream<Buffer, Uint8Array>) => {
        const started = performance.now();
        if (limits.window && !limits.window.take(callerOf(call), "reads")) {
          callEnded(log, metrics, spec, started, Status.RESOURCE_EXHAUSTED);
          call.emit("error", grpcError(new RpcError(Status.RESOURCE_EXHAUSTED, RATE_LIMITED), log, fullName));
          return;
        }
        let closed = false;
        // The client went away: how subscriptions normally end (counted as canceled, not ok).
        let cancelled = false;
        const closeListeners: (() => void)[] = [];
        const markClosed = () => {
          if (closed) return;
          closed = true;
          for (const fn of closeListeners.splice(0)) fn();
        };
        call.on("cancelled", () => {
          cancelled = true;
          markClosed();
        });
        call.on("close", markClosed);
        call.on("error", () => markClosed());
        const sink: StreamSink = {
          sendHeaders: () => call.sendMetadata(new grpc.Metadata()),
          write: (message) => {
            if (!closed) call.write(message);
          },
          get closed() {
            return closed;
          },
          onClose: (fn) => {
            if (closed) fn();
            else closeListeners.push(fn);
          },
        };
        handler(call.request, sink).then(
          () => {
            callEnded(log, metrics, spec, started, cancelled ? Status.CANCELLED : Status.OK);
            if (!closed) {
              markClosed();
              call.end();
            }
          },
          (err: unknown) => {
            const e = grpcError(err, log, fullName);
            callEnded(log, metrics, spec, started, e.code);
            if (!closed) {
              markClosed();
              call.emit("error", e);
            }
          },
        );
      }) as grpc.handleServerStreamingCall<Buffer, Uint8Array>;
    } else {
      // Bidirectional Subscribe (XIP-83): newer than the SDKs this node serves.
      implementation[spec.method] = ((call: grpc.ServerDuplexStream<Buffer, Uint8Array>) => {
        log.warn("unimplemented rpc called", { method: fullName });
        metrics.rpc(spec.service, spec.method, Status.UNIMPLEMENTED, 0);
        call.emit(
          "error",
          grpcError(
            new RpcError(Status.UNIMPLEMENTED, `${spec.method} is not implemented by the local devnode`),
            log,
            fullName,
          ),
        );
      }) as grpc.handleBidiStreamingCall<Buffer, Uint8Array>;
    }
  }
  return { definition, implementation };
}

/**
 * Calls to methods no service registered are answered UNIMPLEMENTED by grpc-js
 * without any hook; this logs them, so a client that needs something the
 * node lacks shows up in the log, and counts them under method `unknown`
 * (a label per path a client may invent would grow without bound).
 * (grpc-js 1.14 internals, pinned version.)
 */
function logUnknownCalls(
  server: grpc.Server,
  log: Logger,
  metrics: DevnodeMetrics,
  services: ReadonlySet<string>,
): void {
  const s = server as unknown as { _retrieveHandler?: (path: string) => unknown };
  const original = s._retrieveHandler;
  if (typeof original !== "function") return;
  s._retrieveHandler = function (this: unknown, methodPath: string) {
    const handler = original.call(this, methodPath);
    if (handler === null || handler === undefined) {
      log.warn("unknown rpc called", { method: methodPath });
      const service = methodPath.split("/")[1] ?? "";
      metrics.rpc(services.has(service) ? service : "unknown", "unknown", Status.UNIMPLEMENTED, 0);
    }
    return handler;
  };
}

/** Starts the node: database (migrations included), then the gRPC server. */
export async function startDevnode(opts: DevnodeOptions = {}): Promise<RunningDevnode> {
  const log = opts.log ?? createLogger("xmtp-devnode");
  const host = opts.host ?? "127.0.0.1";
  const store = await Store.open({
    databaseUrl: opts.databaseUrl,
    embeddedDir: opts.embeddedDir ?? path.join(process.cwd(), ".data", "xmtp-devnode"),
  });
  const metrics = new DevnodeMetrics();
  const limits: { window?: RateWindow } = opts.rateLimits ? { window: new RateWindow(opts.rateLimits) } : {};
  const service = new DevnodeService({ store, log, metrics, maxStreams: opts.maxStreams });
  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.enable_channelz": 0,
  });
  const byService = new Map<string, MethodSpec[]>();
  for (const m of service.methods()) byService.set(m.service, [...(byService.get(m.service) ?? []), m]);
  logUnknownCalls(server, log, metrics, new Set(byService.keys()));
  for (const specs of byService.values()) {
    const { definition, implementation } = grpcService(specs, log, metrics, limits);
    server.addService(definition, implementation);
  }

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const target = host.includes(":")
        ? `[${host}]:${opts.port ?? DEFAULT_DEVNODE_PORT}`
        : `${host}:${opts.port ?? DEFAULT_DEVNODE_PORT}`;
      server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
  } catch (err) {
    server.forceShutdown();
    service.stop();
    await store.close();
    throw err;
  }
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  let scrapes: RunningMetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      scrapes = await startMetricsServer({
        metrics: metrics.metrics,
        port: opts.metricsPort,
        host,
        ...(opts.metricsToken !== undefined ? { token: opts.metricsToken } : {}),
        log,
      });
    } catch (err) {
      server.forceShutdown();
      service.stop();
      await store.close();
      throw err;
    }
  }
  const metricsUrl = scrapes ? `http://${urlHost}:${scrapes.port}` : undefined;
  log.info("xmtp devnode listening", {
    url,
    embedded: store.embedded,
    ...(metricsUrl ? { metricsUrl: `${metricsUrl}/metrics` } : {}),
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    metrics: metrics.metrics,
    ...(metricsUrl ? { metricsUrl } : {}),
    setRateLimits(next) {
      if (next) limits.window = new RateWindow(next);
      else delete limits.window;
    },
    close() {
      closing ??= (async () => {
        // Open subscriptions end first (they never finish on their own), then
        // the server drains unary calls briefly and cuts whatever remains.
        service.stop();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        // tryShutdown leaves idle sessions to close on their own; make sure none survive.
        server.forceShutdown();
        await service.drained();
        await store.close();
        // Last, so that scrapes see the shutdown's own calls.
        await scrapes?.close();
        log.info("xmtp devnode stopped");
      })();
      return closing;
    },
  };
}
