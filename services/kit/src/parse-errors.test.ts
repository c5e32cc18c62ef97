import * as http2 from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { createLogger } from "./log.js";
import { startServer, type RunningServer } from "./server.js";

let server: RunningServer;
const PATH = "/convos.pool.v1.SessionService/CreateSession";
/** A field number 0: no protobuf parser can read it. */
const GARBAGE = Buffer.from([0x00, 0x01]);
const envelope = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, bytes.length]), bytes]);

beforeAll(async () => {
  server = await startServer({
    name: "parse-errors-test",
    routes: (router: ConnectRouter) => router.service(SessionService, { createSession: async () => ({ token: "t" }) }),
    log: createLogger("test", { level: "silent" }),
  });
});
afterAll(() => server.close());

describe("a request whose protobuf does not parse", () => {
  it("is INVALID_ARGUMENT over Connect (400), saying why", async () => {
    const res = await fetch(`${server.url}${PATH}`, { method: "POST", headers: { "content-type": "application/proto" }, body: GARBAGE });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { code: string; message: string };
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/^parse binary: /);
    // What parses is answered as before.
    const ok = await fetch(`${server.url}${PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(ok.status).toBe(200);
  });

  it("is INVALID_ARGUMENT over gRPC, in the trailers", async () => {
    const session = http2.connect(server.url);
    try {
      const status = await new Promise<string | undefined>((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers" });
        let status: string | undefined;
        req.on("response", (headers) => (status = headers["grpc-status"] as string | undefined)); // a trailers-only answer
        req.on("trailers", (trailers) => (status = trailers["grpc-status"] as string));
        req.on("end", () => resolve(status));
        req.on("error", reject);
        req.resume();
        req.end(envelope(GARBAGE));
      });
      expect(status).toBe("3");
    } finally {
      session.close();
    }
  });

  it("is INVALID_ARGUMENT over gRPC-web, in the trailer frame", async () => {
    const res = await fetch(`${server.url}${PATH}`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: envelope(GARBAGE) });
    const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
    const status = res.headers.get("grpc-status") ?? /grpc-status: ?(\d+)/.exec(body)?.[1];
    expect(status).toBe("3");
  });
});
