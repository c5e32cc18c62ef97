// The sealed seed (sealed-seed.ts): what is sealed opens, under its own key
// and pool only; any changed byte opens nothing; a rotation keeps the seed.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { localKek, openSealedSeed, rewrapSealedSeed, SealedSeedError, sealSeed } from "./sealed-seed.js";

const kek = () => localKek(randomBytes(32));

describe("a sealed seed", () => {
  it("opens to what was sealed, for any seed text and pool", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 200 }).filter((t) => t.trim() !== ""),
        fc.stringMatching(/^[a-z0-9]{1,20}$/),
        async (seed, poolId) => {
          const k = kek();
          expect(await openSealedSeed(await sealSeed(seed, poolId, k), poolId, k)).toBe(seed.trim());
        },
      ),
      { numRuns: 50 },
    );
  });

  it("opens nothing once any byte of its ciphertexts changed", async () => {
    const k = kek();
    const text = await sealSeed("22".repeat(32), "pool-a", k);
    const file = JSON.parse(text) as Record<string, string>;
    for (const field of ["wrapped_key", "sealed_seed"]) {
      const bytes = Buffer.from(file[field]!, "base64");
      for (let i = 0; i < bytes.length; i += 7) {
        const changed = Buffer.from(bytes);
        changed[i]! ^= 1;
        const edited = JSON.stringify({ ...file, [field]: changed.toString("base64") });
        await expect(openSealedSeed(edited, "pool-a", k)).rejects.toBeInstanceOf(SealedSeedError);
      }
    }
  });

  it("is sealed anew each time: the same seed twice gives two files", async () => {
    const k = kek();
    expect(await sealSeed("seed", "p", k)).not.toBe(await sealSeed("seed", "p", k));
  });

  it("opens under its own key-encryption key alone", async () => {
    const sealed = await sealSeed("the seed", "pool-a", kek());
    await expect(openSealedSeed(sealed, "pool-a", kek())).rejects.toThrow(
      "the data key does not unwrap under this key-encryption key",
    );
  });

  it("is refused by another pool, and relabelled for it opens nothing", async () => {
    const k = kek();
    const sealed = await sealSeed("the seed", "pool-a", k);
    await expect(openSealedSeed(sealed, "pool-b", k)).rejects.toThrow(
      'it is the seed of the pool "pool-a", not of "pool-b"',
    );
    const relabelled = JSON.stringify({ ...JSON.parse(sealed), pool_id: "pool-b" });
    await expect(openSealedSeed(relabelled, "pool-b", k)).rejects.toThrow(/does not unwrap/);
  });

  it("moves to a new key-encryption key with the same seed and the same ciphertext, and the old key opens the new file no more", async () => {
    const [old, next] = [kek(), kek()];
    const sealed = await sealSeed("the seed", "pool-a", old);
    const rotated = await rewrapSealedSeed(sealed, "pool-a", old, next);
    expect(await openSealedSeed(rotated, "pool-a", next)).toBe("the seed");
    const [before, after] = [sealed, rotated].map((t) => JSON.parse(t) as Record<string, string>);
    expect(after!.sealed_seed).toBe(before!.sealed_seed);
    expect(after!.wrapped_key).not.toBe(before!.wrapped_key);
    await expect(openSealedSeed(rotated, "pool-a", old)).rejects.toThrow(/does not unwrap/);
    await expect(rewrapSealedSeed(sealed, "pool-a", next, old)).rejects.toThrow(/does not unwrap/);
    // A changed seed is not carried over to the new key unseen.
    const changed = Buffer.from(before!.sealed_seed!, "base64");
    changed[20]! ^= 1;
    const tampered = JSON.stringify({ ...before, sealed_seed: changed.toString("base64") });
    await expect(rewrapSealedSeed(tampered, "pool-a", old, next)).rejects.toThrow("the seed does not open");
  });

  it("refuses what it cannot read: another format or version, a field missing, a key not 32 bytes", async () => {
    const k = kek();
    const file = JSON.parse(await sealSeed("s", "p", k)) as Record<string, unknown>;
    const open = (f: unknown) => openSealedSeed(JSON.stringify(f), "p", k);
    await expect(open({ ...file, format: "other" })).rejects.toThrow(/not a convos-pool.sealed-seed file/);
    await expect(open({ ...file, version: 2 })).rejects.toThrow(/version 2 is not one this pool reads/);
    await expect(open({ ...file, wrapped_key: "" })).rejects.toThrow(/wrapped_key is missing/);
    await expect(open({ ...file, kek: "kms" })).rejects.toThrow(/wrapped by a "kms" key, not a "local" one/);
    expect(() => localKek(new Uint8Array(16))).toThrow(/32 bytes, not 16/);
  });
});
