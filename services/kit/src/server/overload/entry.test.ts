// The admission at the server's request handler, before Connect reads a call:
// a real kit server (startServer, its admission set to a limit of two that
// never waits, so no verdict waits on a clock), real Connect, gRPC and
// gRPC-Web clients over HTTP/1.1 and HTTP/2, and raw HTTP for what a client
// would never send. The service is a stand-in SessionService whose handler
// counts its calls (the "database work") and waits on the test. The wait
// for a slot is tested on the entry alone (entryAdmission in a plain Node
// HTTP server before connect-node's adapter) with a test clock, over HTTP/2 (a stream the caller cancels closes at
// once; HTTP/1.1 tells the server only when it reads the socket again).
import * as http2 from "node:http2";
import {
  Code,
  ConnectError,
  createClient,
  createContextValues,
  type ConnectRouter,
  type Transport,
} from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { waitFor } from "@convos-pool/testing/wait";
import { afterEach, describe, expect, it } from "vitest";
import { refusalDelayMs } from "../../client/retrier.js";
import { limitExceededOf } from "../limits.js";
import { createLogger } from "../log.js";
import { startServer, type RunningServer } from "../start.js";
import { entryAdmission } from "./entry.js";
import { ADMISSION_LIMIT, admissionGate, admittedAtEntry } from "./interceptor.js";
import { TestClock } from "./test-clock.js";

const TWO = {
  limit: { initial: 2, min: 2, max: 2 },
  shares: { critical: 1, default: 1, sheddable: 1 },
  waitLatencies: { critical: 0, default: 0, sheddable: 0 },
};

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server whose handler counts each call it runs and holds it until `release()`. */
async function fullable() {
  let calls = 0;
  let release!: () => void;
  let held = new Promise<void>((r) => (release = r));
  const routes = (router: ConnectRouter) =>
    router.service(SessionService, {
      async createSession(req) {
        calls++;
        await held;
        return { token: req.inboxId };
      },
    });
  server = await startServer({ name: "entry", routes, log: createLogger("test", { level: "silent" }), admission: TWO });
  const { url, metrics } = server;
  return {
    url,
    metrics,
    calls: () => calls,
    release() {
      release();
      held = new Promise<void>((r) => (release = r));
    },
  };
}

const refusedBy = (transport: Transport, inboxId: string) =>
  createClient(SessionService, transport)
    .createSession({ inboxId })
    .then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );

const TRANSPORTS: [string, (baseUrl: string) => Transport][] = [
  ["Connect, JSON over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
  [
    "Connect, binary over HTTP/2",
    (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true }),
  ],
  ["gRPC over HTTP/2", (baseUrl) => createGrpcTransport({ baseUrl })],
  ["gRPC-Web over HTTP/1.1", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
];

describe("the admission at the server's entry", () => {
  it.each(TRANSPORTS)(
    "refuses a call past a full server in the shape a %s client reads (its code, its retry delay, Retry-After), and the handler never sees it",
    async (_name, transportOf) => {
      const s = await fullable();
      const transport = transportOf(s.url);
      const client = createClient(SessionService, transport);
      const first = [client.createSession({ inboxId: "a" }), client.createSession({ inboxId: "b" })];
      await waitFor("both calls at work", () => s.calls() === 2);
      const err = await refusedBy(transport, "c");
      expect(err?.code).toBe(Code.ResourceExhausted);
      expect(refusalDelayMs(err)).toBe(1000);
      expect(limitExceededOf(err)).toEqual({ limit: ADMISSION_LIMIT, retryAfterSeconds: 1 });
      expect(err?.metadata.get("retry-after")).toBe("1");
      expect(s.calls()).toBe(2);
      s.release();
      expect((await Promise.all(first)).map((r) => r.token)).toEqual(["a", "b"]);
    },
  );

  it("refuses a call whose body is no message at all as RESOURCE_EXHAUSTED: it is refused before Connect reads it", async () => {
    const s = await fullable();
    const client = createClient(SessionService, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" }));
    const first = [client.createSession({ inboxId: "a" }), client.createSession({ inboxId: "b" })];
    await waitFor("both calls at work", () => s.calls() === 2);
    const res = await fetch(`${s.url}/convos.pool.v1.SessionService/CreateSession`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not a message",
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { code: string }).code).toBe("resource_exhausted");
    expect(s.calls()).toBe(2);
    // Counted among the RPCs as the interceptor's refusals were, so the share of calls refused keeps its meaning.
    const { body } = await s.metrics.text();
    expect(body).toMatch(
      /pool_rpc_requests_total\{[^}]*method="CreateSession"[^}]*code="resource_exhausted"[^}]*\} 1\n/,
    );
    s.release();
    await Promise.all(first);
  });

  it("takes one slot a call, given back when it ends: at a limit of two, two calls at once run, and two more after them", async () => {
    const s = await fullable();
    const client = createClient(SessionService, createConnectTransport({ baseUrl: s.url, httpVersion: "2" }));
    for (const round of ["first", "second"]) {
      const calls = [client.createSession({ inboxId: `${round}-a` }), client.createSession({ inboxId: `${round}-b` })];
      await waitFor(`the ${round} two at work`, () => s.calls() === (round === "first" ? 2 : 4));
      s.release();
      expect((await Promise.all(calls)).map((r) => r.token)).toEqual([`${round}-a`, `${round}-b`]);
    }
  });
});

describe("a call waiting at the entry for a slot", () => {
  it("starts when a slot frees, and one whose caller left while it waited hands its slot back", async () => {
    const gate = admissionGate(
      "the test service",
      { limit: { initial: 1, min: 1, max: 1 } },
      undefined,
      new TestClock(),
    );
    const door = entryAdmission(
      gate,
      new Map([
        ["/convos.pool.v1.SessionService/CreateSession", { service: SessionService.typeName, method: "CreateSession" }],
      ]),
    );
    let calls = 0;
    const releases: (() => void)[] = [];
    const rpc = connectNodeAdapter({
      routes: (router) =>
        router.service(SessionService, {
          async createSession(req) {
            calls++;
            await new Promise<void>((r) => releases.push(r));
            return { token: req.inboxId };
          },
        }),
      interceptors: [gate.interceptor],
      contextValues: (req) => createContextValues().set(admittedAtEntry, door.admittedOf(req)),
    });
    const node = http2.createServer((req, res) => door.handle(req, res, () => rpc(req, res)));
    const sessions = new Set<http2.ServerHttp2Session>();
    node.on("session", (session) => sessions.add(session));
    await new Promise<void>((r) => node.listen(0, "127.0.0.1", r));
    try {
      const { port } = node.address() as { port: number };
      const client = createClient(
        SessionService,
        createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "2" }),
      );
      const first = client.createSession({ inboxId: "a" });
      await waitFor("the first call at work", () => calls === 1);
      const second = client.createSession({ inboxId: "b" });
      const leaving = new AbortController();
      const third = client.createSession({ inboxId: "c" }, { signal: leaving.signal }).catch((e: unknown) => e);
      await waitFor("two calls waiting", () => gate.admission.waiting("critical") === 2);
      leaving.abort();
      await third;
      releases.shift()?.();
      expect((await first).token).toBe("a");
      await waitFor("the second call at work", () => calls === 2);
      releases.shift()?.();
      expect((await second).token).toBe("b");
      // The third, gone, was given the slot the second freed and handed it back, unrun.
      await waitFor("no slot held", () => gate.admission.inFlight === 0 && gate.admission.waiting("critical") === 0);
      expect(calls).toBe(2);
    } finally {
      for (const session of sessions) session.destroy();
      await new Promise<void>((r) => node.close(() => r()));
    }
  });
});
