// The admission at a server's entry, in memory: real Connect routers and
// clients (createRouterTransport, the Connect protocol with its headers), the
// real admission and interceptor; the clock is a test clock
// (test-clock.ts), the "database" a counter the handler bumps before it
// waits on the test, and the service a stand-in SessionService.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { QuotaFailureSchema, RetryInfoSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { describe, expect, it } from "vitest";
import { limitExceededOf } from "../limits.js";
import { withCallerDeadline, withoutDeadline } from "./deadline.js";
import { ADMISSION_LIMIT, admissionGate } from "./interceptor.js";
import { TestClock } from "./test-clock.js";

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A limit of exactly 2, no waiting: the third call at once is refused. */
const TWO = {
  limit: { initial: 2, min: 2, max: 2 },
  shares: { critical: 1, default: 1, sheddable: 1 },
  waitLatencies: { critical: 0, default: 0, sheddable: 0 },
};

function server(clock: TestClock, handler: (inboxId: string) => Promise<string>) {
  const gate = admissionGate("the test service", TWO, undefined, clock);
  const transport = createRouterTransport(
    (router: ConnectRouter) =>
      router.service(SessionService, { createSession: async (req) => ({ token: await handler(req.inboxId) }) }),
    { router: { interceptors: [gate.interceptor] } },
  );
  return { gate, client: createClient(SessionService, transport) };
}

describe("admissionGate", () => {
  it("refuses a call past the limit with RESOURCE_EXHAUSTED and a retry delay, before any database work", async () => {
    let queries = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { client } = server(new TestClock(), async (id) => {
      queries++;
      await held;
      return id;
    });
    const first = [client.createSession({ inboxId: "a" }), client.createSession({ inboxId: "b" })];
    await ticks();
    expect(queries).toBe(2);
    const err = await client.createSession({ inboxId: "c" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.findDetails(QuotaFailureSchema)[0]?.violations[0]?.quotaId).toBe(ADMISSION_LIMIT);
    expect(Number(err?.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds)).toBeGreaterThanOrEqual(1);
    expect(limitExceededOf(err)).toMatchObject({ limit: ADMISSION_LIMIT, retryAfterSeconds: 1 });
    expect(err?.metadata.get("retry-after")).toBe("1");
    expect(queries).toBe(2);
    release();
    expect((await Promise.all(first)).map((r) => r.token)).toEqual(["a", "b"]);
    // The slots are free again.
    expect((await client.createSession({ inboxId: "d" })).token).toBe("d");
  });

  it("does not start a call whose deadline has passed (DEADLINE_EXCEEDED), and holds no slot for it", async () => {
    let queries = 0;
    const { client, gate } = server(new TestClock(), async (id) => {
      queries++;
      return id;
    });
    for (const header of [{ "connect-timeout-ms": "0" }, { "grpc-timeout": "0m" }]) {
      const err = await client.createSession({ inboxId: "late" }, { headers: header }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.DeadlineExceeded);
    }
    expect(queries).toBe(0);
    expect(gate.admission.inFlight).toBe(0);
  });

  it("gives the calls a handler makes what is left of its caller's deadline, and sends none once it has passed", async () => {
    const clock = new TestClock();
    const seen: (string | null)[] = [];
    const inner = createClient(
      SessionService,
      withCallerDeadline(
        createRouterTransport((router: ConnectRouter) =>
          router.service(SessionService, {
            createSession: (_req, ctx) => {
              seen.push(ctx.requestHeader.get("connect-timeout-ms"));
              return { token: "inner" };
            },
          }),
        ),
      ),
    );
    const { client } = server(clock, async (id) => {
      clock.advance(id === "late" ? 6000 : 1200);
      const free = await withoutDeadline(() => inner.createSession({ inboxId: "x" }));
      const carried = await inner.createSession({ inboxId: "x" });
      return `${free.token}+${carried.token}`;
    });
    // The test clock stands still while the caller's own deadline runs on real time: 5 s is far off.
    expect((await client.createSession({ inboxId: "on-time" }, { timeoutMs: 5000 })).token).toBe("inner+inner");
    expect(seen).toEqual([null, "3800"]);
    const err = await client.createSession({ inboxId: "late" }, { timeoutMs: 5000 }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(err?.rawMessage).toMatch(/SessionService\/CreateSession: the caller's deadline has passed; not started/);
    // The one made withoutDeadline went; the one that would carry the passed deadline did not.
    expect(seen).toEqual([null, "3800", null]);
  });

  it("answers DEADLINE_EXCEEDED for work that failed after its deadline passed (a statement cancelled), and leaves errors before it alone", async () => {
    const clock = new TestClock();
    const { client } = server(clock, async (id) => {
      if (id === "late") clock.advance(2000);
      throw Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
    });
    const codeOf = (inboxId: string) =>
      client.createSession({ inboxId }, { timeoutMs: 1000 }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e).code,
      );
    expect(await codeOf("late")).toBe(Code.DeadlineExceeded);
    expect(await codeOf("on-time")).toBe(Code.Internal);
  });

  it("lets a call without a deadline pass none on", async () => {
    const seen: (string | null)[] = [];
    const inner = createClient(
      SessionService,
      withCallerDeadline(
        createRouterTransport((router: ConnectRouter) =>
          router.service(SessionService, {
            createSession: (_req, ctx) => {
              seen.push(ctx.requestHeader.get("connect-timeout-ms"));
              return create(SessionService.method.createSession.output, { token: "inner" });
            },
          }),
        ),
      ),
    );
    const { client } = server(new TestClock(), async () => (await inner.createSession({ inboxId: "x" })).token);
    expect((await client.createSession({ inboxId: "y" })).token).toBe("inner");
    expect(seen).toEqual([null]);
  });
});
