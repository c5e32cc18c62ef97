// A real kit server refuses, and the client waits and succeeds. Real: the
// server kit (startServer, HTTP/2, the Connect protocol), its rate limit
// (limits.ts's RateLimit, counted in memory: one per 2 s), Connect's Node
// client with the retry interceptor, and the wait itself (about 2 s).
// Stand-in: nothing but a SessionService whose handler takes the limit.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryRates, RateLimit } from "../server/limits.js";
import { createLogger } from "../server/log.js";
import { type RunningServer, startServer } from "../server/start.js";
import { busyWords } from "./retry-policy.js";
import { Retrier, type RetryEvent, retryInterceptor } from "./retrier.js";

let server: RunningServer;
const limit = new RateLimit("sessions per inbox", { points: 1, seconds: 2 }, memoryRates);
let handled = 0;

beforeAll(async () => {
  server = await startServer({
    name: "test",
    log: createLogger("test", { level: "silent" }),
    routes: (router) =>
      router.service(SessionService, {
        async createSession(req) {
          handled++;
          await limit.take(req.inboxId);
          return { token: `t-${req.inboxId}` };
        },
      }),
  });
});
afterAll(() => server.close());

describe("a client refused by a real kit server", () => {
  it("waits the delay the server named, then its call succeeds", async () => {
    const waits: number[] = [];
    const said: string[] = [];
    const retrier = new Retrier({
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      },
      onEvent: (e: RetryEvent) => e.kind === "waiting" && said.push(busyWords(e.waitMs)),
    });
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      interceptors: [retryInterceptor(retrier)],
    });
    const client = createClient(SessionService, transport);
    expect((await client.createSession({ inboxId: "ana" })).token).toBe("t-ana");
    // The second within the window is refused with RetryInfo of 2 s, waited for, and sent again.
    expect((await client.createSession({ inboxId: "ana" })).token).toBe("t-ana");
    expect(handled).toBe(3);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(said).toEqual(["the pool is busy, trying again in 2 s"]);
  });
});
