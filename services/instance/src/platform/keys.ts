// Per-instance keys from the pool's one master seed (derived,
// deterministic, recoverable). Instance n's wallet is the standard Ethereum
// HD account at m/44'/60'/0'/0/n, exactly what viem's
// `mnemonicToAccount(mnemonic, { addressIndex: n })` gives, so any wallet tool
// can recover it from the seed. Its XMTP database key, its credentials key
// its memory sealing key and its vault key are derived from the wallet's private key with HKDF: nothing else to keep.

import { createHash, hkdfSync, pbkdf2Sync } from "node:crypto";
import { english, HDKey, hdKeyToAccount, type HDAccount } from "viem/accounts";

/** The largest non-hardened BIP-32 index, + 1. */
export const MAX_WALLET_INDEX = 0x7fffffff;

const HKDF_SALT = "convos-pool/instance/v1";

/** The pool's master key: derive each instance's wallet from it by index. */
export class MasterSeed {
  /**
   * m/44'/60'/0'/0, derived once: each wallet is then one derivation from it,
   * not five from the root (a host restores thousands of agents at start).
   */
  private readonly accounts: HDKey;

  private constructor(root: HDKey) {
    this.accounts = root.derive("m/44'/60'/0'/0");
  }

  /**
   * A BIP-39 mnemonic (English, checksum verified, no passphrase) or 32 bytes
   * of hex (with or without 0x), used as the BIP-32 master seed.
   */
  static parse(seed: string): MasterSeed {
    const trimmed = seed.trim();
    const hex = trimmed.replace(/^0x/i, "");
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return new MasterSeed(HDKey.fromMasterSeed(Buffer.from(hex, "hex")));
    const words = trimmed.normalize("NFKD").toLowerCase().split(/\s+/);
    if (words.length >= 12 && words.length <= 24 && words.length % 3 === 0) {
      validateMnemonic(words);
      return new MasterSeed(HDKey.fromMasterSeed(bip39Seed(words.join(" "))));
    }
    throw new Error("master seed: expected a BIP-39 mnemonic (12 to 24 words) or 32 bytes of hex");
  }

  /** The wallet at m/44'/60'/0'/0/<index>. */
  wallet(index: number): InstanceWallet {
    if (!Number.isInteger(index) || index < 0 || index > MAX_WALLET_INDEX) {
      throw new Error(`wallet index ${index} is outside 0..${MAX_WALLET_INDEX}`);
    }
    // Relative to m/44'/60'/0'/0; viem's type only knows paths from the root.
    const account = hdKeyToAccount(this.accounts, { path: `m/${index}` as `m/44'/60'/${string}` });
    return new InstanceWallet(index, account);
  }
}

export class InstanceWallet {
  constructor(
    readonly index: number,
    readonly account: HDAccount,
  ) {}

  get address(): `0x${string}` {
    return this.account.address;
  }

  /** 32 bytes that encrypt the instance's XMTP database. */
  xmtpDbKey(): Uint8Array {
    return this.derive("xmtp-db-encryption-key");
  }

  /** 32 bytes that encrypt the instance's tool credentials at rest. */
  credentialsKey(): Uint8Array {
    return this.derive("tool-credentials-at-rest");
  }

  /** 32 bytes that encrypt the credentials entries of its memory at rest (memory-credentials.json). */
  memoryCredentialsKey(): Uint8Array {
    return this.derive("memory-credentials-at-rest");
  }

  /** 32 bytes that encrypt its owner's address book at rest (address-book.json, tools/address-book.ts). */
  addressBookKey(): Uint8Array {
    return this.derive("address-book-at-rest");
  }

  /** The X25519 private key that imports are sealed to (docs/memory.md, "The agent's memory key"). */
  memorySealingKey(): Uint8Array {
    return this.derive("memory-sealing-key");
  }

  /** 32 bytes that seal its durable state kept off its host (platform/vault.ts). */
  vaultKey(): Uint8Array {
    return this.derive("agent-state-vault-key");
  }

  private derive(info: string): Uint8Array {
    const key = this.account.getHdKey().privateKey;
    if (!key) throw new Error("HD account without a private key");
    return new Uint8Array(hkdfSync("sha256", key, HKDF_SALT, info, 32));
  }
}

/** BIP-39: PBKDF2-HMAC-SHA512 of the NFKD mnemonic, salt "mnemonic" (empty passphrase), 2048 rounds. */
function bip39Seed(mnemonic: string): Uint8Array {
  return pbkdf2Sync(
    Buffer.from(mnemonic.normalize("NFKD"), "utf8"),
    Buffer.from("mnemonic", "utf8"),
    2048,
    64,
    "sha512",
  );
}

/** Every word in the English list, and the checksum bits match the entropy's SHA-256. */
function validateMnemonic(words: string[]): void {
  // The words' bits, 11 a word, as a string of 0s and 1s: the entropy, then its checksum.
  let bits = "";
  for (const word of words) {
    const i = english.indexOf(word);
    if (i < 0) throw new Error("master seed: a word of the mnemonic is not in the BIP-39 English list");
    bits += i.toString(2).padStart(11, "0");
  }
  const checksumBits = words.length / 3;
  const entropyBits = bits.length - checksumBits;
  const entropy = Buffer.alloc(entropyBits / 8);
  for (let k = 0; k < entropy.length; k++) entropy[k] = parseInt(bits.slice(k * 8, k * 8 + 8), 2);
  const hashBits = [...createHash("sha256").update(entropy).digest()]
    .map((b) => b.toString(2).padStart(8, "0"))
    .join("");
  if (hashBits.slice(0, checksumBits) !== bits.slice(entropyBits)) {
    throw new Error("master seed: the mnemonic's checksum does not match");
  }
}
