// Prometheus metrics for every pool service (prom-client): each RPC counted
// and timed by service, method and code from one interceptor, the process's
// own figures (CPU, memory, event-loop lag), and whatever a service adds
// (pool sizes, backlogs, lags). startServer serves them at GET /metrics on
// the service's own port; a process without a Connect port (the XMTP
// devnode, a grpc-js server) serves them on a port of their own with
// startMetricsServer. docs/runbook.md says what each alert means.

import * as http from "node:http";
import type * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { sameSecret } from "./auth.js";
import type { Logger } from "./log.js";

export class Metrics {
  readonly registry = new Registry();
  readonly rpcs: Counter<"service" | "method" | "code">;
  readonly rpcSeconds: Histogram<"service" | "method" | "code">;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ pool_service: service });
    collectDefaultMetrics({ register: this.registry });
    this.rpcs = new Counter({
      name: "pool_rpc_requests_total",
      help: "RPCs answered, by service, method and Connect code (ok when it succeeded).",
      labelNames: ["service", "method", "code"],
      registers: [this.registry],
    });
    this.rpcSeconds = new Histogram({
      name: "pool_rpc_duration_seconds",
      help: "How long RPCs took until their answer (streams: until they ended), by service, method and code.",
      labelNames: ["service", "method", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
  }

  /** A gauge read at each scrape; `read` may query a database (a failed read leaves the gauge empty for that scrape). */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (set: (labels: Record<L, string>, value: number) => void) => Promise<void>,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        this.reset();
        await read((labels, value) => this.set(labels as never, value)).catch(() => undefined);
      },
    });
  }

  /** A counter of the service's own (claims, messages). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter<L>({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  /** A histogram of the service's own (how long something took), with its buckets in its unit. */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): Histogram<L> {
    return new Histogram<L>({
      name,
      help,
      labelNames: [...labelNames],
      buckets: [...buckets],
      registers: [this.registry],
    });
  }

  /** The text format Prometheus scrapes. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Counts and times every RPC through the server; put it first, so that refused calls count too. */
export function metricsInterceptor(metrics: Metrics): Interceptor {
  return (next) => async (req) => {
    const started = process.hrtime.bigint();
    const done = (code: string) => {
      const labels = { service: req.service.typeName, method: req.method.name, code };
      metrics.rpcs.inc(labels);
      metrics.rpcSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        done("ok");
        return res;
      }
      // A stream's answer is its messages: counted when it ends.
      const message = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* message;
            done("ok");
          } catch (err) {
            done(codeName(err));
            throw err;
          }
        })(),
      };
    } catch (err) {
      done(codeName(err));
      throw err;
    }
  };
}

function codeName(err: unknown): string {
  return codeLabel(ConnectError.from(err).code);
}

/**
 * The `code` label of an RPC: `ok` (0), else the Connect code's name in snake
 * case (`invalid_argument`). gRPC status numbers are the same codes, so a
 * grpc-js server labels its calls the same way.
 */
export function codeLabel(code: number): string {
  if (code === 0) return "ok";
  return Code[code]?.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()) ?? "unknown";
}

/** Answers a scrape: with a token, only `Authorization: Bearer <token>` (else 401); then the text format. */
export async function answerScrape(
  metrics: Metrics,
  token: string,
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): Promise<void> {
  if (token && !sameSecret(req.headers.authorization ?? "", `Bearer ${token}`)) {
    const body = JSON.stringify({
      code: "unauthenticated",
      message: "GET /metrics needs Authorization: Bearer and the metrics token",
    });
    res.writeHead(401, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const { contentType, body } = await metrics.text();
  res.writeHead(200, { "content-type": contentType });
  res.end(body);
}

export interface MetricsServerOptions {
  metrics: Metrics;
  /** 0 or absent: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** As startServer's `metricsToken`: default POOL_METRICS_TOKEN, else open. */
  token?: string;
  log: Logger;
}

export interface RunningMetricsServer {
  /** http://host:port; scrape `${url}/metrics`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` alone over plain HTTP/1.1 on a port of its own, with
 * the same token rule as startServer: for a process whose RPC port is not
 * the kit's (the XMTP devnode's grpc-js port speaks only HTTP/2).
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<RunningMetricsServer> {
  const token = opts.token ?? process.env.POOL_METRICS_TOKEN ?? "";
  const host = opts.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== "/metrics" || req.method !== "GET") {
      const body = JSON.stringify({ code: "not_found", message: `no route for ${req.method} ${path}` });
      res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    answerScrape(opts.metrics, token, req, res).catch((err: unknown) => {
      opts.log.error("metrics scrape failed", { err });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => opts.log.error("metrics listener error", { err }));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would hold close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
