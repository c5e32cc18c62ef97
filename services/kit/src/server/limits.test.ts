import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { LimitExceededSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { QuotaFailureSchema, RetryInfoSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { DEFAULT_LIMITS, RateLimit, limitExceeded, limitExceededOf, memoryRates, parseLimits } from "./limits.js";
import { createLogger } from "./log.js";
import { startServer, type RunningServer } from "./start.js";

describe("POOL_LIMITS", () => {
  it("has defaults, takes overrides and turns limits off", () => {
    expect(DEFAULT_LIMITS).toEqual({
      claimsPerCaller: { points: 10, seconds: 60 },
      claimsPerAddress: { points: 30, seconds: 60 },
      signInsPerInbox: { points: 10, seconds: 60 },
      signInsPerAddress: { points: 30, seconds: 60 },
      templateWritesPerCaller: { points: 60, seconds: 60 },
      templateWritesPerAddress: { points: 120, seconds: 60 },
      templatePublishesPerCaller: { points: 20, seconds: 3600 },
      testChatAnswersPerPool: { points: 300, seconds: 600 },
      liveAgentsPerOwner: 20,
      poolToolsPerOwner: 20,
      conversationsPerAgent: 10,
      connectionsPerAddress: 256,
      connectionsTotal: 4096,
      firstRequestSeconds: 10,
      http2IdleSeconds: 60,
    });
    const l = parseLimits(" claims.caller=5/10s, agents.owner=off,tools.owner=3 ");
    expect(l.claimsPerCaller).toEqual({ points: 5, seconds: 10 });
    expect(l.liveAgentsPerOwner).toBeUndefined();
    expect(l.poolToolsPerOwner).toBe(3);
    expect(l.signInsPerInbox).toEqual(DEFAULT_LIMITS.signInsPerInbox);
    expect(parseLimits("agents.conversations=3").conversationsPerAgent).toBe(3);
    expect(parseLimits("agents.conversations=off").conversationsPerAgent).toBeUndefined();
    const c = parseLimits("connections.address=8,connections.first-request=3s,connections.http2-idle=off");
    expect([c.connectionsPerAddress, c.connectionsTotal, c.firstRequestSeconds, c.http2IdleSeconds]).toEqual([
      8,
      4096,
      3,
      undefined,
    ]);
  });

  it("names the entry that is wrong", () => {
    const cases: [string, RegExp][] = [
      ["claims.callers=5/10s", /"claims\.callers=5\/10s" is not <name>=<value>/],
      ["claims.caller", /"claims\.caller" is not <name>=<value>/],
      ["claims.caller=5", /claims\.caller: a rate is <points>\/<seconds>s/],
      ["claims.caller=0/10s", /claims\.caller: a rate is/],
      ["agents.owner=5/10s", /agents\.owner: a cap is a whole number/],
      ["agents.owner=-1", /agents\.owner: a cap is a whole number/],
      ["agents.conversations=0", /agents\.conversations: a cap is a whole number/],
      ["connections.first-request=10", /connections\.first-request: a duration is <seconds>s/],
      ["connections.http2-idle=0s", /connections\.http2-idle: a duration is <seconds>s/],
      ["connections.total=1/10s", /connections\.total: a cap is a whole number/],
    ];
    for (const [text, message] of cases) expect(() => parseLimits(text), text).toThrow(message);
  });
});

describe("RateLimit", () => {
  it("lets `points` through per key and window, then answers RESOURCE_EXHAUSTED with LimitExceeded and retry-after", async () => {
    // The window passes on a test clock (Date and timers), not the machine's.
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const limit = new RateLimit("things per caller", { points: 2, seconds: 1 }, memoryRates);
    await limit.take("a");
    await limit.take("a");
    await limit.take("b");
    const err = ConnectError.from(await limit.take("a").catch((e: unknown) => e));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toBe(
      "too many requests: things per caller is 2 per 1 s, and you reached it; try again in 1 s",
    );
    expect(limitExceededOf(err)).toEqual({ limit: "things per caller", retryAfterSeconds: 1 });
    expect(err.metadata.get("retry-after")).toBe("1");
    vi.advanceTimersByTime(990); // still inside the 1 s window
    expect(limitExceededOf(await limit.take("a").catch((e: unknown) => e))?.limit).toBe("things per caller");
    vi.advanceTimersByTime(60); // the window has passed, and the allowance comes back
    await limit.take("a");
  });

  it("takes back what it gave back: a request refused by a later limit leaves the allowance as it was", async () => {
    const limit = new RateLimit("things per caller", { points: 2, seconds: 60 }, memoryRates);
    await limit.take("a");
    await limit.take("a");
    await limit.giveBack("a");
    await limit.take("a");
    expect(limitExceededOf(await limit.take("a").catch((e: unknown) => e))?.limit).toBe("things per caller");
    await new RateLimit("nothing", undefined, memoryRates).giveBack("a");
  });

  it("is off without a rate", async () => {
    const off = new RateLimit("nothing", undefined, memoryRates);
    for (let i = 0; i < 100; i++) await off.take("a");
  });
});

describe("limitExceeded", () => {
  it("carries google.rpc.QuotaFailure naming the limit and RetryInfo with the delay; a cap carries no RetryInfo", () => {
    const rate = limitExceeded("claims per caller", "wait a minute", 41.2);
    expect(rate.code).toBe(Code.ResourceExhausted);
    expect(rate.details.map((d) => ("desc" in d ? d.desc.typeName : d.type))).toEqual([
      "google.rpc.QuotaFailure",
      "google.rpc.RetryInfo",
    ]);
    expect(rate.findDetails(QuotaFailureSchema)[0]?.violations).toMatchObject([
      { quotaId: "claims per caller", description: "wait a minute" },
    ]);
    expect(rate.findDetails(RetryInfoSchema)[0]?.retryDelay).toMatchObject({ seconds: 42n, nanos: 0 });
    expect(limitExceededOf(rate)).toEqual({ limit: "claims per caller", retryAfterSeconds: 42 });
    const cap = limitExceeded("agents per owner", "remove one first");
    expect(cap.findDetails(RetryInfoSchema)).toEqual([]);
    expect(limitExceededOf(cap)).toEqual({ limit: "agents per owner", retryAfterSeconds: 0 });
    expect(limitExceededOf(new ConnectError("out of idle agents", Code.ResourceExhausted))).toBeUndefined();
  });

  it("reads the deprecated convos.pool.v1.LimitExceeded that a server of the release before writes", () => {
    const old = new ConnectError("wait", Code.ResourceExhausted);
    old.details.push({
      type: LimitExceededSchema.typeName,
      value: toBinary(LimitExceededSchema, create(LimitExceededSchema, { limit: "x", retryAfterSeconds: 7n })),
    });
    expect(limitExceededOf(old)).toEqual({ limit: "x", retryAfterSeconds: 7 });
  });
});

describe("LimitExceeded over the wire", () => {
  let server: RunningServer | undefined;
  afterAll(() => server?.close());

  it("reaches a Connect client with its detail and the Retry-After header; a cap carries no Retry-After", async () => {
    const routes = (router: ConnectRouter) =>
      router.service(SessionService, {
        createSession(req) {
          throw req.inboxId === "cap"
            ? limitExceeded("agents per owner", "remove one first")
            : limitExceeded("claims per caller", "wait", 42);
        },
      });
    server = await startServer({ name: "limits-test", routes, log: createLogger("test", { level: "silent" }) });
    let headers: Headers | undefined;
    const client = createClient(
      SessionService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "1.1",
        interceptors: [
          (next) => async (req) => {
            try {
              return await next(req);
            } catch (err) {
              headers = (err as ConnectError).metadata;
              throw err;
            }
          },
        ],
      }),
    );
    const rate = ConnectError.from(await client.createSession({ inboxId: "rate" }).catch((e: unknown) => e));
    expect(limitExceededOf(rate)).toEqual({ limit: "claims per caller", retryAfterSeconds: 42 });
    expect(headers?.get("retry-after")).toBe("42");
    const cap = ConnectError.from(await client.createSession({ inboxId: "cap" }).catch((e: unknown) => e));
    expect(limitExceededOf(cap)).toEqual({ limit: "agents per owner", retryAfterSeconds: 0 });
    expect(headers?.get("retry-after")).toBeNull();
  });
});
