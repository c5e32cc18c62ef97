// A REST call's deadline at a kit server's fallback (the gateway's REST):
// a real server on a free port, real HTTP/1.1 requests; the fallback is a
// stand-in that reports what is left of its caller's deadline.
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.js";
import { startServer, type RunningServer } from "../start.js";
import { remainingMs } from "./deadline.js";

let server: RunningServer | undefined;
afterEach(async () => server?.close());

describe("a REST call at a kit server", () => {
  it("runs its handler with its caller's deadline, so the calls it makes carry what is left; none without one", async () => {
    server = await startServer({
      name: "test",
      routes: () => {},
      log: createLogger("test", { level: "silent" }),
      fallback: (_req, res) => {
        const left = remainingMs();
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ left: left ?? null }));
        return true;
      },
    });
    const left = async (headers: Record<string, string>) =>
      ((await (await fetch(`${server!.url}/v1/anything`, { headers })).json()) as { left: number | null }).left;
    const withConnect = await left({ "connect-timeout-ms": "5000" });
    expect(withConnect).toBeGreaterThan(0);
    expect(withConnect).toBeLessThanOrEqual(5000);
    const withGrpc = await left({ "grpc-timeout": "3S" });
    expect(withGrpc).toBeGreaterThan(0);
    expect(withGrpc).toBeLessThanOrEqual(3000);
    expect(await left({})).toBeNull();
  });
});
