import {
  english,
  generateMnemonic,
  HDKey,
  hdKeyToAccount,
  mnemonicToAccount,
  privateKeyToAddress,
} from "viem/accounts";
import { describe, expect, it } from "vitest";
import { MasterSeed, MAX_WALLET_INDEX } from "./master-seed.js";

describe("agents' wallets from the pool's seed", () => {
  it("a mnemonic gives viem's HD account at m/44'/60'/0'/0/<index>: the private key and its address", () => {
    const mnemonic = generateMnemonic(english);
    const seed = MasterSeed.parse(mnemonic);
    for (const index of [0, 1, 7, 1000]) {
      const key = seed.key(index);
      const account = mnemonicToAccount(mnemonic, { addressIndex: index });
      expect(key.address).toBe(account.address);
      expect(privateKeyToAddress(key.privateKey)).toBe(account.address);
      expect(key.index).toBe(index);
    }
    expect(new Set([0, 1, 2].map((i) => seed.key(i).address)).size).toBe(3);
  });

  it("matches the BIP-39 test vector (abandon x11 about)", () => {
    const seed = MasterSeed.parse(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    );
    expect(seed.key(0).address).toBe("0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  });

  it("32 bytes of hex are the BIP-32 master seed", () => {
    const expected = hdKeyToAccount(HDKey.fromMasterSeed(Buffer.from("11".repeat(32), "hex")), {
      addressIndex: 3,
    }).address;
    expect(MasterSeed.parse(`0x${"11".repeat(32)}`).key(3).address).toBe(expected);
    expect(MasterSeed.parse("11".repeat(32)).key(3).address).toBe(expected);
  });

  it("refuses a mnemonic with a bad checksum or unknown word, other strings, and an index out of range", () => {
    expect(() => MasterSeed.parse("abandon ".repeat(12).trim())).toThrow(/checksum/);
    expect(() => MasterSeed.parse(`${"abandon ".repeat(11)}zzzz`)).toThrow(/English list/);
    expect(() => MasterSeed.parse("0x1234")).toThrow(/mnemonic|hex/);
    expect(() => MasterSeed.parse("abandon")).toThrow();
    const seed = MasterSeed.parse("11".repeat(32));
    for (const bad of [-1, 1.5, MAX_WALLET_INDEX + 1]) expect(() => seed.key(bad)).toThrow(/outside/);
  });
});
