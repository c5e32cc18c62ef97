// The root key from the environment (seed.ts): the variable or a file, and
// errors that name where the seed came from, never the seed. Real files in
// a temporary directory; no service.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, ServiceEnv } from "@convos-pool/kit/service";
import { masterSeedFromEnv, SEED_FILE_VAR, SEED_VAR } from "./seed.js";

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

const refusal = (vars: NodeJS.ProcessEnv): Error => {
  try {
    masterSeedFromEnv(new ServiceEnv(vars));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as Error;
  }
  throw new Error("not refused");
};

describe("masterSeedFromEnv", () => {
  it(`reads ${SEED_VAR}`, () => {
    expect(masterSeedFromEnv(new ServiceEnv({ [SEED_VAR]: MNEMONIC })).key(0).address).toBe(FIRST_ADDRESS);
  });

  it(`reads the file ${SEED_FILE_VAR} names, its trailing newline aside`, () => {
    const vars = { [SEED_FILE_VAR]: file("seed", `${MNEMONIC}\n`) };
    expect(masterSeedFromEnv(new ServiceEnv(vars)).key(0).address).toBe(FIRST_ADDRESS);
  });

  it("refuses both, and neither, naming the variables", () => {
    const both = refusal({ [SEED_VAR]: MNEMONIC, [SEED_FILE_VAR]: file("both", MNEMONIC) });
    expect(both.message).toBe(`${SEED_VAR} and ${SEED_FILE_VAR} are both set: give the seed one way`);
    expect(refusal({}).message).toMatch(new RegExp(`^${SEED_VAR} \\(or ${SEED_FILE_VAR}\\) is required`));
  });

  it("refuses a file that cannot be read, naming it and the reason", () => {
    const missing = path.join(dir, "absent");
    expect(refusal({ [SEED_FILE_VAR]: missing }).message).toBe(`${SEED_FILE_VAR} ${missing} cannot be read (ENOENT)`);
  });

  it("refuses what is not a seed, saying where it came from and what is wrong, never what it is", () => {
    const fromVar = refusal({ [SEED_VAR]: BAD });
    expect(fromVar.message).toBe(`${SEED_VAR}: master seed: the mnemonic's checksum does not match`);
    const bad = file("bad", `${BAD}\n`);
    const fromFile = refusal({ [SEED_FILE_VAR]: bad });
    expect(fromFile.message).toBe(`${SEED_FILE_VAR} ${bad}: master seed: the mnemonic's checksum does not match`);
    const short = refusal({ [SEED_VAR]: "ab".repeat(31) });
    expect(short.message).toMatch(/^POOL_MASTER_SEED: master seed: expected/);
    for (const err of [fromVar, fromFile, short]) expect(err.message).not.toMatch(/test test|abab/);
  });
});
