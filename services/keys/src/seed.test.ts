// The root key from the environment (seed.ts): the variable or a file, and
// errors that name where the seed came from, never the seed. Real files in
// a temporary directory; no service.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, ServiceEnv } from "@convos-pool/kit/service";
import { KEK_FILE_VAR, masterSeedFromEnv, SEALED_SEED_FILE_VAR, SEED_FILE_VAR, SEED_VAR } from "./seed.js";
import { localKek, sealSeed } from "./sealed-seed.js";

// The well-known development mnemonic: its first account is every Ethereum tool's first test account.
const MNEMONIC = "test test test test test test test test test test test junk";
const FIRST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const BAD = "test test test test test test test test test test test test";

const dir = mkdtempSync(path.join(tmpdir(), "keys-seed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

const refusal = async (vars: NodeJS.ProcessEnv): Promise<Error> => {
  try {
    await masterSeedFromEnv(new ServiceEnv(vars));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as Error;
  }
  throw new Error("not refused");
};

describe("masterSeedFromEnv", () => {
  it(`reads ${SEED_VAR}`, async () => {
    expect((await masterSeedFromEnv(new ServiceEnv({ [SEED_VAR]: MNEMONIC }))).key(0).address).toBe(FIRST_ADDRESS);
  });

  it(`reads the file ${SEED_FILE_VAR} names, its trailing newline aside`, async () => {
    const vars = { [SEED_FILE_VAR]: file("seed", `${MNEMONIC}\n`) };
    expect((await masterSeedFromEnv(new ServiceEnv(vars))).key(0).address).toBe(FIRST_ADDRESS);
  });

  it("refuses two ways, none, and a key-encryption key without a sealed seed, naming the variables", async () => {
    const both = await refusal({ [SEED_VAR]: MNEMONIC, [SEED_FILE_VAR]: file("both", MNEMONIC) });
    expect(both.message).toBe(`${SEED_VAR} and ${SEED_FILE_VAR} are set: give the seed one way`);
    const sealedToo = await refusal({ [SEED_VAR]: MNEMONIC, [SEALED_SEED_FILE_VAR]: file("both-sealed", "{}") });
    expect(sealedToo.message).toBe(`${SEED_VAR} and ${SEALED_SEED_FILE_VAR} are set: give the seed one way`);
    expect((await refusal({})).message).toMatch(
      new RegExp(`^${SEED_VAR} \\(or ${SEED_FILE_VAR}, or ${SEALED_SEED_FILE_VAR}`),
    );
    // A key-encryption key beside a plain seed: the deployment believes its seed sealed.
    const kekAlone = await refusal({ [SEED_VAR]: MNEMONIC, [KEK_FILE_VAR]: file("kek-alone", "11".repeat(32)) });
    expect(kekAlone.message).toBe(
      `${KEK_FILE_VAR} is set without ${SEALED_SEED_FILE_VAR}: it opens only a sealed seed`,
    );
  });

  it("refuses a file that cannot be read, naming it and the reason", async () => {
    const missing = path.join(dir, "absent");
    expect((await refusal({ [SEED_FILE_VAR]: missing })).message).toBe(
      `${SEED_FILE_VAR} ${missing} cannot be read (ENOENT)`,
    );
  });

  it("refuses what is not a seed, saying where it came from and what is wrong, never what it is", async () => {
    const fromVar = await refusal({ [SEED_VAR]: BAD });
    expect(fromVar.message).toBe(`${SEED_VAR}: master seed: the mnemonic's checksum does not match`);
    const bad = file("bad", `${BAD}\n`);
    const fromFile = await refusal({ [SEED_FILE_VAR]: bad });
    expect(fromFile.message).toBe(`${SEED_FILE_VAR} ${bad}: master seed: the mnemonic's checksum does not match`);
    const short = await refusal({ [SEED_VAR]: "ab".repeat(31) });
    expect(short.message).toMatch(/^POOL_MASTER_SEED: master seed: expected/);
    for (const err of [fromVar, fromFile, short]) expect(err.message).not.toMatch(/test test|abab/);
  });

  describe(`sealed (${SEALED_SEED_FILE_VAR} with ${KEK_FILE_VAR})`, () => {
    const KEK = "11".repeat(32);
    const sealedFile = async (name: string, poolId = "pool-a", kekHex = KEK) =>
      file(name, await sealSeed(MNEMONIC, poolId, localKek(Buffer.from(kekHex, "hex"))));

    it("opens the seed with the key-encryption key, in hex or raw, for its own pool", async () => {
      const sealed = await sealedFile("sealed");
      const hexKek = { [SEALED_SEED_FILE_VAR]: sealed, [KEK_FILE_VAR]: file("kek.hex", `${KEK}\n`), POOL_ID: "pool-a" };
      expect((await masterSeedFromEnv(new ServiceEnv(hexKek))).key(0).address).toBe(FIRST_ADDRESS);
      const rawFile = path.join(dir, "kek.raw");
      writeFileSync(rawFile, Buffer.from(KEK, "hex"));
      const raw = { ...hexKek, [KEK_FILE_VAR]: rawFile };
      expect((await masterSeedFromEnv(new ServiceEnv(raw))).key(0).address).toBe(FIRST_ADDRESS);
    });

    it("refuses without the key or the pool, with another key or pool, and a changed file, never saying the seed or a key", async () => {
      const sealed = await sealedFile("sealed-2");
      const kek = file("kek-2", KEK);
      const noKek = await refusal({ [SEALED_SEED_FILE_VAR]: sealed, POOL_ID: "pool-a" });
      expect(noKek.message).toMatch(new RegExp(`^${KEK_FILE_VAR} is required`));
      const noPool = await refusal({ [SEALED_SEED_FILE_VAR]: sealed, [KEK_FILE_VAR]: kek });
      expect(noPool.message).toMatch(/^POOL_ID is required/);
      const wrongKek = await refusal({
        [SEALED_SEED_FILE_VAR]: sealed,
        [KEK_FILE_VAR]: file("kek-other", "22".repeat(32)),
        POOL_ID: "pool-a",
      });
      expect(wrongKek.message).toBe(
        `${SEALED_SEED_FILE_VAR} ${sealed}: the data key does not unwrap under this key-encryption key`,
      );
      const otherPool = await refusal({ [SEALED_SEED_FILE_VAR]: sealed, [KEK_FILE_VAR]: kek, POOL_ID: "pool-b" });
      expect(otherPool.message).toBe(
        `${SEALED_SEED_FILE_VAR} ${sealed}: it is the seed of the pool "pool-a", not of "pool-b"`,
      );
      // The header says another pool: the key opens nothing bound to the first.
      const relabelled = file("relabelled", readFileSync(sealed, "utf8").replace('"pool-a"', '"pool-b"'));
      const moved = await refusal({ [SEALED_SEED_FILE_VAR]: relabelled, [KEK_FILE_VAR]: kek, POOL_ID: "pool-b" });
      expect(moved.message).toMatch(/does not unwrap/);
      const shortKek = await refusal({
        [SEALED_SEED_FILE_VAR]: sealed,
        [KEK_FILE_VAR]: file("kek-short", "11".repeat(31)),
        POOL_ID: "pool-a",
      });
      expect(shortKek.message).toMatch(/32 bytes/);
      const notJson = await refusal({
        [SEALED_SEED_FILE_VAR]: file("plain", MNEMONIC),
        [KEK_FILE_VAR]: kek,
        POOL_ID: "pool-a",
      });
      expect(notJson.message).toMatch(/it is not JSON$/);
      for (const err of [noKek, noPool, wrongKek, otherPool, moved, shortKek, notJson])
        expect(err.message).not.toMatch(/test test|1111|2222/);
    });
  });
});
