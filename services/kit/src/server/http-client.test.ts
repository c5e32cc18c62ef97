// The providers' HTTP client against a real HTTP server on 127.0.0.1
// (node:http): what it sends, what it reads, its deadline, which calls it
// sends again and when, and what its errors say. Nothing of fetch is stood in.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HttpClient, HttpError, codeOfStatus, retryAfterMs, type HttpClientOptions } from "./http-client.js";
import { freePort } from "./ports.js";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

const TOKEN = "sk-live-never-in-an-error-4f1c";
let server: Server;
let baseUrl: string;
let seen: Seen[];
/** How the server answers the current test; `n` counts requests from 1. */
let handler: (req: Seen, res: ServerResponse, n: number) => void;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      seen.push(s);
      handler(s, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => json(res, 200, {});
});

const client = (opts: Partial<HttpClientOptions> = {}) =>
  new HttpClient({
    service: "Acme",
    baseUrl: `${baseUrl}/`,
    token: TOKEN,
    backoffMs: 10,
    reason: (body) => (body as { error?: { message?: string } }).error?.message,
    ...opts,
  });

/** What a call threw. */
const failure = async (p: Promise<unknown>): Promise<HttpError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
};

describe("HttpClient", () => {
  it("sends the bearer token and the body as JSON to base URL + path + query, and reads the JSON answer", async () => {
    handler = (_req, res) => json(res, 201, { id: "m1", to: ["+15550100001"] });
    const answer = await client().call<{ id: string; to: string[] }>({
      method: "POST",
      path: "/v2/messages",
      query: { page: 2, skip: undefined, "filter[name]": "a b" },
      body: { text: "hi" },
    });
    expect(answer).toEqual({ id: "m1", to: ["+15550100001"] });
    const [req] = seen;
    expect(req!.method).toBe("POST");
    expect(req!.url).toBe("/v2/messages?page=2&filter%5Bname%5D=a+b");
    expect(req!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers.accept).toBe("application/json");
    expect(JSON.parse(req!.body)).toEqual({ text: "hi" });

    // No body: no content type; no token: no authorization.
    await client({ token: undefined }).call({ method: "GET", path: "/x" });
    expect(seen[1]!.headers["content-type"]).toBeUndefined();
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it("gives the answer of any status with send, and an empty body as undefined", async () => {
    handler = (_req, res, n) =>
      n === 1 ? json(res, 422, { error: { message: "bad number" } }) : res.writeHead(204).end();
    const refused = await client().send({ method: "POST", path: "/orders", body: {} });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ error: { message: "bad number" } });
    const deleted = await client().send({ method: "DELETE", path: "/orders/1" });
    expect(deleted).toMatchObject({ status: 204, body: undefined });
  });

  it("gives up at its deadline with DEADLINE_EXCEEDED, and a caller who aborts ends the call with CANCELED", async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const late = await failure(client({ timeoutMs: 300 }).call({ method: "GET", path: "/slow" }));
    expect(late.code).toBe(Code.DeadlineExceeded);
    expect(late.status).toBeUndefined();
    expect(late.rawMessage).toBe("Acme did not answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);

    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const cancelled = await failure(client().call({ method: "GET", path: "/slow", signal: caller.signal }));
    expect(cancelled.code).toBe(Code.Canceled);
    expect(cancelled.rawMessage).toBe("the call to Acme was cancelled");

    const callersDeadline = await failure(
      client().call({ method: "GET", path: "/slow", signal: AbortSignal.timeout(100) }),
    );
    expect(callersDeadline.code).toBe(Code.DeadlineExceeded);
  });

  it("sends an idempotent call again after a 503, and a POST only once", async () => {
    handler = (_req, res, n) => (n < 3 ? json(res, 503, { error: { message: "busy" } }) : json(res, 200, { ok: 1 }));
    expect(await client().call({ method: "GET", path: "/inbox" })).toEqual({ ok: 1 });
    expect(seen.map((s) => s.method)).toEqual(["GET", "GET", "GET"]);

    seen = [];
    const once = await failure(client().call({ method: "POST", path: "/send", body: { to: "saul" } }));
    expect(seen).toHaveLength(1);
    expect(once.status).toBe(503);
    expect(once.code).toBe(Code.Unavailable);
    expect(once.rawMessage).toBe("Acme answered HTTP 503: busy");

    // Retries spent: the last answer's error.
    seen = [];
    handler = (_req, res) => json(res, 502, {});
    expect((await failure(client({ retries: 1 }).call({ method: "GET", path: "/x" }))).status).toBe(502);
    expect(seen).toHaveLength(2);
  });

  it("sends a POST again with its idempotency key, the same key each time", async () => {
    handler = (_req, res, n) => (n === 1 ? json(res, 500, {}) : json(res, 200, { id: "i1" }));
    await client().call({ method: "POST", path: "/inboxes", body: {}, idempotencyKey: "inbox-inst_1" });
    expect(seen.map((s) => s.headers["idempotency-key"])).toEqual(["inbox-inst_1", "inbox-inst_1"]);
  });

  it("sends an idempotent call again when the connection broke before an answer, and a POST not", async () => {
    handler = (_req, res, n) => (n === 1 ? res.socket?.destroy() : json(res, 200, { ok: 1 }));
    expect(await client().call({ method: "GET", path: "/x" })).toEqual({ ok: 1 });
    expect(seen).toHaveLength(2);

    seen = [];
    handler = (_req, res) => res.socket?.destroy();
    const broke = await failure(client().call({ method: "POST", path: "/x", body: {} }));
    expect(seen).toHaveLength(1);
    expect(broke.code).toBe(Code.Unavailable);
    expect(broke.rawMessage).toBe("Acme could not be reached");
  });

  it("under the refused policy (a model's completion) sends again after 429 and 503 only", async () => {
    handler = (_req, res, n) =>
      n === 1 ? json(res, 429, {}) : n === 2 ? json(res, 503, {}) : json(res, 200, { a: 1 });
    expect(await client().call({ method: "POST", path: "/c", body: {}, retry: "refused" })).toEqual({ a: 1 });
    expect(seen).toHaveLength(3);

    for (const fail of [
      (res: ServerResponse) => json(res, 500, {}),
      (res: ServerResponse) => json(res, 504, {}),
      (res: ServerResponse) => res.socket?.destroy(),
    ]) {
      seen = [];
      handler = (_req, res) => fail(res);
      await failure(client().call({ method: "POST", path: "/c", body: {}, retry: "refused" }));
      expect(seen).toHaveLength(1);
    }
  });

  it("waits what Retry-After asks before the next try, and does not begin a wait that ends past its deadline", async () => {
    handler = (_req, res, n) => (n === 1 ? json(res, 503, {}, { "retry-after": "1" }) : json(res, 200, {}));
    await client().call({ method: "GET", path: "/x" });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);

    seen = [];
    handler = (_req, res) => json(res, 429, { error: { message: "slow down" } }, { "retry-after": "120" });
    const started = Date.now();
    const limited = await failure(client({ timeoutMs: 5_000 }).call({ method: "GET", path: "/x" }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen).toHaveLength(1);
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(limited.retryAfterMs).toBe(120_000);
  });

  it("maps each HTTP status to its Connect code", async () => {
    const cases: [number, Code][] = [
      [400, Code.InvalidArgument],
      [401, Code.Unauthenticated],
      [403, Code.PermissionDenied],
      [404, Code.NotFound],
      [409, Code.Aborted],
      [412, Code.FailedPrecondition],
      [422, Code.InvalidArgument],
      [429, Code.ResourceExhausted],
      [500, Code.Unavailable],
      [501, Code.Unimplemented],
      [503, Code.Unavailable],
      [418, Code.Unknown],
    ];
    handler = (req, res) => json(res, Number(req.url.slice(1)), {});
    for (const [status, code] of cases) {
      const err = await failure(client({ retries: 0 }).call({ method: "POST", path: `/${status}`, body: {} }));
      expect([err.status, err.code]).toEqual([status, code]);
      expect(codeOfStatus(status)).toBe(code);
    }
    // A ConnectError with that code, so that a handler that lets one through answers with it.
    const err = await failure(client({ retries: 0 }).call({ method: "GET", path: "/404" }));
    expect(err).toBeInstanceOf(ConnectError);
    expect(ConnectError.from(err)).toBe(err);
    expect(new ConnectError("x", Code.NotFound)).not.toBeInstanceOf(HttpError);
  });

  it("never says the token, masked where the provider echoes it, nor what the request sent", async () => {
    handler = (req, res) =>
      json(res, 400, { error: { message: `key ${req.headers.authorization} and ${req.body} are wrong` } });
    const err = await failure(
      client().call({ method: "POST", path: "/x", body: { card: "4242-secret-cvc" }, headers: { "x-a": "b" } }),
    );
    expect(err.rawMessage).toContain("key Bearer [the API key] and");
    expect(err.reason).toMatch(/^key Bearer \[the API key\]/);
    expect(JSON.stringify(err.body)).not.toContain(TOKEN);
    for (const text of [err.message, String(err), JSON.stringify(err), err.stack ?? ""])
      expect(text).not.toContain(TOKEN);
    // The request's body is the provider's to quote (here it did); the client itself never adds it.
    handler = (_req, res) => json(res, 400, {});
    const quiet = await failure(client().call({ method: "POST", path: "/x", body: { card: "4242-secret-cvc" } }));
    expect(`${quiet.message} ${JSON.stringify(quiet)}`).not.toContain("4242");
  });

  it("says a provider that cannot be reached is UNAVAILABLE, after its retries", async () => {
    const port = await freePort();
    const gone = await failure(client({ baseUrl: `http://127.0.0.1:${port}` }).call({ method: "GET", path: "/x" }));
    expect(gone.code).toBe(Code.Unavailable);
    expect(gone.rawMessage).toBe("Acme could not be reached");
  });

  it("refuses a 2xx answer that is not JSON; an error answer that is not JSON is told by its status", async () => {
    handler = (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>portal</html>");
    const garbled = await failure(client().call({ method: "GET", path: "/x" }));
    expect(garbled.rawMessage).toBe("Acme answered HTTP 200 with something that is not JSON");
    expect(seen).toHaveLength(1);

    handler = (_req, res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
    const proxy = await failure(client({ retries: 0 }).call({ method: "GET", path: "/x" }));
    expect([proxy.status, proxy.code, proxy.rawMessage]).toEqual([502, Code.Unavailable, "Acme answered HTTP 502"]);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates, and nothing from what is neither", () => {
    const now = Date.parse("2026-11-26T10:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3_000);
    expect(retryAfterMs("Thu, 26 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Thu, 26 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
