// Prometheus metrics for every pool service (prom-client): each RPC counted
// and timed by service, method and code from one interceptor, the process's
// own figures (CPU, memory, event-loop lag), and whatever a service adds
// (pool sizes, backlogs, lags). startServer serves them at GET /metrics on
// the service's own port; docs/runbook.md says what each alert means.

import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: (set: (labels: Record<L, string>, value: number) => void) => Promise<void>): void {
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
  return Code[ConnectError.from(err).code]?.replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase()) ?? "unknown";
}
