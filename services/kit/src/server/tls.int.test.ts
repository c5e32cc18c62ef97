import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { createLogger } from "./log.js";
import { peerAddress, startServer, type RunningServer } from "./start.js";
import { createServiceClient, type ServiceClient } from "./service-client.js";
import { makeTestPki, type TestPki } from "@convos-pool/testing";
import { tlsFromEnv, type TlsConfig } from "./tls.js";

// A service that says who its caller is: the TCP peer as the handler sees it.
function routes(router: ConnectRouter) {
  router.service(SessionService, {
    async createSession(_req, ctx) {
      return { token: `peer=${peerAddress(ctx)}` };
    },
  });
}

/** A handshake that fails ends the call with a transport error (no answer of the service). */
const REFUSED = /^(Internal|Unavailable|Canceled)$/;

let pki: TestPki;
const servers: RunningServer[] = [];
const clients: ServiceClient<typeof SessionService>[] = [];

beforeAll(async () => {
  pki = await makeTestPki();
});

afterAll(async () => {
  await pki?.close();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(tls?: TlsConfig): Promise<RunningServer> {
  const server = await startServer({
    name: "tls-test",
    routes,
    log: createLogger("test", { level: "silent" }),
    ...(tls ? { tls } : {}),
  });
  servers.push(server);
  return server;
}

/** The kit's gRPC client of the test service with `tls`; its answer, or the code it failed with. */
async function call(url: string, tls?: TlsConfig): Promise<string> {
  const c = createServiceClient(SessionService, url, { token: "t", ...(tls ? { tls } : {}) });
  clients.push(c);
  try {
    return (await c.client.createSession({}, { timeoutMs: 5_000 })).token;
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
}

describe("internal gRPC over TLS", () => {
  it("serves https on one port: gRPC over h2 with the kit's client, Connect over HTTP/1.1; the peer is the client's address", async () => {
    const server = await start({ ...pki.service, ca: pki.ca });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await call(server.url, { ...pki.service, ca: pki.ca })).toBe("peer=127.0.0.1");
    const h1 = createClient(
      SessionService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca: pki.ca } }),
    );
    expect((await h1.createSession({})).token).toBe("peer=127.0.0.1");
    // And on a plain server, the same.
    const plain = await start();
    expect(await call(plain.url)).toBe("peer=127.0.0.1");
  });

  it("a client that does not trust the pool's CA does not connect", async () => {
    const server = await start({ ...pki.service, ca: pki.ca });
    expect(await call(server.url, { ...pki.service, ca: pki.otherCa })).toMatch(REFUSED);
  });

  it("with mutual TLS, only a client with a certificate of the pool's CA gets in", async () => {
    const server = await start({ ...pki.service, ca: pki.ca, mutual: true });
    expect(await call(server.url, { ...pki.service, ca: pki.ca, mutual: false })).toMatch(REFUSED);
    expect(await call(server.url, { ...pki.stranger, ca: pki.ca, mutual: true })).toMatch(REFUSED);
    expect(await call(server.url, { ...pki.service, ca: pki.ca, mutual: true })).toBe("peer=127.0.0.1");
  });

  it("refuses to send a configured credential over plain HTTP", () => {
    expect(() =>
      createServiceClient(SessionService, "http://127.0.0.1:1", { token: "t", tls: { ...pki.service, ca: pki.ca } }),
    ).toThrow("TLS is configured, so http://127.0.0.1:1 must be an https:// URL");
  });

  it("closes promptly while TLS clients keep their connections open", async () => {
    const server = await start({ ...pki.service, ca: pki.ca, mutual: true });
    expect(await call(server.url, { ...pki.service, ca: pki.ca, mutual: true })).toBe("peer=127.0.0.1");
    const h1 = createClient(
      SessionService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "1.1",
        nodeOptions: { ca: pki.ca, cert: pki.service.cert, key: pki.service.key },
      }),
    );
    await h1.createSession({});
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(2_500);
  });
});

describe("tlsFromEnv", () => {
  it("reads the three PEM files, or none; names what is missing or unreadable", () => {
    const { ca, cert, key } = pki.files;
    expect(tlsFromEnv({})).toBeUndefined();
    expect(tlsFromEnv({ POOL_TLS_CERT: cert, POOL_TLS_KEY: key, POOL_TLS_CA: ca })).toEqual({
      ...pki.service,
      ca: pki.ca,
      mutual: false,
    });
    expect(
      tlsFromEnv({ POOL_TLS_CERT: cert, POOL_TLS_KEY: key, POOL_TLS_CA: ca, POOL_TLS_MUTUAL: "true" })?.mutual,
    ).toBe(true);
    expect(() => tlsFromEnv({ POOL_TLS_CERT: cert })).toThrow("TLS needs POOL_TLS_KEY and POOL_TLS_CA too");
    expect(() => tlsFromEnv({ POOL_TLS_CERT: cert, POOL_TLS_KEY: "/nowhere/key.pem", POOL_TLS_CA: ca })).toThrow(
      "POOL_TLS_KEY: cannot read /nowhere/key.pem (ENOENT)",
    );
    expect(() => tlsFromEnv({ POOL_TLS_MUTUAL: "true" })).toThrow("POOL_TLS_MUTUAL=true needs");
    expect(() =>
      tlsFromEnv({ POOL_TLS_CERT: cert, POOL_TLS_KEY: key, POOL_TLS_CA: ca, POOL_TLS_MUTUAL: "yes" }),
    ).toThrow('POOL_TLS_MUTUAL must be "true" or "false"');
  });
});
