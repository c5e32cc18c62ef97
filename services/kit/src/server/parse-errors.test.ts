import * as http2 from "node:http2";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineageEventService } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { fieldViolations } from "../content/errors.js";
import { createLogger } from "./log.js";
import { startServer, type RunningServer } from "./start.js";

let server: RunningServer;
const PATH = "/convos.pool.v1.SessionService/CreateSession";
/** A field number 0: no protobuf parser can read it. */
const GARBAGE = Buffer.from([0x00, 0x01]);
const envelope = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, bytes.length]), bytes]);

beforeAll(async () => {
  server = await startServer({
    name: "parse-errors-test",
    routes: (router: ConnectRouter) =>
      router
        .service(SessionService, { createSession: async () => ({ token: "t" }) })
        .service(LineageEventService, { recordLineageEvents: async () => ({ applied: 0 }) }),
    log: createLogger("test", { level: "silent" }),
  });
});
afterAll(() => server.close());

describe("a request whose protobuf does not parse", () => {
  it("is INVALID_ARGUMENT over Connect (400), naming the request message and saying why", async () => {
    const res = await fetch(`${server.url}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: GARBAGE,
    });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { code: string; message: string };
    expect(err.code).toBe("invalid_argument");
    // No field can be named: the request message is, as a whole (docs/reliability.md).
    expect(err.message).toBe(
      "cannot decode message convos.pool.v1.CreateSessionRequest from binary: illegal tag: field no 0 wire type 0",
    );
    // What parses is answered as before.
    const ok = await fetch(`${server.url}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(ok.status).toBe(200);
  });

  it("is INVALID_ARGUMENT over gRPC, in the trailers, naming the request message", async () => {
    const session = http2.connect(server.url);
    try {
      const { status, message } = await new Promise<{ status?: string; message?: string }>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": PATH,
          "content-type": "application/grpc",
          te: "trailers",
        });
        const got: { status?: string; message?: string } = {};
        const take = (h: http2.IncomingHttpHeaders) => {
          if (h["grpc-status"] !== undefined) got.status = h["grpc-status"] as string;
          if (h["grpc-message"] !== undefined) got.message = decodeURIComponent(h["grpc-message"] as string);
        };
        req.on("response", take); // a trailers-only answer
        req.on("trailers", take);
        req.on("end", () => resolve(got));
        req.on("error", reject);
        req.resume();
        req.end(envelope(GARBAGE));
      });
      expect(status).toBe("3");
      expect(message).toMatch(/^cannot decode message convos\.pool\.v1\.CreateSessionRequest from binary: /);
    } finally {
      session.close();
    }
  });

  it("is INVALID_ARGUMENT over gRPC-web, in the trailer frame, naming the request message", async () => {
    const res = await fetch(`${server.url}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(GARBAGE),
    });
    const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
    const status = res.headers.get("grpc-status") ?? /grpc-status: ?(\d+)/.exec(body)?.[1];
    expect(status).toBe("3");
    const message = res.headers.get("grpc-message") ?? /grpc-message: ?(.*)\r/.exec(body)?.[1];
    expect(decodeURIComponent(message ?? "")).toMatch(
      /^cannot decode message convos\.pool\.v1\.CreateSessionRequest from binary: /,
    );
  });
});

describe("a JSON request with a field of the wrong shape", () => {
  const LINEAGE_PATH = `/${LineageEventService.typeName}/RecordLineageEvents`;
  /** Over Connect: the error body's message and field violations. */
  async function connectAnswer(path: string, body: string) {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const json = (await res.json()) as { code: string; message: string };
    return { status: res.status, code: json.code, message: json.message, raw: json };
  }

  it("names the field, over Connect, as a field violation and in the message", async () => {
    const a = await connectAnswer(PATH, '{"inboxId":"x","signature":false}');
    expect(a.status).toBe(400);
    expect(a.code).toBe("invalid_argument");
    expect(a.message).toBe("signature: cannot decode message convos.pool.v1.Signature from JSON: false");
    expect(JSON.stringify(a.raw)).toContain("google.rpc.BadRequest");
  });

  it("names the list item, the nested field, a oneof set twice and a field set by both its names", async () => {
    const cases: [string, string][] = [
      ['{"events":[{"sequence":"1"},{"sequence":"x"}]}', "events[1].sequence: "],
      ['{"events":[{"at":{}}]}', "events[0].at: "],
      ['{"events":[{"ended":{},"claimed":{}}]}', "events[0].event: "],
      ['{"events":[{"ownerChanged":{"ownerId":5}}]}', "events[0].owner_changed.owner_id: "],
      ['{"events":[],"events":7}', "events: "],
      ['{"inbox_id":"a","inboxId":"b"}', "inbox_id: "],
    ];
    for (const [body, field] of cases) {
      const a = await connectAnswer(body.includes("events") ? LINEAGE_PATH : PATH, body);
      expect(a.code, body).toBe("invalid_argument");
      expect(a.message.startsWith(field), `${body}: ${a.message}`).toBe(true);
    }
  });

  it("leaves JSON that does not parse, or is no object, naming the request message", async () => {
    for (const body of ["{", "[1]", '"x"']) {
      const a = await connectAnswer(PATH, body);
      expect(a.code).toBe("invalid_argument");
      expect(a.message).toMatch(/^cannot decode message convos\.pool\.v1\.CreateSessionRequest from JSON: /);
    }
  });

  for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
    it(`reaches a ${protocol} client with its field violation`, async () => {
      const err = await rawJson(protocol, '{"inboxId":"x","signature":{"nonce":7}}');
      expect(err.code, err.message).toBe(Code.InvalidArgument);
      expect(fieldViolations(err)).toEqual([
        {
          field: "signature.nonce",
          description: expect.stringMatching(/^cannot decode field convos\.pool\.v1\.Signature\.nonce from JSON/),
        },
      ]);
      // What decodes is answered as before.
      expect((await rawJson(protocol, '{"inboxId":"x"}')).code).toBe(Code.Unknown);
    });
  }

  for (const protocol of ["grpc", "grpc-web"] as const) {
    // protobuf-es quotes the string; connect-es cannot percent-encode a lone surrogate into grpc-message.
    it(`reaches a ${protocol} client when the wrong value is a lone surrogate it quotes`, async () => {
      const err = await rawJson(protocol, '{"inboxId":"x","signature":{"issuedAt":"\\ud800"}}');
      expect(err.code, err.message).toBe(Code.InvalidArgument);
      expect(fieldViolations(err)[0]?.field).toBe("signature.issued_at");
      expect(err.rawMessage).toContain("\ufffd");
    });
  }

  /** One JSON request over the protocol, sent as it is, its error read as a client reads it (Unknown: none). */
  async function rawJson(protocol: "connect" | "grpc" | "grpc-web", body: string): Promise<ConnectError> {
    const none = new ConnectError("no error", Code.Unknown);
    if (protocol === "connect") {
      const res = await fetch(`${server.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      if (res.status === 200) return none;
      return errorFromJsonBytes(
        new Uint8Array(await res.arrayBuffer()),
        res.headers,
        new ConnectError("no error body"),
      );
    }
    const message = Buffer.from(body);
    if (protocol === "grpc-web") {
      const res = await fetch(`${server.url}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+json" },
        body: envelope(message),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      // The trailer frame is the last one; a message frame may come before it.
      let at = 0;
      while (at + 5 <= bytes.length && (bytes[at]! & 0x80) === 0) at += 5 + bytes.readUInt32BE(at + 1);
      return findTrailerError(at + 5 <= bytes.length ? trailerParse(bytes.subarray(at + 5)) : res.headers) ?? none;
    }
    const session = http2.connect(server.url);
    try {
      const trailer = await new Promise<Headers>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": PATH,
          "content-type": "application/grpc+json",
          te: "trailers",
        });
        const got = new Headers();
        const take = (h: http2.IncomingHttpHeaders) => {
          for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") && typeof v === "string") got.set(k, v);
        };
        req.on("response", take);
        req.on("trailers", take);
        req.on("end", () => resolve(got));
        req.on("error", reject);
        req.resume();
        req.end(envelope(message));
      });
      return findTrailerError(trailer) ?? none;
    } finally {
      session.close();
    }
  }
});
