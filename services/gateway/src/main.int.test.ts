// The gateway's main as deployed: what it refuses to start with, and that a
// deployed service's metrics answer only its token. A real process
// (startServiceProcess), a real PostgreSQL for its table.
import { describe, expect, it } from "vitest";
import { generateServiceCredentials, serviceEnv } from "@convos-pool/kit";
import { createTestDatabase, startServiceProcess, TEST_METRICS_TOKEN } from "@convos-pool/testing";

const MAIN = "services/gateway/src/main.ts";
const creds = generateServiceCredentials();

async function env(over: Record<string, string>) {
  return {
    DATABASE_URL: await createTestDatabase("gateway_main"),
    ...serviceEnv(creds.gateway),
    ...over,
  };
}

describe("the gateway's main", () => {
  it("does not start with a session secret shorter than 32 bytes, and says which variable", async () => {
    const started = startServiceProcess(MAIN, { env: await env({ POOL_SESSION_SECRET: "x".repeat(31) }) });
    await expect(started).rejects.toThrow(/exited \(2\)[\s\S]*POOL_SESSION_SECRET must be at least 32 bytes/);
  }, 60_000);

  it("does not start without a metrics token, nor with a short one", async () => {
    const none = startServiceProcess(MAIN, { env: await env({ POOL_METRICS_TOKEN: "" }) });
    await expect(none).rejects.toThrow(/exited \(2\)[\s\S]*POOL_METRICS_TOKEN is required/);
    const short = startServiceProcess(MAIN, { env: await env({ POOL_METRICS_TOKEN: "short" }) });
    await expect(short).rejects.toThrow(/exited \(2\)[\s\S]*POOL_METRICS_TOKEN must be at least 16 bytes/);
  }, 60_000);

  it("serves its metrics only to a scrape with the token", async () => {
    const proc = await startServiceProcess(MAIN, {
      env: await env({ POOL_SESSION_SECRET: "s".repeat(32) }),
    });
    try {
      expect((await fetch(`${proc.url}/metrics`)).status).toBe(401);
      const wrong = await fetch(`${proc.url}/metrics`, { headers: { authorization: "Bearer not-the-token-at-all" } });
      expect(wrong.status).toBe(401);
      const scrape = await fetch(`${proc.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain("pool_service");
    } finally {
      await proc.kill();
    }
  }, 60_000);
});
