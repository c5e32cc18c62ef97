// How a service process reads its environment and closes what it opened.
// In memory; service.int.test.ts runs a real service main in a child process.
import { describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";
import { createLogger } from "../server/log.js";
import { ConfigError, Lifetime, ServiceEnv, configured } from "./run.js";

const log = createLogger("test", { level: "silent" });

describe("ServiceEnv", () => {
  it("treats an empty variable as unset, and names a missing required one with what it is for", () => {
    const env = new ServiceEnv({ EMPTY: " ", SET: "x" });
    expect(env.optional("EMPTY")).toBeUndefined();
    expect(env.optional("SET")).toBe("x");
    expect(() => env.required("TEMPLATES_URL", "where the templates service listens")).toThrow(
      new ConfigError("TEMPLATES_URL is required: where the templates service listens"),
    );
  });

  it("reads whole numbers with a floor, and refuses anything else naming the variable", () => {
    const env = new ServiceEnv({ LEASE: "20", LOW: "3", WORD: "ten", PORT: "7002" });
    expect(env.int("LEASE", undefined, 4)).toBe(20);
    expect(env.int("MISSING", 10)).toBe(10);
    expect(env.int("MISSING", undefined)).toBeUndefined();
    expect(() => env.int("LOW", undefined, 4)).toThrow("LOW must be a whole number, at least 4");
    expect(() => env.int("WORD", 1)).toThrow("WORD must be a whole number");
    expect(env.port(7001)).toBe(7002);
    expect(new ServiceEnv({}).port(7001)).toBe(7001);
    expect(new ServiceEnv({}).host()).toBe("0.0.0.0");
  });

  it("splits lists on commas and drops blanks", () => {
    expect(new ServiceEnv({ URLS: " http://a , ,http://b," }).list("URLS")).toEqual(["http://a", "http://b"]);
    expect(new ServiceEnv({}).list("URLS")).toEqual([]);
  });

  it("turns a credential mistake into a ConfigError with the reader's message", () => {
    expect(() => new ServiceEnv({}).credentials("claims")).toThrow(ConfigError);
    expect(() => new ServiceEnv({}).credentials("claims")).toThrow(
      /POOL_SERVICE_TOKEN \(or POOL_SERVICE_TOKEN_FILE\) is required/,
    );
    expect(() => configured(() => JSON.parse("{"))).toThrow(ConfigError);
  });
});

describe("Lifetime", () => {
  it("closes what was deferred last first, once, and throws the first failure after running every closer", async () => {
    const lifetime = new Lifetime(log);
    const order: string[] = [];
    lifetime.defer(() => order.push("database"));
    lifetime.defer(() => {
      order.push("client");
      throw new Error("client would not close");
    });
    lifetime.defer(async () => void order.push("server"));
    await expect(lifetime.close()).rejects.toThrow("client would not close");
    await expect(lifetime.close()).rejects.toThrow("client would not close");
    expect(order).toEqual(["server", "client", "database"]);
  });

  it("runs a background job until closed, logging its failures instead of throwing them", async () => {
    const warnings: string[] = [];
    const lifetime = new Lifetime({ ...log, warn: (message: string) => void warnings.push(message) });
    let runs = 0;
    const every = 5;
    lifetime.every(every, "the sweep", async () => {
      runs++;
      throw new Error("database away");
    });
    await waitFor("a failed run logged", () => warnings.length > 0, 2_000, every);
    await lifetime.close();
    const after = runs;
    expect(after).toBeGreaterThan(0);
    expect(warnings[0]).toBe("the sweep failed");
    // Nothing to wait for when nothing may happen: four of the job's periods,
    // in which a timer that close() had left would have run again.
    await new Promise((resolve) => setTimeout(resolve, 4 * every));
    expect(runs).toBe(after);
  });

  it("abandons a half-made start: closes what it opened and rethrows the cause", async () => {
    const lifetime = new Lifetime(log);
    let closed = false;
    lifetime.defer(() => {
      closed = true;
      throw new Error("ignored while abandoning");
    });
    await expect(lifetime.abandon(new Error("port in use"))).rejects.toThrow("port in use");
    expect(closed).toBe(true);
  });
});
