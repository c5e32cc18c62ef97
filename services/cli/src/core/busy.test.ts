// `pool` when the gateway refuses a request it cannot take now (429 or 503
// with Retry-After): the CLI says so on stderr, waits the named delay and
// sends it again, under the kit's retry budget (docs/cli.md, "When the pool
// is busy"). Real: the CLI as `pool` runs (main.ts `run`) and the kit's
// retry policy. Stand-ins: the gateway (test/stand-in-gateway.ts) and the
// wait, which records its milliseconds and returns at once.
import { describe, expect, it } from "vitest";
import { json, standInGateway } from "../../test/stand-in-gateway.js";
import { run as runCli } from "../main.js";
import { retryAfterMs } from "./http.js";

/** The CLI as scripts run it (`--json`). */
const run: typeof runCli = (argv, io) => runCli(["--json", ...argv], io);

const g = standInGateway();
const MODELS = { models: ["gpt-oss-20b"] };
const refused = (status: number, retryAfter?: string) =>
  json(
    status,
    { error: { type: "rate_limited", code: "resource_exhausted", message: "too many requests; try again in 2 s" } },
    retryAfter ? { "retry-after": retryAfter } : {},
  );

function waits() {
  const ms: number[] = [];
  return { ms, pause: async (n: number) => void ms.push(n) };
}

describe("a busy pool", () => {
  it("says it is busy, waits the Retry-After and then answers", async () => {
    const w = waits();
    g.replies.push(refused(429, "2"), json(200, MODELS));
    expect(await run(["models"], g.io({ pause: w.pause }))).toBe(0);
    expect(g.calls).toHaveLength(2);
    expect(w.ms).toHaveLength(1);
    expect(w.ms[0]).toBeGreaterThanOrEqual(2000);
    expect(g.stderr()).toMatch(/^the pool is busy, trying again in 2 s\n$/);
    expect(JSON.parse(g.stdout())).toEqual(MODELS);
  });

  it("sends a 503 with Retry-After again too (no idle agent right now)", async () => {
    const w = waits();
    g.replies.push(refused(503, "5"), json(200, MODELS));
    expect(await run(["models"], g.io({ pause: w.pause }))).toBe(0);
    // 5 s and its jitter, at most a fifth more.
    expect(g.stderr()).toMatch(/^the pool is busy, trying again in [56] s\n$/);
  });

  it("does not send again a refusal without Retry-After (a cap, where waiting does not help)", async () => {
    const w = waits();
    g.replies.push(refused(429));
    expect(await run(["models"], g.io({ pause: w.pause }))).toBe(1);
    expect(g.calls).toHaveLength(1);
    expect(w.ms).toEqual([]);
    expect(g.stderr()).not.toContain("trying again");
  });

  it("tells a wait longer than ten seconds to the person instead of waiting it", async () => {
    const w = waits();
    g.replies.push(refused(429, "45"));
    expect(await run(["models"], g.io({ pause: w.pause }))).toBe(1);
    expect(g.calls).toHaveLength(1);
    expect(g.stderr()).toContain("try again in 2 s");
    expect(g.stderr()).not.toContain("trying again");
  });

  it("gives up after three retries of one request", async () => {
    const w = waits();
    g.replies.push(refused(429, "1"), refused(429, "1"), refused(429, "1"), refused(429, "1"));
    expect(await run(["models"], g.io({ pause: w.pause }))).toBe(1);
    expect(g.calls).toHaveLength(4);
    expect(w.ms).toHaveLength(3);
  });
});

describe("retryAfterMs", () => {
  it("reads seconds or a date on a 429 or 503 only", () => {
    expect(retryAfterMs(429, "3", 0)).toBe(3000);
    expect(retryAfterMs(503, " 1 ", 0)).toBe(1000);
    expect(retryAfterMs(503, "Thu, 01 Jan 1970 00:00:04 GMT", 1000)).toBe(3000);
    expect(retryAfterMs(500, "3", 0)).toBeUndefined();
    expect(retryAfterMs(429, null, 0)).toBeUndefined();
    expect(retryAfterMs(429, "soon", 0)).toBeUndefined();
  });
});
