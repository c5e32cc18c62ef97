import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "./db.js";
import { consumeNonce, pruneNonces, signatureNoncesMigration } from "./nonces.js";
import { createTestDatabase } from "@convos-pool/testing";

const use = (nonce: string) => ({ nonce, inboxId: "inbox-1", purpose: "UpdateTemplate" });

describe("signature nonces on PostgreSQL", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({
      name: "kit-nonces",
      url: await createTestDatabase("kit_nonces"),
      entities: [],
      migrations: [signatureNoncesMigration],
      poolSize: 25,
    });
  });
  afterAll(async () => {
    await db?.close();
  });

  it("accepts a nonce once", async () => {
    const em = db.em.fork();
    expect(await consumeNonce(em, use("n-once"))).toBe(true);
    expect(await consumeNonce(em, use("n-once"))).toBe(false);
    expect(await consumeNonce(db.em.fork(), { ...use("n-once"), purpose: "Other", inboxId: "inbox-2" })).toBe(false);
    const rows = await em.execute("select inbox_id, purpose, used_at from signature_nonces where nonce = 'n-once'");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ inbox_id: "inbox-1", purpose: "UpdateTemplate" });
  });

  it("forgets a nonce whose transaction rolled back", async () => {
    await expect(
      db.em.fork().transactional(async (tx) => {
        expect(await consumeNonce(tx, use("n-rollback"))).toBe(true);
        throw new Error("mutation failed");
      }),
    ).rejects.toThrow("mutation failed");
    const ok = await db.em.fork().transactional((tx) => consumeNonce(tx, use("n-rollback")));
    expect(ok).toBe(true);
    expect(await consumeNonce(db.em.fork(), use("n-rollback"))).toBe(false);
  });

  it("lets exactly one of 20 concurrent transactions consume a nonce", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        db.em.fork().transactional(async (tx) => {
          const ok = await consumeNonce(tx, use("n-race"));
          await tx.execute("select pg_sleep(0.01)");
          return ok;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("prunes nonces used before a time", async () => {
    const em = db.em.fork();
    await consumeNonce(em, use("n-old"));
    await em.execute("update signature_nonces set used_at = now() - interval '2 days' where nonce = 'n-old'");
    await consumeNonce(em, use("n-new"));
    const pruned = await pruneNonces(em, new Date(Date.now() - 24 * 3600_000));
    expect(pruned).toBe(1);
    expect(await consumeNonce(em, use("n-new"))).toBe(false);
    expect(await consumeNonce(em, use("n-old"))).toBe(true);
  });
});

describe("signature nonces on embedded PGlite", () => {
  // A new PGlite database runs initdb in WebAssembly: seconds alone, tens of seconds beside other test files.
  it("works in transactions on the single connection", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kit-nonces-"));
    const db = await openDatabase({
      name: "kit-nonces",
      embeddedDir: dir,
      entities: [],
      migrations: [signatureNoncesMigration],
    });
    try {
      await expect(
        db.em.fork().transactional(async (tx) => {
          await consumeNonce(tx, use("e-1"));
          throw new Error("rollback");
        }),
      ).rejects.toThrow("rollback");
      expect(await db.em.fork().transactional((tx) => consumeNonce(tx, use("e-1")))).toBe(true);
      expect(await consumeNonce(db.em.fork(), use("e-1"))).toBe(false);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
