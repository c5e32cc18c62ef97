// Connections that cannot be held open for free (docs/server-kit.md,
// "Connections"): the kit's real server, cleartext and TLS, against real
// slow clients on raw sockets (one byte at a time, many sockets from one
// address, an HTTP/2 session left idle), and a normal client beside them.
// Loopback addresses other than 127.0.0.1 (127.0.0.2) stand for a second
// client address.
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { makeTestPki, type TestPki } from "@convos-pool/testing";
import type { ConnectionLimits } from "./connection-limits.js";
import { createLogger } from "./log.js";
import { peerAddress, startServer, type RunningServer } from "./start.js";

function routes(router: ConnectRouter) {
  router.service(SessionService, {
    async createSession(_req, ctx) {
      return { token: `peer=${peerAddress(ctx)}` };
    },
  });
}

const servers: RunningServer[] = [];
const sockets: net.Socket[] = [];
const sessions: http2.ClientHttp2Session[] = [];
let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(async () => {
  await pki?.close();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of sessions.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(connections: ConnectionLimits, withTls = false): Promise<RunningServer> {
  const server = await startServer({
    name: "connections-test",
    routes,
    log: createLogger("test", { level: "silent" }),
    connections,
    ...(withTls ? { tls: { ...pki.service, ca: pki.ca } } : {}),
  });
  servers.push(server);
  return server;
}

/** A raw TCP connection from `from` (a loopback address), once connected. */
async function connect(port: number, from = "127.0.0.1"): Promise<net.Socket> {
  const s = net.connect({ port, host: "127.0.0.1", localAddress: from });
  sockets.push(s);
  s.on("error", () => {});
  await once(s, "connect");
  return s;
}

/** Resolves with the ms from now until `s` closes, or with undefined if it is still open after `ms`. */
function closedWithin(s: net.Socket | tls.TLSSocket, ms: number): Promise<number | undefined> {
  const t0 = Date.now();
  if (s.destroyed) return Promise.resolve(0);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** Writes `text` one byte every `everyMs` until it is written or the socket closes; resolves with what was written. */
async function dribble(s: net.Socket, text: string, everyMs: number): Promise<number> {
  let n = 0;
  for (const ch of text) {
    if (s.destroyed) break;
    s.write(ch);
    n++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return n;
}

/** A normal Connect call over HTTP/1.1 (or h2c), from `from`. */
async function call(url: string, from = "127.0.0.1", httpVersion: "1.1" | "2" = "1.1"): Promise<string> {
  const nodeOptions = { localAddress: from, ca: pki.ca };
  const transport =
    httpVersion === "2"
      ? createConnectTransport({ baseUrl: url, httpVersion, nodeOptions })
      : createConnectTransport({ baseUrl: url, httpVersion, nodeOptions });
  return (await createClient(SessionService, transport).createSession({})).token;
}

const SLOW_H1 =
  "GET /convos.pool.v1.SessionService/CreateSession HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaa\r\n\r\n";
const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

describe("the first request's deadline", () => {
  it("cuts a client sending its HTTP/1.1 request one byte at a time at the deadline, which the bytes do not restart", async () => {
    const server = await start({ firstRequestMs: 800 });
    const slow = await connect(server.port);
    const closed = closedWithin(slow, 5_000);
    const written = dribble(slow, SLOW_H1, 50);
    const ms = await closed;
    expect(ms).toBeDefined();
    // Cut at about 800 ms although a byte came every 50 ms; the head was never finished.
    expect(ms!).toBeGreaterThan(600);
    expect(ms!).toBeLessThan(2_000);
    expect(await written).toBeLessThan(SLOW_H1.length);
    // A normal client is served meanwhile and after.
    expect(await call(server.url)).toBe("peer=127.0.0.1");
  });

  it("cuts a client dribbling the HTTP/2 preface, and one that sends nothing at all", async () => {
    const server = await start({ firstRequestMs: 800 });
    const slow = await connect(server.port);
    const silent = await connect(server.port);
    const [a, b] = [closedWithin(slow, 5_000), closedWithin(silent, 5_000)];
    void dribble(slow, H2_PREFACE, 50);
    for (const ms of [await a, await b]) {
      expect(ms).toBeDefined();
      expect(ms!).toBeLessThan(2_000);
    }
    expect(await call(server.url, "127.0.0.1", "2")).toBe("peer=127.0.0.1");
  });

  it("cuts an HTTP/2 connection that sent its preface but opens no stream", async () => {
    const server = await start({ firstRequestMs: 800, http2IdleMs: 60_000 });
    const session = http2.connect(server.url);
    sessions.push(session);
    session.on("error", () => {});
    await once(session, "connect");
    const t0 = Date.now();
    await once(session, "close");
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("keeps a connection whose first request came in time, past the deadline", async () => {
    const server = await start({ firstRequestMs: 500, http2IdleMs: 60_000 });
    const session = http2.connect(server.url);
    sessions.push(session);
    const req = session.request({ ":method": "GET", ":path": "/nothing-here" });
    req.resume();
    await once(req, "close");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(session.closed || session.destroyed).toBe(false);
  });

  it("over TLS: cuts a client that dribbles its handshake", async () => {
    const server = await start({ firstRequestMs: 800 }, true);
    const slow = await connect(server.port);
    const closed = closedWithin(slow, 5_000);
    // A TLS record header and the start of a ClientHello, a byte at a time.
    void dribble(slow, `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${"a".repeat(200)}`, 50);
    const ms = await closed;
    expect(ms).toBeDefined();
    expect(ms!).toBeLessThan(2_000);
    expect(await call(server.url)).toBe("peer=127.0.0.1");
  });

  it("over TLS: cuts a client that finished its handshake but dribbles its request", async () => {
    const server = await start({ firstRequestMs: 1_000 }, true);
    const slow = tls.connect({ port: server.port, host: "127.0.0.1", ca: pki.ca, servername: "localhost" });
    slow.on("error", () => {});
    await once(slow, "secureConnect");
    const closed = closedWithin(slow, 5_000);
    void dribble(slow, SLOW_H1, 50);
    const ms = await closed;
    expect(ms).toBeDefined();
    expect(ms!).toBeLessThan(2_000);
    slow.destroy();
  });
});

describe("caps on connections", () => {
  it("refuses a client address past its share while another address is still served; a closed connection frees its place", async () => {
    const server = await start({ perAddress: 5, total: 100 });
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await connect(server.port));
    // The sixth from the same address is closed at once, without a byte read.
    const sixth = await connect(server.port);
    expect(await closedWithin(sixth, 2_000)).toBeDefined();
    for (const s of held) expect(s.destroyed).toBe(false);
    // Another address is not affected.
    expect(await call(server.url, "127.0.0.2")).toBe("peer=127.0.0.2");
    // One of the five goes: the address may open one again, and be served on it.
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await call(server.url, "127.0.0.1")).toBe("peer=127.0.0.1");
    const scrape = (await server.metrics.text()).body;
    expect(scrape).toMatch(/pool_connections_cut_total\{reason="address_cap",[^}]*\} 1/);
  });

  it("refuses everyone once the server holds its total", async () => {
    const server = await start({ perAddress: 100, total: 4 });
    for (let i = 0; i < 2; i++) await connect(server.port, "127.0.0.1");
    for (let i = 0; i < 2; i++) await connect(server.port, "127.0.0.2");
    const fifth = await connect(server.port, "127.0.0.3");
    expect(await closedWithin(fifth, 2_000)).toBeDefined();
    await expect(call(server.url, "127.0.0.4")).rejects.toThrow();
    for (const s of sockets.splice(0)) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await call(server.url, "127.0.0.4")).toBe("peer=127.0.0.4");
  });

  it("counts an address's HTTP/2 sessions too, and leaves exempt addresses (a proxy in front) uncapped", async () => {
    const server = await start({ perAddress: 2, total: 100, exempt: ["127.0.0.2"] });
    const open = async (from: string) => {
      const s = http2.connect(server.url, { localAddress: from } as http2.SecureClientSessionOptions);
      sessions.push(s);
      s.on("error", () => {});
      const req = s.request({ ":method": "GET", ":path": "/nothing-here" });
      req.on("error", () => {});
      req.resume();
      const ok = await Promise.race([once(req, "response").then(() => true), once(s, "close").then(() => false)]);
      return ok;
    };
    expect(await open("127.0.0.1")).toBe(true);
    expect(await open("127.0.0.1")).toBe(true);
    expect(await open("127.0.0.1")).toBe(false);
    for (let i = 0; i < 4; i++) expect(await open("127.0.0.2")).toBe(true);
  });

  it("over TLS: caps an address before its handshake", async () => {
    const server = await start({ perAddress: 2, total: 100 }, true);
    for (let i = 0; i < 2; i++) await connect(server.port);
    const third = await connect(server.port);
    expect(await closedWithin(third, 2_000)).toBeDefined();
    expect(await call(server.url, "127.0.0.2")).toBe("peer=127.0.0.2");
  });
});

describe("idle HTTP/2 sessions", () => {
  it("closes a session without a stream after the idle timeout, PINGs or not; a client of the kit just opens a new one", async () => {
    const server = await start({ http2IdleMs: 700 });
    const session = http2.connect(server.url);
    sessions.push(session);
    session.on("error", () => {});
    const req = session.request({ ":method": "GET", ":path": "/nothing-here" });
    req.resume();
    await once(req, "close");
    // PINGs are activity, not work: they do not keep the session.
    const pinging = setInterval(() => session.ping(() => {}), 100);
    const t0 = Date.now();
    const [code] = (await once(session, "goaway")) as [number];
    clearInterval(pinging);
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(Date.now() - t0).toBeGreaterThan(500);
    expect(Date.now() - t0).toBeLessThan(2_000);
    // A Connect client over HTTP/2 reconnects on its own.
    const client = createClient(SessionService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    expect((await client.createSession({})).token).toBe("peer=127.0.0.1");
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await client.createSession({})).token).toBe("peer=127.0.0.1");
  });

  it("keeps a session while a stream is open, however long, and counts idleness from its end", async () => {
    const server = await start({ http2IdleMs: 500 });
    const session = http2.connect(server.url);
    sessions.push(session);
    session.on("error", () => {});
    let goaway = false;
    session.on("goaway", () => (goaway = true));
    // A Health/Watch stream (gRPC): open until the client ends it, quiet between changes.
    const req = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    req.on("error", () => {});
    const frames: Buffer[] = [];
    req.on("data", (d: Buffer) => frames.push(d));
    req.end(Buffer.alloc(5)); // one empty message: the whole server
    await new Promise((r) => setTimeout(r, 1_200));
    expect(goaway).toBe(false);
    // Still served: a change reaches the watcher.
    const before = frames.length;
    server.health.set("", false);
    await new Promise((r) => setTimeout(r, 100));
    expect(frames.length).toBeGreaterThan(before);
    req.close();
    const t0 = Date.now();
    await once(session, "goaway");
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it("over TLS: closes an idle h2 session", async () => {
    const server = await start({ http2IdleMs: 600 }, true);
    const session = http2.connect(server.url, { ca: pki.ca });
    sessions.push(session);
    session.on("error", () => {});
    const req = session.request({ ":method": "GET", ":path": "/nothing-here" });
    req.resume();
    await once(req, "close");
    const t0 = Date.now();
    await once(session, "goaway");
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
