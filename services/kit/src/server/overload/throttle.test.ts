// The client-side throttle: its policy on a test clock with given random
// numbers, and on a transport in memory (createRouterTransport) whose server
// refuses as the admission does. Nothing else stands in.
import { Code, ConnectError, createClient, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { describe, expect, it } from "vitest";
import { limitExceeded, limitExceededOf } from "../limits.js";
import { ADMISSION_LIMIT, overloaded } from "./interceptor.js";
import { ClientThrottle, throttled } from "./throttle.js";
import { TestClock } from "./test-clock.js";

describe("ClientThrottle", () => {
  it("counts no call still in flight: a burst sent at once is not refused before its answers", () => {
    const throttle = new ClientThrottle(
      () => 0,
      () => 0.01,
    );
    for (let i = 0; i < 100; i++) expect(throttle.allow()).toBe(true);
  });

  it("refuses nothing while the server takes every call", () => {
    const throttle = new ClientThrottle(
      () => 0,
      () => 0,
    );
    for (let i = 0; i < 1000; i++) {
      expect(throttle.allow()).toBe(true);
      throttle.settled(true);
    }
    expect(throttle.rejectProbability).toBe(0);
  });

  it("refuses here past k times what the server takes, as the SRE book's formula says", () => {
    const throttle = new ClientThrottle(
      () => 0,
      () => 0.5,
    );
    // 100 calls, 20 taken: (100 - 2*20) / 101.
    for (let i = 0; i < 100; i++) throttle.settled(i < 20);
    expect(throttle.rejectProbability).toBeCloseTo(60 / 101, 6);
    expect(throttle.allow()).toBe(false);
  });

  it("refuses nothing of a criticality until it has made enough calls to judge: one call past its deadline refuses no other", () => {
    const throttle = new ClientThrottle(
      () => 0,
      () => 0,
    );
    throttle.settled(false, "sheddable");
    expect(throttle.rejectProbabilityOf("sheddable")).toBe(0);
    expect(throttle.allow("sheddable")).toBe(true);
    for (let i = 0; i < 9; i++) throttle.settled(false, "sheddable");
    expect(throttle.rejectProbabilityOf("sheddable")).toBeCloseTo(10 / 11, 6);
  });

  it("forgets what left its window", () => {
    const clock = new TestClock();
    const throttle = new ClientThrottle(
      () => clock.now(),
      () => 0.5,
    );
    for (let i = 0; i < 100; i++) throttle.settled(false);
    expect(throttle.rejectProbability).toBeGreaterThan(0.9);
    clock.advance(10_000);
    expect(throttle.rejectProbability).toBe(0);
  });

  it("counts each criticality apart: a server that refuses sheddable calls costs a critical one nothing here", () => {
    const throttle = new ClientThrottle(
      () => 0,
      () => 0.5,
    );
    for (let i = 0; i < 100; i++) throttle.settled(false, "sheddable");
    for (let i = 0; i < 10; i++) throttle.settled(true, "critical");
    expect(throttle.rejectProbabilityOf("sheddable")).toBeGreaterThan(0.9);
    expect(throttle.rejectProbabilityOf("critical")).toBe(0);
    expect(throttle.rejectProbabilityOf("default")).toBe(0);
    expect(throttle.allow("critical")).toBe(true);
    expect(throttle.allow("default")).toBe(true);
    expect(throttle.allow("sheddable")).toBe(false);
  });
});

describe("throttled", () => {
  it("counts the admission's refusals, not a caller's rate limit, and then refuses in the admission's shape without sending", async () => {
    let sent = 0;
    let answer: "busy" | "rate" = "busy";
    const transport = createRouterTransport((router: ConnectRouter) =>
      router.service(SessionService, {
        createSession: () => {
          sent++;
          throw answer === "busy"
            ? overloaded("the test service", 1000)
            : limitExceeded("signins per inbox", "too many", 60);
        },
      }),
    );
    const throttle = new ClientThrottle(
      () => 0,
      () => 0.5,
    );
    const client = createClient(SessionService, throttled(transport, throttle));
    const call = () =>
      client.createSession({ inboxId: "a" }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    // A caller's rate limit: the server took the call, nothing is throttled.
    answer = "rate";
    for (let i = 0; i < 10; i++) await call();
    expect(throttle.rejectProbability).toBe(0);
    answer = "busy";
    for (let i = 0; i < 60; i++) await call();
    const before = sent;
    const err = await call();
    expect(sent).toBe(before);
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(limitExceededOf(err)).toMatchObject({ limit: ADMISSION_LIMIT, retryAfterSeconds: 1 });
    expect(err?.rawMessage).toMatch(/refused by this client's throttle/);
  });

  it("judges a call at the criticality the server will (its method's, lowered by pool-criticality), so sheddable refusals throttle only sheddable calls", async () => {
    let sent = 0;
    const transport = createRouterTransport((router: ConnectRouter) =>
      router.service(SessionService, {
        createSession: (_req, ctx) => {
          sent++;
          if (ctx.requestHeader.get("pool-criticality") === "sheddable") throw overloaded("the test service", 1000);
          return { token: "t" };
        },
      }),
    );
    const client = createClient(
      SessionService,
      throttled(
        transport,
        new ClientThrottle(
          () => 0,
          () => 0.5,
        ),
      ),
    );
    const call = (headers: Record<string, string>) =>
      client.createSession({ inboxId: "a" }, { headers }).then(
        () => "ok",
        (e: unknown) => ConnectError.from(e).rawMessage,
      );
    for (let i = 0; i < 60; i++) await call({ "pool-criticality": "sheddable" });
    const before = sent;
    // CreateSession is critical: the refused sheddable calls say nothing of it.
    expect(await call({})).toBe("ok");
    expect(sent).toBe(before + 1);
    expect(await call({ "pool-criticality": "sheddable" })).toMatch(/refused by this client's throttle/);
    expect(sent).toBe(before + 1);
  });
});
