// Rate limits counted in PostgreSQL (rate-counters.ts): two databases opened
// on one real PostgreSQL server stand for two replicas of a service (each its
// own ORM and pool, as two processes have); and the embedded PGlite database
// of `npm start`, which has a single session.
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@convos-pool/testing";
import { isDatabaseAway } from "../server/db-away.js";
import { openDatabase, type Database } from "./db.js";
import { limitExceededOf, RateLimit } from "../server/limits.js";
import { postgresRates, pruneRateCounters, rateCountersMigration } from "./rate-counters.js";

const open = (url: string) =>
  openDatabase({ name: "kit-rates", url, entities: [], migrations: [rateCountersMigration], poolSize: 5 });

/** What each take came to: "ok", or the limit that refused it. */
const outcome = (p: Promise<void>) =>
  p.then(
    () => "ok",
    (err: unknown) => limitExceededOf(err)?.limit ?? `error: ${(err as Error).message}`,
  );

describe("rate counters in PostgreSQL", () => {
  let url: string;
  let a: Database;
  let b: Database;
  beforeAll(async () => {
    url = await createTestDatabase("kit_rates");
    [a, b] = [await open(url), await open(url)];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("holds a concurrent burst split across two replicas to one allowance", async () => {
    const rate = { points: 10, seconds: 60 };
    const [ra, rb] = [
      new RateLimit("claims per caller", rate, postgresRates(a.em)),
      new RateLimit("claims per caller", rate, postgresRates(b.em)),
    ];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => outcome((i % 2 ? ra : rb).take("inbox-burst"))),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(results.filter((r) => r !== "ok")).toEqual(Array(30).fill("claims per caller"));
    // Another key has its own allowance, at either replica.
    expect(await outcome(rb.take("inbox-other"))).toBe("ok");
    // Read back where every replica sees it: one row per key, its window's end ahead.
    const rows = await a.em
      .fork()
      .execute<{ key: string; points: number; expire: string }[]>(
        "select key, points, expire from rate_counters where key like 'claims per caller:%' order by key",
      );
    expect(rows.map((r) => r.key)).toEqual(["claims per caller:inbox-burst", "claims per caller:inbox-other"]);
    // Each replica stops asking the database once it has seen the key over its limit (answered from memory).
    expect(rows[0]!.points).toBeGreaterThan(10);
    expect(rows[0]!.points).toBeLessThanOrEqual(40);
    expect(Number(rows[0]!.expire)).toBeGreaterThan(Date.now() + 50_000);
  });

  it("keeps limits of different names apart, and gives the allowance back when the window ends", async () => {
    const short = { points: 2, seconds: 1 };
    const [x, y] = [
      new RateLimit("sign-ins per inbox", short, postgresRates(a.em)),
      new RateLimit("sign-ins per client address", short, postgresRates(b.em)),
    ];
    const before = [
      await outcome(x.take("k")),
      await outcome(x.take("k")),
      await outcome(y.take("k")),
      await outcome(x.take("k")),
    ];
    expect(before).toEqual(["ok", "ok", "ok", "sign-ins per inbox"]);
    // The other replica sees the spent allowance too, and the retry-after of the window.
    const other = new RateLimit("sign-ins per inbox", short, postgresRates(b.em));
    const err = await other.take("k").catch((e: unknown) => e);
    expect(limitExceededOf(err)).toEqual({ limit: "sign-ins per inbox", retryAfterSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_100)); // the scenario: the 1 s window passes
    expect(await outcome(other.take("k"))).toBe("ok");
    expect(await outcome(x.take("k"))).toBe("ok");
  });

  it("prunes counters whose window ended, and only those", async () => {
    const limit = new RateLimit("template writes per creator", { points: 5, seconds: 3600 }, postgresRates(a.em));
    await limit.take("live");
    await a.em
      .fork()
      .execute(`insert into rate_counters (key, points, expire) values ('gone:k', 3, ?)`, [Date.now() - 1000]);
    expect(await pruneRateCounters(b.em.fork())).toBeGreaterThanOrEqual(1);
    const keys = (await a.em.fork().execute<{ key: string }[]>("select key from rate_counters")).map((r) => r.key);
    expect(keys).toContain("template writes per creator:live");
    expect(keys).not.toContain("gone:k");
  });

  it("lets nothing through uncounted when its database is away: the refusal is the database's, UNAVAILABLE to a client", async () => {
    // The database reached through a TCP relay of our own, which then goes away with its connections.
    const target = new URL(url);
    const links = new Set<net.Socket>();
    const relay = net.createServer((inbound) => {
      const outbound = net.connect(Number(target.port), target.hostname);
      for (const s of [inbound, outbound]) {
        links.add(s);
        s.on("error", () => {});
        s.once("close", () => links.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    relay.listen(0, "127.0.0.1");
    await once(relay, "listening");
    const relayed = new URL(url);
    relayed.port = String((relay.address() as net.AddressInfo).port);
    const away = await open(relayed.toString());
    try {
      const limit = new RateLimit("claims per caller", { points: 100, seconds: 60 }, postgresRates(away.em));
      expect(await outcome(limit.take("before"))).toBe("ok");
      relay.close();
      for (const s of links) s.destroy();
      const err = await limit.take("after").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      expect(limitExceededOf(err)).toBeUndefined();
      expect(isDatabaseAway(err)).toBe(true);
    } finally {
      await away.close();
    }
  });
});

describe("rate counters in the embedded database", () => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kit-rates-"));
    db = await openDatabase({ name: "kit-rates", embeddedDir: dir, entities: [], migrations: [rateCountersMigration] });
  });
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("counts over its single session, beside the ORM's own queries", async () => {
    const limit = new RateLimit("claims per client address", { points: 3, seconds: 60 }, postgresRates(db.em));
    const results = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        // An ORM query in between, on the same one connection.
        if (i % 2) await db.em.fork().execute("select 1");
        return outcome(limit.take("127.0.0.1"));
      }),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(3);
    expect(results.filter((r) => r === "claims per client address")).toHaveLength(3);
  });

  it("counts for several limits at once, as the gateway of npm start does (its connections share the one session)", async () => {
    const rates = postgresRates(db.em);
    const limits = ["sign-ins", "claims", "template writes"].map(
      (name) => new RateLimit(`${name} per client address`, { points: 2, seconds: 60 }, rates),
    );
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => outcome(limits[i % 3]!.take(`10.0.0.${i % 2}`))),
    );
    expect(results.filter((r) => r.startsWith("error"))).toEqual([]);
    expect(results.filter((r) => r === "ok")).toHaveLength(12);
    // Each limit and address its own count: a third take of one is refused.
    expect(await outcome(limits[1]!.take("10.0.0.1"))).toBe("claims per client address");
    // The pool's one connection closes when idle and a new one opens on the same session, where the
    // queries the old one prepared still are: the counters must not trip over them.
    const pool = (await db.em.getConnection().getNativeClient()) as {
      connect(): Promise<{ release(destroy?: boolean): void }>;
    };
    (await pool.connect()).release(true);
    await new Promise((r) => setTimeout(r, 500)); // the server frees its one slot
    expect(await outcome(limits[0]!.take("10.0.0.9"))).toBe("ok");
  });
});
