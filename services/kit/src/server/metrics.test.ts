import { Code, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { invalidArgument } from "../content/errors.js";
import { createLogger } from "./log.js";
import { codeLabel, Metrics, startMetricsServer } from "./metrics.js";
import { startServer, type RunningServer } from "./start.js";

function routes(router: ConnectRouter) {
  router.service(SessionService, {
    async createSession(req) {
      if (req.inboxId === "") throw invalidArgument("inbox_id", "is required");
      return { token: "t" };
    },
  });
}

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(metricsToken?: string): Promise<RunningServer> {
  const server = await startServer({
    name: "metrics-test",
    routes,
    log: createLogger("test", { level: "silent" }),
    ...(metricsToken ? { metricsToken } : {}),
  });
  servers.push(server);
  return server;
}

/** The value of a sample line `name{labels} value`, whose labels include every one given. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("metrics", () => {
  it("count and time every RPC by service, method and code, at GET /metrics, with the process's own figures", async () => {
    const server = await start();
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: server.url }));
    await client.createSession({ inboxId: "a" });
    await client.createSession({ inboxId: "b" });
    await client.createSession({ inboxId: "" }).catch(() => undefined);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const rpc = { service: "convos.pool.v1.SessionService", method: "CreateSession", pool_service: "metrics-test" };
    expect(sample(text, "pool_rpc_requests_total", { ...rpc, code: "ok" })).toBe(2);
    expect(sample(text, "pool_rpc_requests_total", { ...rpc, code: "invalid_argument" })).toBe(1);
    expect(sample(text, "pool_rpc_duration_seconds_count", { ...rpc, code: "ok" })).toBe(2);
    expect(text).toMatch(/^process_resident_memory_bytes\{pool_service="metrics-test"\} \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds/m);
  });

  it("answer only the metrics token when the server has one", async () => {
    const server = await start("scrape-secret");
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer scrape-secret" } })).status).toBe(
      200,
    );
  });

  it("serve them alone on a port of their own for a process without a Connect port, with the same token rule", async () => {
    const metrics = new Metrics("alone");
    metrics.rpcs.inc({ service: "s", method: "M", code: codeLabel(0) });
    metrics.rpcs.inc({ service: "s", method: "M", code: codeLabel(Code.InvalidArgument) });
    const server = await startMetricsServer({
      metrics,
      token: "scrape-secret",
      log: createLogger("test", { level: "silent" }),
    });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer scrape-secret" } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(sample(text, "pool_rpc_requests_total", { method: "M", code: "ok", pool_service: "alone" })).toBe(1);
      expect(sample(text, "pool_rpc_requests_total", { method: "M", code: "invalid_argument" })).toBe(1);
      expect((await fetch(`${server.url}/`, { headers: { authorization: "Bearer scrape-secret" } })).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });
});

describe("a service's own histogram", () => {
  it("counts each observation into the buckets it was given, labelled with the service", async () => {
    const metrics = new Metrics("histogram-test");
    const h = metrics.histogram("test_move_seconds", "How long a move took.", [], [1, 10]);
    h.observe(0.5);
    h.observe(5);
    h.observe(50);
    const { body } = await metrics.text();
    expect(sample(body, "test_move_seconds_bucket", { le: "1", pool_service: "histogram-test" })).toBe(1);
    expect(sample(body, "test_move_seconds_bucket", { le: "10" })).toBe(2);
    expect(sample(body, "test_move_seconds_bucket", { le: "+Inf" })).toBe(3);
  });
});
