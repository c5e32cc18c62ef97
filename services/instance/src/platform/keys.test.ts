import { hkdfSync } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { english, generateMnemonic, mnemonicToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { MasterSeed, MAX_WALLET_INDEX } from "@convos-pool/kit/signing";
import { seedKeys, walletAt } from "./keys.js";

describe("an agent's keys from its wallet key", () => {
  it("derives the XMTP database key and the credentials key from the wallet key (HKDF), distinct and stable", () => {
    const mnemonic = generateMnemonic(english);
    const w = walletAt(MasterSeed.parse(mnemonic), 5);
    const again = walletAt(MasterSeed.parse(mnemonic), 5);
    expect(w.address).toBe(mnemonicToAccount(mnemonic, { addressIndex: 5 }).address);
    expect(w.xmtpDbKey()).toHaveLength(32);
    expect(Buffer.from(w.xmtpDbKey())).toEqual(Buffer.from(again.xmtpDbKey()));
    expect(Buffer.from(w.xmtpDbKey())).not.toEqual(Buffer.from(w.credentialsKey()));
    const priv = mnemonicToAccount(mnemonic, { addressIndex: 5 }).getHdKey().privateKey!;
    expect(Buffer.from(w.xmtpDbKey())).toEqual(
      Buffer.from(hkdfSync("sha256", priv, "convos-pool/instance/v1", "xmtp-db-encryption-key", 32)),
    );
    expect(Buffer.from(walletAt(MasterSeed.parse(mnemonic), 6).xmtpDbKey())).not.toEqual(Buffer.from(w.xmtpDbKey()));
  });

  it("derives the address book's key at rest apart from every other key of the wallet", () => {
    const w = walletAt(MasterSeed.parse(generateMnemonic(english)), 2);
    const others = [w.xmtpDbKey(), w.credentialsKey(), w.memoryCredentialsKey(), w.memorySealingKey(), w.vaultKey()];
    expect(w.addressBookKey()).toHaveLength(32);
    for (const k of others) expect(Buffer.from(w.addressBookKey())).not.toEqual(Buffer.from(k));
  });

  it("a test's keys from a seed answer as the keys service does: the wallet, the address, an index out of range refused", async () => {
    const mnemonic = generateMnemonic(english);
    const keys = seedKeys(mnemonic);
    expect((await keys.wallet("inst_aaaaaaaaaaaaaaaa", 9)).address).toBe(
      mnemonicToAccount(mnemonic, { addressIndex: 9 }).address,
    );
    expect(await keys.address(9)).toBe(mnemonicToAccount(mnemonic, { addressIndex: 9 }).address);
    const refused = await keys.address(MAX_WALLET_INDEX + 1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
