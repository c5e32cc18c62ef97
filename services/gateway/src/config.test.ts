// What the gateway refuses to start with, read from an environment as main.ts
// reads it (main.int.test.ts starts the process itself, for what only a
// process shows: its exit code, its metrics, its public URLs at work).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { ServiceEnv } from "@convos-pool/kit/service";
import { gatewayOptions } from "./config.js";

const log = createLogger("gateway-config-test", { level: "silent" });
const BASE = { POOL_ID: "pool-east", ...serviceEnv(generateServiceCredentials().gateway) };

const options = (over: Record<string, string>) => gatewayOptions(new ServiceEnv({ ...BASE, ...over }), log);

describe("gatewayOptions", () => {
  it("refuses a session secret shorter than 32 bytes, naming the variable", async () => {
    await expect(options({ POOL_SESSION_SECRET: "x".repeat(31) })).rejects.toThrow(
      /POOL_SESSION_SECRET must be at least 32 bytes/,
    );
  });

  it("refuses no pool id, and one that is not lower-case letters, digits and dashes", async () => {
    await expect(options({ POOL_ID: "" })).rejects.toThrow(/POOL_ID is required/);
    await expect(options({ POOL_ID: "Pool One" })).rejects.toThrow(/POOL_ID must be lower-case letters/);
  });

  it("refuses a malformed sign-in key without printing it, and a key with no XMTP node", async () => {
    const key = `0x${"ab".repeat(31)}zz`;
    const err = await options({ POOL_SIGN_IN_KEY: key }).then(
      () => new Error("taken"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^POOL_SIGN_IN_KEY: must be 0x and 64 hex digits/);
    expect(err.message).not.toContain("abababab");
    await expect(options({ POOL_SIGN_IN_KEY: `0x${"11".repeat(32)}` })).rejects.toThrow(
      /POOL_SIGN_IN_KEY needs XMTP_API_URL/,
    );
  });

  it("refuses a public URL that is not http(s), naming it", async () => {
    await expect(options({ POOL_PUBLIC_URL: "ftp://x" })).rejects.toThrow(
      /POOL_PUBLIC_URL: "ftp:\/\/x" is not an http\(s\) URL/,
    );
  });

  it("takes a sound environment: public URLs, origins for CORS, the sign-in inbox's folder made", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-config-"));
    const o = await options({
      POOL_PUBLIC_URL: "https://pool-east.example/, https://www.pool-east.example",
      CORS_ORIGINS: "https://a.example,https://b.example",
      POOL_SIGN_IN_KEY: `0x${"11".repeat(32)}`,
      XMTP_API_URL: "http://127.0.0.1:9",
      POOL_SIGN_IN_DB: join(dir, "inbox", "xmtp.db3"),
    });
    expect(o.poolId).toBe("pool-east");
    expect(o.publicUrls).toEqual(["https://pool-east.example/", "https://www.pool-east.example"]);
    expect(o.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(o.signInInbox?.dbPath).toBe(join(dir, "inbox", "xmtp.db3"));
  });
});
