// A REST request whose handler makes two RPCs, end to end: two real kit
// servers on free ports (startServer, their admission on), the kit's
// service client between them (createServiceClient, as the gateway's
// forwarders), real HTTP/1.1 requests. The front server stands in for the
// gateway: its fallback is a stand-in handler that calls ClaimService twice
// (ListOwnerAgents, then GetInstance), its route table a stand-in naming
// GET /api/pool/agents as ListOwnerAgents (sheddable), GET /api/pool/agents/x
// as none (default) and POST /api/pool/approvals as AnswerApproval (critical).
// The ClaimService behind it is a stand-in too: it reports, per call, the
// criticality its own admission judged the call at (from its /metrics) and
// the timeout the call carried.
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { createServiceClient, type ServiceClient } from "../service-client.js";
import { startServer, type RunningServer } from "../start.js";

const TOKEN = "downstream-test-metrics";
const servers: RunningServer[] = [];
const clients: ServiceClient<typeof ClaimService>[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sample of a server's /metrics (0 when absent). */
async function sample(url: string, name: string, ...having: string[]): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const line = text.split("\n").find((l) => l.startsWith(name) && having.every((h) => l.includes(h)));
  return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
}

interface Seen {
  rpc: string;
  criticality: string;
  timeoutMs: number | undefined;
}

async function stack(): Promise<{ front: RunningServer; seen: Seen[]; frontInFlight: number[] }> {
  const seen: Seen[] = [];
  const frontInFlight: number[] = [];
  const log = createLogger("test", { level: "silent" });
  /** The criticality the back server's admission started the call at: the one whose count of starts rose. */
  const started = async () =>
    Promise.all(
      ["critical", "default", "sheddable"].map(async (c) => ({
        c,
        n: await sample(back.url, "pool_admission_queue_seconds_count", `criticality="${c}"`, 'outcome="started"'),
      })),
    );
  let before: { c: string; n: number }[] = [];
  const record = async (rpc: string, timeoutMs: number | undefined) => {
    const after = await started();
    const rose = after.find((a, i) => a.n > (before[i]?.n ?? 0));
    before = after;
    seen.push({ rpc, criticality: rose?.c ?? "none", timeoutMs });
  };
  const back = await startServer({
    name: "claims",
    log,
    metricsToken: TOKEN,
    routes: (router) =>
      router.service(ClaimService, {
        async listOwnerAgents(_req, ctx) {
          await record("ListOwnerAgents", ctx.timeoutMs());
          return {};
        },
        async getInstance(_req, ctx) {
          await record("GetInstance", ctx.timeoutMs());
          return {};
        },
      }),
  });
  servers.push(back);
  before = await started();
  const claims = createServiceClient(ClaimService, back.url, { token: "front" });
  clients.push(claims);
  const front = await startServer({
    name: "gateway",
    log,
    metricsToken: TOKEN,
    routes: () => {},
    fallbackRpc: (method, path) =>
      method === "GET" && path === "/api/pool/agents"
        ? "ClaimService/ListOwnerAgents"
        : method === "POST" && path === "/api/pool/approvals"
          ? "ApprovalService/AnswerApproval"
          : undefined,
    fallback: async (_req, res) => {
      await claims.client.listOwnerAgents({});
      frontInFlight.push(await sample(front.url, "pool_admission_in_flight"));
      await sleep(50);
      await claims.client.getInstance({});
      frontInFlight.push(await sample(front.url, "pool_admission_in_flight"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return true;
    },
  });
  servers.push(front);
  return { front, seen, frontInFlight };
}

describe("a REST request whose handler makes two RPCs", () => {
  it("holds one slot at its own server, and each RPC is admitted downstream at the request's criticality with what is left of its deadline", async () => {
    const { front, seen, frontInFlight } = await stack();
    const res = await fetch(`${front.url}/api/pool/agents`, { headers: { "connect-timeout-ms": "2000" } });
    expect(res.status).toBe(200);
    // One slot for the whole request, through both calls: the calls it makes take none of the front server's.
    expect(frontInFlight).toEqual([1, 1]);
    // GetInstance is a default RPC: made for a sheddable request, it is shed as the request would be.
    expect(seen.map((s) => [s.rpc, s.criticality])).toEqual([
      ["ListOwnerAgents", "sheddable"],
      ["GetInstance", "sheddable"],
    ]);
    const [first, second] = seen.map((s) => s.timeoutMs ?? Number.NaN);
    expect(first).toBeLessThanOrEqual(2000);
    // The second call carries what is left after the first and the handler's 50 ms between them.
    expect(second).toBeLessThanOrEqual((first ?? 0) - 50);
    expect(second).toBeGreaterThan(0);
  });

  it("passes on a criticality its caller lowered, and never raises an RPC past its own", async () => {
    const { front, seen } = await stack();
    const lowered = await fetch(`${front.url}/api/pool/agents/x`, {
      headers: { "connect-timeout-ms": "2000", "pool-criticality": "sheddable" },
    });
    expect(lowered.status).toBe(200);
    const critical = await fetch(`${front.url}/api/pool/approvals`, { method: "POST", body: "{}" });
    expect(critical.status).toBe(200);
    expect(seen.map((s) => [s.rpc, s.criticality, s.timeoutMs === undefined])).toEqual([
      ["ListOwnerAgents", "sheddable", false],
      ["GetInstance", "sheddable", false],
      // A critical request without a deadline: each RPC at its own criticality (the header lowers, never raises), none made up.
      ["ListOwnerAgents", "sheddable", true],
      ["GetInstance", "default", true],
    ]);
  });
});
