// The Retrier and its Connect interceptor, in memory: a SessionService on
// createRouterTransport whose handler refuses as a kit server does
// (limitExceeded: RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo). Real:
// Connect's client, router and error details. Stand-ins: the clock, the dice
// and the sleep, which records each wait and returns at once.
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { RetryInfoSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { describe, expect, it } from "vitest";
import { limitExceeded } from "../server/limits.js";
import { refusalDelayMs, Retrier, type RetryEvent, retryingClient, retryInterceptor } from "./retrier.js";

/** A server that refuses `refusals` calls (RetryInfo of `seconds`), then answers; counts what reached it. */
function refusingServer(refusals: number, seconds = 2) {
  const seen = { calls: 0, timeouts: [] as (string | null)[] };
  const transportWith = (client: { interceptors?: Interceptor[] }) =>
    createRouterTransport(
      (router) =>
        router.service(SessionService, {
          createSession(req, ctx) {
            seen.calls++;
            seen.timeouts.push(ctx.requestHeader.get("connect-timeout-ms"));
            if (seen.calls <= refusals) throw limitExceeded("test per caller", "too many requests", seconds);
            return { token: `t-${req.inboxId}` };
          },
        }),
      { transport: client },
    );
  return { seen, transportWith };
}

function harness(over: { now?: () => number } = {}) {
  const waits: number[] = [];
  const events: RetryEvent[] = [];
  const retrier = new Retrier({
    now: over.now ?? (() => 0),
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    onEvent: (e) => events.push(e),
  });
  return { retrier, waits, events };
}

describe("refusalDelayMs", () => {
  it("reads the RetryInfo of RESOURCE_EXHAUSTED and UNAVAILABLE, and nothing else", () => {
    expect(refusalDelayMs(limitExceeded("x", "busy", 3))).toBe(3000);
    const unavailable = new ConnectError("away", Code.Unavailable, undefined, [
      { desc: RetryInfoSchema, value: { retryDelay: { seconds: 1n, nanos: 500_000_000 } } },
    ]);
    expect(refusalDelayMs(unavailable)).toBe(1500);
    // A cap: RESOURCE_EXHAUSTED without RetryInfo, where waiting does not help.
    expect(refusalDelayMs(limitExceeded("agents per owner", "remove an agent first"))).toBeUndefined();
    const internal = new ConnectError("bug", Code.Internal, undefined, [
      { desc: RetryInfoSchema, value: { retryDelay: { seconds: 1n } } },
    ]);
    expect(refusalDelayMs(internal)).toBeUndefined();
    expect(refusalDelayMs(new Error("no"))).toBeUndefined();
  });
});

describe("retryInterceptor", () => {
  it("sends a refused call again after the named delay with its jitter, and gives the answer", async () => {
    const { retrier, waits, events } = harness();
    const server = refusingServer(1, 2);
    const client = createClient(SessionService, server.transportWith({ interceptors: [retryInterceptor(retrier)] }));
    const answer = await client.createSession({ inboxId: "ana" });
    expect(answer.token).toBe("t-ana");
    expect(server.seen.calls).toBe(2);
    expect(waits).toEqual([2200]);
    expect(events).toEqual([
      { kind: "waiting", waitMs: 2200, retry: 1, procedure: "convos.pool.v1.SessionService/CreateSession" },
    ]);
  });

  it("tells the caller the refusal at once when the wait would pass the call's deadline", async () => {
    const { retrier, waits, events } = harness();
    const server = refusingServer(1, 2);
    const client = createClient(SessionService, server.transportWith({ interceptors: [retryInterceptor(retrier)] }));
    const err = await client.createSession({ inboxId: "ana" }, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.ResourceExhausted);
    expect(server.seen.calls).toBe(1);
    expect(waits).toEqual([]);
    expect(events).toMatchObject([{ kind: "gave up", why: "deadline" }]);
  });

  it("sends what is left of the deadline with a retry", async () => {
    let now = 0;
    const server = refusingServer(1, 1);
    const slept = new Retrier({
      now: () => now,
      random: () => 0,
      sleep: async (ms) => {
        now += ms;
      },
    });
    const client = createClient(SessionService, server.transportWith({ interceptors: [retryInterceptor(slept)] }));
    await client.createSession({ inboxId: "ana" }, { timeoutMs: 5000 });
    expect(server.seen.timeouts).toEqual(["5000", "4000"]);
  });

  it("does not retry an error that is no refusal", async () => {
    const { retrier, waits } = harness();
    const transport = createRouterTransport(
      (router) =>
        router.service(SessionService, {
          createSession() {
            throw new ConnectError("nope", Code.PermissionDenied);
          },
        }),
      { transport: { interceptors: [retryInterceptor(retrier)] } },
    );
    const err = await createClient(SessionService, transport)
      .createSession({ inboxId: "ana" })
      .catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.PermissionDenied);
    expect(waits).toEqual([]);
  });
});

describe("retryingClient", () => {
  it("retries a client made elsewhere the same way", async () => {
    const { retrier, waits } = harness();
    const server = refusingServer(2, 1);
    const client = retryingClient(SessionService, createClient(SessionService, server.transportWith({})), retrier);
    expect((await client.createSession({ inboxId: "bo" })).token).toBe("t-bo");
    expect(server.seen.calls).toBe(3);
    expect(waits).toEqual([1100, 1100]);
  });
});

describe("the budget against a retry storm", () => {
  it("lets a hundred callers refused at once retry only until half the bucket is spent", async () => {
    const { retrier, waits } = harness();
    const server = refusingServer(Number.POSITIVE_INFINITY, 1);
    const client = createClient(SessionService, server.transportWith({ interceptors: [retryInterceptor(retrier)] }));
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => client.createSession({ inboxId: `c${i}` })),
    );
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    // 100 calls, and retries at most half the bucket (5) plus a tenth of the calls: never 300.
    expect(waits.length).toBeLessThanOrEqual(5 + 10);
    expect(server.seen.calls).toBe(100 + waits.length);
    expect(retrier.tokens).toBe(0);
  });
});
