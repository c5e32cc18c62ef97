import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { invalidArgument } from "../content/errors.js";
import { createLogger, loggingInterceptor, type LoggerOptions } from "./log.js";
import { startServer, type RunningServer } from "./start.js";

function capture(opts: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger("svc", { level: "info", ...opts, sink: (l) => lines.push(l) });
  const entries = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, entries };
}

describe("createLogger", () => {
  it("writes one JSON object per line with time, level, name, msg and fields", () => {
    const { log, lines, entries } = capture();
    log.info("hello", { templateId: "t1", count: 3n });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\n");
    const [e] = entries();
    expect(e).toMatchObject({ level: "info", name: "svc", msg: "hello", templateId: "t1", count: "3" });
    expect(typeof e!.time).toBe("string");
  });

  it("redacts secret-looking keys at any depth, in child fields too", () => {
    const { log, lines } = capture();
    log.child({ sessionToken: "tok-AAA", instance: "i1" }).info("call", {
      headers: { Authorization: "Bearer tok-BBB", accept: "json" },
      wallet: { privateKey: "0xCCC", address: "0xabc" },
      list: [{ password: "hunter2" }, { clientSecret: "sss" }],
      apiKey: "key-DDD",
      creatorSignature: "0xEEE",
      cookies: "sid=FFF",
      credentials: { any: "GGG" },
      nested: { deeper: { signature: "0xHHH", ok: "visible" } },
    });
    const line = lines[0]!;
    for (const secret of [
      "tok-AAA",
      "tok-BBB",
      "0xCCC",
      "hunter2",
      "sss",
      "key-DDD",
      "0xEEE",
      "sid=FFF",
      "GGG",
      "0xHHH",
    ]) {
      expect(line).not.toContain(secret);
    }
    for (const visible of ["i1", "json", "0xabc", "visible"]) expect(line).toContain(visible);
    expect(line).toContain('"[redacted]"');
  });

  it("honours the level, and LOG_LEVEL from the environment", () => {
    const { log, entries } = capture({ level: "warn" });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(entries().map((e) => e.msg)).toEqual(["w", "e"]);

    const silent = capture({ level: "silent" });
    silent.log.error("nothing");
    expect(silent.lines).toEqual([]);

    const before = process.env.LOG_LEVEL;
    try {
      process.env.LOG_LEVEL = "error";
      const lines: string[] = [];
      const log2 = createLogger("env", { sink: (l) => lines.push(l) });
      log2.warn("hidden");
      log2.error("shown");
      expect(lines).toHaveLength(1);
      expect(log2.level).toBe("error");
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });

  it("logs errors as name, message and code; the stack only at debug", () => {
    const info = capture();
    const err = Object.assign(new Error("disk full"), { code: "ENOSPC" });
    info.log.error("failed", { err, rpc: new ConnectError("bad", Code.InvalidArgument) });
    const e = info.entries()[0]!;
    expect(e.err).toEqual({ name: "Error", message: "disk full", code: "ENOSPC" });
    expect(e.rpc).toEqual({ name: "ConnectError", message: "bad", code: "invalid_argument" });

    const debug = capture({ level: "debug" });
    debug.log.error("failed", { err });
    expect((debug.entries()[0]!.err as { stack?: string }).stack).toContain("disk full");
  });

  it("survives cycles and bytes", () => {
    const { log, entries } = capture();
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    log.info("x", { a, bytes: new Uint8Array(32) });
    expect(entries()[0]).toMatchObject({ a: { name: "a", self: "[circular]" }, bytes: "[32 bytes]" });
  });
});

describe("loggingInterceptor", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("logs one line per call with procedure, code and duration, never bodies", async () => {
    const { log, entries, lines } = capture();
    server = await startServer({
      name: "test",
      log: createLogger("quiet", { level: "silent" }),
      interceptors: [loggingInterceptor(log)],
      routes(router) {
        router.service(SessionService, {
          createSession(req) {
            if (req.inboxId === "bad") throw invalidArgument("inbox_id", "is malformed");
            return { token: "RESPONSE-BODY-TOKEN-VALUE" };
          },
        });
      },
    });
    const client = createClient(SessionService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await client.createSession({ inboxId: "REQUEST-BODY-INBOX" });
    await client.createSession({ inboxId: "bad" }).catch(() => {});

    const rpc = entries().filter((e) => e.msg === "rpc");
    expect(rpc).toHaveLength(2);
    expect(rpc[0]).toMatchObject({
      level: "info",
      procedure: "convos.pool.v1.SessionService/CreateSession",
      protocol: "connect",
      code: "ok",
    });
    expect(typeof rpc[0]!.durationMs).toBe("number");
    expect(rpc[1]).toMatchObject({ code: "invalid_argument" });
    const all = lines.join("\n");
    expect(all).not.toContain("REQUEST-BODY-INBOX");
    expect(all).not.toContain("RESPONSE-BODY-TOKEN-VALUE");
  });

  it("logs the successful calls of routine procedures at debug, and their failures as any other", async () => {
    const { log, entries } = capture({ level: "debug" });
    server = await startServer({
      name: "test",
      log: createLogger("quiet", { level: "silent" }),
      interceptors: [loggingInterceptor(log, { routine: ["convos.pool.v1.SessionService/CreateSession"] })],
      routes(router) {
        router.service(SessionService, {
          createSession(req) {
            if (req.inboxId === "bad") throw invalidArgument("inbox_id", "is malformed");
            return { token: "t" };
          },
        });
      },
    });
    const client = createClient(SessionService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await client.createSession({ inboxId: "good" });
    await client.createSession({ inboxId: "bad" }).catch(() => {});
    expect(
      entries()
        .filter((e) => e.msg === "rpc")
        .map((e) => [e.level, e.code]),
    ).toEqual([
      ["debug", "ok"],
      ["info", "invalid_argument"],
    ]);
  });
});
