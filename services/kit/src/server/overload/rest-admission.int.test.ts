// The admission of a kit server's REST face (its fallback: the gateway's
// REST): a real server on a free port (startServer, its admission set to a
// limit of two that never waits, listings kept to half of it), real HTTP/1.1
// requests. The fallback is a stand-in that counts the requests it serves
// and holds each until the test lets it go; its route table is a stand-in
// too (a listing named as TemplateService/BrowseStore, an approval as
// ApprovalService/AnswerApproval), in the gateway's place.
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";
import { createLogger } from "../log.js";
import { startServer, type RunningServer } from "../start.js";

let server: RunningServer | undefined;
afterEach(async () => server?.close());

describe("a kit server's REST face under overload", () => {
  it("refuses a flood of listings before reading them, with 429 and Retry-After, while an approval is let in", async () => {
    let served = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    server = await startServer({
      name: "gateway",
      routes: () => {},
      log: createLogger("test", { level: "silent" }),
      admission: {
        limit: { initial: 2, min: 2, max: 2 },
        shares: { critical: 1, default: 1, sheddable: 0.5 },
        waitLatencies: { critical: 0, default: 0, sheddable: 0 },
      },
      fallbackRpc: (method, path) =>
        method === "GET" && path === "/api/pool/templates"
          ? "TemplateService/BrowseStore"
          : method === "POST" && path === "/api/pool/approvals"
            ? "ApprovalService/AnswerApproval"
            : undefined,
      fallback: async (_req, res) => {
        served++;
        await held;
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return true;
      },
    });
    const url = `${server.url}/api/pool`;
    const first = fetch(`${url}/templates`);
    await waitFor("the first listing at work", () => served === 1);
    const flood = await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/templates`)));
    expect(flood.map((r) => r.status)).toEqual(Array(8).fill(429));
    expect(flood[0]?.headers.get("retry-after")).toBe("1");
    expect(await flood[0]?.json()).toEqual({
      error: { type: "rate_limited", code: "resource_exhausted", message: "gateway is busy; try again in 1 s" },
    });
    expect(served).toBe(1);
    const approval = fetch(`${url}/approvals`, { method: "POST", body: "{}" });
    await waitFor("the approval at work", () => served === 2);
    release();
    expect((await approval).status).toBe(200);
    expect((await first).status).toBe(200);
  });

  it("refuses a REST request whose deadline has passed with 504, without serving it", async () => {
    let served = 0;
    server = await startServer({
      name: "gateway",
      routes: () => {},
      log: createLogger("test", { level: "silent" }),
      fallback: (_req, res) => {
        served++;
        res.writeHead(200);
        res.end();
        return true;
      },
    });
    const res = await fetch(`${server.url}/api/pool/agents`, { headers: { "connect-timeout-ms": "0" } });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("deadline_exceeded");
    expect(served).toBe(0);
  });
});
