import { hkdfSync } from "node:crypto";
import { english, generateMnemonic, HDKey, hdKeyToAccount, mnemonicToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { MasterSeed } from "./keys.js";

describe("instance wallets from the master seed", () => {
  it("a mnemonic gives viem's HD account at m/44'/60'/0'/0/<index>", () => {
    const mnemonic = generateMnemonic(english);
    const seed = MasterSeed.parse(mnemonic);
    for (const index of [0, 1, 7, 1000]) {
      expect(seed.wallet(index).address).toBe(mnemonicToAccount(mnemonic, { addressIndex: index }).address);
    }
    expect(new Set([0, 1, 2].map((i) => seed.wallet(i).address)).size).toBe(3);
  });

  it("matches the BIP-39 test vector (abandon x11 about)", () => {
    const seed = MasterSeed.parse(
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
    );
    expect(seed.wallet(0).address).toBe("0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  });

  it("32 bytes of hex are the BIP-32 master seed", () => {
    const hex = `0x${"11".repeat(32)}`;
    const expected = hdKeyToAccount(HDKey.fromMasterSeed(Buffer.from("11".repeat(32), "hex")), {
      addressIndex: 3,
    }).address;
    expect(MasterSeed.parse(hex).wallet(3).address).toBe(expected);
    expect(MasterSeed.parse("11".repeat(32)).wallet(3).address).toBe(expected);
  });

  it("refuses a mnemonic with a bad checksum or unknown word, and other strings", () => {
    expect(() => MasterSeed.parse("abandon ".repeat(12).trim())).toThrow(/checksum/);
    expect(() => MasterSeed.parse(`${"abandon ".repeat(11)}zzzz`)).toThrow(/English list/);
    expect(() => MasterSeed.parse("0x1234")).toThrow(/mnemonic|hex/);
    expect(() => MasterSeed.parse("abandon").wallet(0)).toThrow();
  });

  it("derives the XMTP database key and the credentials key from the wallet key (HKDF), distinct and stable", () => {
    const mnemonic = generateMnemonic(english);
    const w = MasterSeed.parse(mnemonic).wallet(5);
    const again = MasterSeed.parse(mnemonic).wallet(5);
    expect(w.xmtpDbKey()).toHaveLength(32);
    expect(Buffer.from(w.xmtpDbKey())).toEqual(Buffer.from(again.xmtpDbKey()));
    expect(Buffer.from(w.xmtpDbKey())).not.toEqual(Buffer.from(w.credentialsKey()));
    const priv = mnemonicToAccount(mnemonic, { addressIndex: 5 }).getHdKey().privateKey!;
    expect(Buffer.from(w.xmtpDbKey())).toEqual(
      Buffer.from(hkdfSync("sha256", priv, "convos-pool/instance/v1", "xmtp-db-encryption-key", 32)),
    );
    expect(Buffer.from(MasterSeed.parse(mnemonic).wallet(6).xmtpDbKey())).not.toEqual(Buffer.from(w.xmtpDbKey()));
  });

  it("derives the address book's key at rest apart from every other key of the wallet", () => {
    const w = MasterSeed.parse(generateMnemonic(english)).wallet(2);
    const others = [w.xmtpDbKey(), w.credentialsKey(), w.memoryCredentialsKey(), w.memorySealingKey(), w.vaultKey()];
    expect(w.addressBookKey()).toHaveLength(32);
    for (const k of others) expect(Buffer.from(w.addressBookKey())).not.toEqual(Buffer.from(k));
  });
});
