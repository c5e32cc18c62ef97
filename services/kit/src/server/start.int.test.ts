import { spawn } from "node:child_process";
import * as http2 from "node:http2";
import * as net from "node:net";
import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  SessionService,
} from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@convos-pool/gen/grpc/health/v1/health_pb.js";
import { BadRequestSchema } from "@convos-pool/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "@convos-pool/gen/google/rpc/status_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";
import {
  callerHeaders,
  callerInboxId,
  generateServiceCredentials,
  serviceAuthInterceptor,
  serviceCredentialClientInterceptor,
} from "./auth.js";
import { fieldViolations, invalidArgument } from "../content/errors.js";
import { createLogger } from "./log.js";
import { startServer, type RunningServer, type ServerOptions } from "./start.js";

const SESSION_PATH = "/convos.pool.v1.SessionService/CreateSession";

/** Told when a "slow" call is in the handler. */
let onSlowCall: (() => void) | undefined;

// A fake SessionService: enough behaviour to see what the kit does.
function routes(router: ConnectRouter) {
  router.service(SessionService, {
    async createSession(req, ctx) {
      if (req.inboxId === "") throw invalidArgument("inbox_id", "is required");
      if (req.inboxId === "slow") {
        onSlowCall?.();
        // The scenario: a call still at work after close() begins, long enough that a
        // close() that did not wait for it would have cut it (well within the 5 s grace).
        await new Promise((r) => setTimeout(r, 300));
      }
      if (req.inboxId.length > 1000) throw invalidArgument("inbox_id", `"${req.inboxId}" is no inbox ID`);
      return { token: `${req.inboxId}|caller=${callerInboxId(ctx) ?? "none"}` };
    },
  });
}

const servers: RunningServer[] = [];
const grpcClients: grpc.Client[] = [];

async function start(extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ name: "test", routes, log: createLogger("test", { level: "silent" }), ...extra });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const c of grpcClients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function grpcClient(server: RunningServer): grpc.Client {
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  grpcClients.push(client);
  return client;
}

/** A unary call with a plain grpc-js client, messages encoded with protobuf-es. */
function grpcUnary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  path: string,
  input: I,
  output: O,
  message: MessageShape<I>,
  metadata = new grpc.Metadata(),
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      (b: Buffer) => fromBinary(output, b),
      message,
      metadata,
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

function healthCheck(client: grpc.Client, service: string) {
  return grpcUnary(
    client,
    "/grpc.health.v1.Health/Check",
    HealthCheckRequestSchema,
    HealthCheckResponseSchema,
    create(HealthCheckRequestSchema, { service }),
  );
}

/** Opens a grpc-js Watch; collects statuses and notes how the stream ended. */
function healthWatch(client: grpc.Client, service: string) {
  const statuses: ServingStatus[] = [];
  const call = client.makeServerStreamRequest(
    "/grpc.health.v1.Health/Watch",
    (m: MessageShape<typeof HealthCheckRequestSchema>) => Buffer.from(toBinary(HealthCheckRequestSchema, m)),
    (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
    create(HealthCheckRequestSchema, { service }),
  );
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
  call.on("data", (m: MessageShape<typeof HealthCheckResponseSchema>) => statuses.push(m.status));
  call.on("error", () => {}); // the status event carries it
  return { statuses, ended, call };
}

describe("startServer: protocols on one port", () => {
  it("serves Connect JSON over HTTP/1.1 to a plain fetch", async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(server.url + SESSION_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inboxId: "alice" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: "alice|caller=none" });
  });

  it("serves Connect over HTTP/2 (h2c prior knowledge)", async () => {
    const server = await start();
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "2" });
    const res = await createClient(SessionService, transport).createSession({ inboxId: "bob" });
    expect(res.token).toBe("bob|caller=none");
  });

  it("serves gRPC to a plain @grpc/grpc-js client", async () => {
    const server = await start();
    const res = await grpcUnary(
      grpcClient(server),
      SESSION_PATH,
      CreateSessionRequestSchema,
      CreateSessionResponseSchema,
      create(CreateSessionRequestSchema, { inboxId: "carol" }),
    );
    expect(res.token).toBe("carol|caller=none");
  });

  it("serves gRPC-Web over HTTP/1.1", async () => {
    const server = await start();
    const transport = createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const res = await createClient(SessionService, transport).createSession({ inboxId: "dave" });
    expect(res.token).toBe("dave|caller=none");
  });

  it("refuses RPC messages larger than maxRequestBytes", async () => {
    const server = await start({ maxRequestBytes: 1024 });
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const err = await createClient(SessionService, transport)
      .createSession({ inboxId: "x".repeat(4096) })
      .catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.ResourceExhausted);
  });

  // Node keeps the unread part of each counted against the connection's memory (unread-requests.ts).
  it("keeps an HTTP/2 connection answering after many requests too large for it", async () => {
    const server = await start({ maxRequestBytes: 64 * 1024 });
    for (const transport of [
      createGrpcTransport({ baseUrl: server.url }),
      createConnectTransport({ baseUrl: server.url, httpVersion: "2" }),
    ]) {
      const client = createClient(SessionService, transport);
      for (let i = 0; i < 15; i++) {
        const err = await client.createSession({ inboxId: "x".repeat(1_000_000) }).catch((e: unknown) => e);
        expect(ConnectError.from(err).code, `call ${i}: ${ConnectError.from(err).rawMessage}`).toBe(
          Code.ResourceExhausted,
        );
      }
      expect(await client.createSession({ inboxId: "after" })).toMatchObject({ token: "after|caller=none" });
    }
  });
});

describe("health", () => {
  it("answers Check for the server and its services, NOT_FOUND for unknown ones", async () => {
    const server = await start();
    const client = grpcClient(server);
    expect((await healthCheck(client, "")).status).toBe(ServingStatus.SERVING);
    expect((await healthCheck(client, "convos.pool.v1.SessionService")).status).toBe(ServingStatus.SERVING);
    const err = await healthCheck(client, "no.such.Service").catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });

  it("Watch streams the current status, then changes", async () => {
    const server = await start();
    const watch = healthWatch(grpcClient(server), "");
    await waitFor("the first status", () => watch.statuses.length === 1);
    server.health.set("", false);
    await waitFor("the second status", () => watch.statuses.length === 2);
    server.health.set("", true);
    await waitFor("the third status", () => watch.statuses.length === 3);
    expect(watch.statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    watch.call.cancel();
  });

  it("Watch of an unknown service reports SERVICE_UNKNOWN, then the service appearing", async () => {
    const server = await start();
    const watch = healthWatch(grpcClient(server), "later.Service");
    await waitFor("the first status", () => watch.statuses.length === 1);
    server.health.set("later.Service", true);
    await waitFor("the second status", () => watch.statuses.length === 2);
    expect(watch.statuses).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING]);
    watch.call.cancel();
  });
});

describe("CORS and the fallback", () => {
  it("answers a preflight for an allowed origin and refuses others", async () => {
    const server = await start({ cors: { allowedOrigins: ["https://app.example"] } });
    const res = await fetch(server.url + SESSION_PATH, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["content-type", "connect-protocol-version", "x-grpc-web", "authorization", "if-match"]) {
      expect(allowed).toContain(h);
    }

    const other = await fetch(server.url + SESSION_PATH, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds CORS headers to RPC responses", async () => {
    const server = await start({ cors: { allowedOrigins: "*" } });
    const res = await fetch(server.url + SESSION_PATH, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://any.example" },
      body: JSON.stringify({ inboxId: "erin" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("Grpc-Status-Details-Bin");
  });

  it("routes non-RPC paths to the fallback, with CORS headers, and 404s the rest", async () => {
    const server = await start({
      cors: { allowedOrigins: ["https://app.example"] },
      fallback(req, res) {
        if (req.url !== "/v1/templates") return false;
        res.writeHead(200, { "content-type": "application/json", etag: '"3"' });
        res.end(JSON.stringify({ templates: [] }));
        return true;
      },
    });
    const res = await fetch(`${server.url}/v1/templates`, { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ templates: [] });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("ETag");

    const missing = await fetch(`${server.url}/nothing/here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("not_found");
  });

  it("turns a throwing fallback into a 500 without details", async () => {
    const server = await start({
      fallback() {
        throw new Error("database password is hunter2");
      },
    });
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("hunter2");
  });
});

describe("errors on the wire", () => {
  it("a plain @grpc/grpc-js client finds google.rpc.BadRequest in grpc-status-details-bin", async () => {
    const server = await start();
    const err = (await grpcUnary(
      grpcClient(server),
      SESSION_PATH,
      CreateSessionRequestSchema,
      CreateSessionResponseSchema,
      create(CreateSessionRequestSchema, { inboxId: "" }),
    ).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const [bytes] = err.metadata.get("grpc-status-details-bin");
    const status = fromBinary(StatusSchema, bytes as Buffer);
    expect(status.details.map((d) => d.typeUrl)).toEqual(["type.googleapis.com/google.rpc.BadRequest"]);
    expect(fromBinary(BadRequestSchema, status.details[0]!.value).fieldViolations).toMatchObject([
      { field: "inbox_id", description: "is required" },
    ]);
  });

  const transports: Record<string, (url: string) => Transport> = {
    "connect/1.1": (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    "grpc/2": (baseUrl) => createGrpcTransport({ baseUrl }),
    "grpc-web/1.1": (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  };
  for (const [name, makeTransport] of Object.entries(transports)) {
    it(`invalidArgument reaches a ${name} client with its field violation`, async () => {
      const server = await start();
      const err = await createClient(SessionService, makeTransport(server.url))
        .createSession({ inboxId: "" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      const ce = err as ConnectError;
      expect(ce.code).toBe(Code.InvalidArgument);
      expect(ce.rawMessage).toBe("inbox_id: is required");
      expect(fieldViolations(ce)).toEqual([{ field: "inbox_id", description: "is required" }]);
    });

    // Over gRPC, 70 KB of message in the trailers would break the stream (INTERNAL) and close the connection.
    it(`an error quoting 70 KB of the request reaches a ${name} client cut short, with its code and field`, async () => {
      const server = await start();
      const client = createClient(SessionService, makeTransport(server.url));
      const err = await client.createSession({ inboxId: "x".repeat(70_000) }).catch((e: unknown) => e);
      const ce = err as ConnectError;
      expect(ce.code, ce.rawMessage.slice(0, 200)).toBe(Code.InvalidArgument);
      expect(ce.rawMessage.length).toBeLessThan(2_100);
      expect(ce.rawMessage).toMatch(/^inbox_id: "x+… \(\d+ more characters\)$/);
      expect(fieldViolations(ce)[0]?.field).toBe("inbox_id");
      expect(await client.createSession({ inboxId: "after" })).toMatchObject({ token: "after|caller=none" });
    });
  }
});

describe("service credentials", () => {
  const creds = generateServiceCredentials();
  // The gateway may call SessionService here; the claims service is known but not allowed.
  const policy = { [SessionService.typeName]: ["gateway"] } as const;

  it("refuses calls without or with an unknown token, refuses a known service outside the policy, keeps health open", async () => {
    const server = await start({ interceptors: [serviceAuthInterceptor(creds.gateway.directory, policy)] });
    const call = (transport: Transport, headers?: Record<string, string>) =>
      createClient(SessionService, transport).createSession({ inboxId: "frank" }, { headers });
    const as = (token: string) =>
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "2",
        interceptors: [serviceCredentialClientInterceptor(token)],
      });

    const bare = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    expect(((await call(bare).catch((e: unknown) => e)) as ConnectError).code).toBe(Code.Unauthenticated);
    const unknown = (await call(as("not-a-token")).catch((e: unknown) => e)) as ConnectError;
    expect(unknown.code).toBe(Code.Unauthenticated);
    expect(unknown.rawMessage).toBe("missing or invalid service credential");

    const claims = (await call(as(creds.claims.token)).catch((e: unknown) => e)) as ConnectError;
    expect(claims.code).toBe(Code.PermissionDenied);
    expect(claims.rawMessage).toBe("the claims credential may not call convos.pool.v1.SessionService");

    expect((await call(as(creds.gateway.token))).token).toBe("frank|caller=none");
    // The forwarded caller is visible only because the call came from the gateway.
    expect((await call(as(creds.gateway.token), callerHeaders("inbox-123"))).token).toBe("frank|caller=inbox-123");

    // Plain gRPC with the token as metadata works too; health needs no token.
    const md = new grpc.Metadata();
    md.set("x-pool-service-token", creds.gateway.token);
    const client = grpcClient(server);
    const res = await grpcUnary(
      client,
      SESSION_PATH,
      CreateSessionRequestSchema,
      CreateSessionResponseSchema,
      create(CreateSessionRequestSchema, { inboxId: "gina" }),
      md,
    );
    expect(res.token).toBe("gina|caller=none");
    expect((await healthCheck(client, "")).status).toBe(ServingStatus.SERVING);
  });

  it("ignores x-pool-caller from any service but the gateway", async () => {
    const server = await start({
      interceptors: [
        serviceAuthInterceptor(creds.gateway.directory, {
          [SessionService.typeName]: ["gateway", "claims", "instance-host"],
        }),
      ],
    });
    for (const who of ["claims", "instance-host"] as const) {
      const transport = createConnectTransport({
        baseUrl: server.url,
        httpVersion: "2",
        interceptors: [serviceCredentialClientInterceptor(creds[who].token)],
      });
      const res = await createClient(SessionService, transport).createSession(
        { inboxId: "hal" },
        { headers: callerHeaders("forged-inbox") },
      );
      expect(res.token, who).toBe("hal|caller=none");
    }
  });

  it("never trusts x-pool-caller on a server without the credential check", async () => {
    const server = await start();
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const res = await createClient(SessionService, transport).createSession(
      { inboxId: "hal" },
      { headers: callerHeaders("forged-inbox") },
    );
    expect(res.token).toBe("hal|caller=none");
  });
});

/** A server whose log lines are kept, to see that close() left nothing open. */
async function startLogged(extra: Partial<ServerOptions> = {}) {
  const lines: string[] = [];
  const server = await start({ log: createLogger("test", { level: "info", sink: (l) => lines.push(l) }), ...extra });
  const closedCleanly = () =>
    lines.some((l) => l.includes('"server stopped"')) && !lines.some((l) => l.includes("still open"));
  return { server, closedCleanly };
}

describe("close()", () => {
  it("resolves promptly while a gRPC client keeps its HTTP/2 session open", async () => {
    const { server, closedCleanly } = await startLogged();
    const client = grpcClient(server);
    await healthCheck(client, ""); // the channel now holds an idle HTTP/2 session
    const connect2 = createConnectTransport({ baseUrl: server.url, httpVersion: "2" });
    await createClient(SessionService, connect2).createSession({ inboxId: "ivy" }); // and a second one
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(closedCleanly()).toBe(true);
  });

  it("resolves promptly while a Watch stream is open; the watcher sees NOT_SERVING", async () => {
    const { server, closedCleanly } = await startLogged();
    const watch = healthWatch(grpcClient(server), "");
    await waitFor("the first status", () => watch.statuses.length === 1);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(closedCleanly()).toBe(true);
    await watch.ended;
    expect(watch.statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("lets in-flight calls finish and refuses new connections", async () => {
    const { server, closedCleanly } = await startLogged();
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "2" });
    const client = createClient(SessionService, transport);
    const inHandler = new Promise<void>((resolve) => (onSlowCall = resolve));
    const slow = client.createSession({ inboxId: "slow" });
    await inHandler;
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await slow).token).toBe("slow|caller=none");
    expect(closedCleanly()).toBe(true);
    await expect(fetch(server.url + SESSION_PATH, { method: "POST" })).rejects.toThrow();
    await server.close(); // idempotent
  });

  it("cuts clients that never finish their requests once the grace period is over", async () => {
    const { server, closedCleanly } = await startLogged({ shutdownGraceMs: 300 });
    // An HTTP/2 request whose body never ends, on a session the client keeps open.
    const session = http2.connect(server.url);
    session.on("error", () => {});
    const stream = session.request({ ":method": "POST", ":path": SESSION_PATH, "content-type": "application/grpc" });
    stream.on("error", () => {});
    stream.write(Buffer.from([0, 0, 0, 0, 10])); // a 10-byte message announced, never sent
    // An HTTP/1.1 request that stops in the middle of its headers.
    const raw = net.connect(server.port, "127.0.0.1");
    raw.on("error", () => {});
    raw.write("POST /v1/templates HTTP/1.1\r\nHost: x\r\n");
    // A connection that sends nothing at all.
    const silent = net.connect(server.port, "127.0.0.1");
    silent.on("error", () => {});
    // The server holds all three before it closes: it answered a later
    // request on the HTTP/2 session (its frames are read in order), and a
    // later connection (connections are accepted in order).
    await Promise.all([once(raw, "connect"), once(silent, "connect")]);
    const later = session.request({ ":method": "POST", ":path": SESSION_PATH, "content-type": "application/json" });
    later.end(JSON.stringify({ inboxId: "later" }));
    expect((await once(later, "response"))[0][":status"]).toBe(200);
    later.destroy();
    expect((await fetch(server.url + SESSION_PATH, { method: "POST" })).status).toBeGreaterThan(0);
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(closedCleanly()).toBe(true);
    session.destroy();
    raw.destroy();
    silent.destroy();
  });

  it("marks health NOT_SERVING", async () => {
    const server = await start();
    await server.close();
    expect(server.health.get("")).toBe(ServingStatus.NOT_SERVING);
    expect(server.health.get("convos.pool.v1.SessionService")).toBe(ServingStatus.NOT_SERVING);
  });
});

describe("installShutdownHandlers", () => {
  it("runs the closers once on SIGTERM, in order, then exits 0", async () => {
    const here = (f: string) => JSON.stringify(new URL(f, import.meta.url).href);
    const script = `
      const { startServer, installShutdownHandlers } = await import(${here("./start.ts")});
      const { createLogger } = await import(${here("./log.ts")});
      const log = createLogger("child", { level: "info" });
      const server = await startServer({ name: "child", log, routes: () => {} });
      installShutdownHandlers(log, () => server.close(), () => log.info("second closer ran"));
      process.stdout.write("READY\\n");
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("../../../..", import.meta.url),
      env: { ...process.env, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor("the child ready or exited", () => stdout.includes("READY") || child.exitCode !== null, 20_000);
    expect(stdout).toContain("READY");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const msgs = stderr
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(["server listening", "shutting down", "server stopped", "second closer ran"]);
  });
});
