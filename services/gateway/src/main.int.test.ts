// The gateway's main as deployed: that it stops (exit 2, naming the variable)
// on a configuration it refuses, that a deployed service's metrics answer
// only its token, and its pool id and public URLs at work. A real process
// (startServiceProcess), a real PostgreSQL for its table. Each refusal of the
// gateway's own variables is config.test.ts's.
import { describe, expect, it } from "vitest";
import { generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { LOCAL_POOL_ID, signInJson, signSignIn } from "@convos-pool/kit/signing";
import { createTestDatabase, startServiceProcess, TEST_METRICS_TOKEN } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import { keccak256, stringToBytes } from "viem";

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
  it("does not start without a metrics token, nor with a short one: exit 2, naming the variable", async () => {
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

  it("names its pool's signing domain, and refuses a sign-in signed for another pool", async () => {
    const proc = await startServiceProcess(MAIN, { env: await env({ POOL_ID: "pool-east" }) });
    try {
      const domain = await (await fetch(`${proc.url}/api/pool/signing-domain`)).json();
      expect(domain).toEqual({
        pool_id: "pool-east",
        name: "Convos Agent Pool",
        version: "1",
        salt: keccak256(stringToBytes("pool-east")),
      });
      const who = newIdentity();
      const signIn = async (poolId: string) => {
        const signed = await signSignIn(who.account, who.inboxId, proc.url, undefined, poolId);
        return fetch(`${proc.url}/api/pool/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(signInJson(signed)),
        });
      };
      // Relayed from another pool (here: the default one of npm start and the tests).
      const relayed = await signIn(LOCAL_POOL_ID);
      expect(relayed.status).toBe(401);
      expect(((await relayed.json()) as { error: { message: string } }).error.message).toMatch(
        /^signature: not 0x[0-9a-fA-F]{40}'s sign-in to pool "pool-east"/,
      );
      expect((await signIn("pool-east")).status).toBe(200);
    } finally {
      await proc.kill();
    }
  }, 60_000);

  it("takes the URLs people reach it at from POOL_PUBLIC_URL: a sign-in must name one", async () => {
    const proc = await startServiceProcess(MAIN, {
      env: await env({
        POOL_ID: "pool-east",
        POOL_PUBLIC_URL: "https://pool-east.example/, https://www.pool-east.example",
      }),
    });
    try {
      const who = newIdentity();
      const signIn = async (madeFor: string) => {
        const signed = await signSignIn(who.account, who.inboxId, madeFor, undefined, "pool-east");
        const res = await fetch(`${proc.url}/api/pool/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(signInJson(signed)),
        });
        return { status: res.status, body: (await res.json()) as { error?: { message?: string } } };
      };
      // Its own address is not where people reach it any more.
      const own = await signIn(proc.url);
      expect(own.status).toBe(401);
      expect(own.body.error?.message).toMatch(/^origin: the sign-in was made for http:\/\/127\.0\.0\.1:/);
      expect((await signIn("https://pool-east.example/")).status).toBe(200);
      expect((await signIn("https://www.pool-east.example/api")).status).toBe(200);
    } finally {
      await proc.kill();
    }
  }, 60_000);
});
