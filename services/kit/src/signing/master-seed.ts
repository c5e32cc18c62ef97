// The pool's root key, held by the keys service alone (services/keys;
// docs/security.md, "Agents' keys"). Agent n's wallet is the standard Ethereum
// HD account at m/44'/60'/0'/0/n, exactly what viem's
// `mnemonicToAccount(mnemonic, { addressIndex: n })` gives, so any wallet tool
// can recover it from the seed. An agent's key leaves it as the 32-byte
// private key alone: with the chain code and the parent's public key, one
// child key would open every sibling (BIP-32's non-hardened derivation).

import { createHash, pbkdf2Sync } from "node:crypto";
import { bytesToHex, type Hex } from "viem";
import { english, HDKey, privateKeyToAddress } from "viem/accounts";

/** The largest non-hardened BIP-32 index, + 1. */
export const MAX_WALLET_INDEX = 0x7fffffff;

/** The pool's root key: each agent's wallet derives from it by index. */
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

  /** The private key of the wallet at m/44'/60'/0'/0/<index>, and its address. */
  key(index: number): WalletKey {
    if (!Number.isInteger(index) || index < 0 || index > MAX_WALLET_INDEX) {
      throw new Error(`wallet index ${index} is outside 0..${MAX_WALLET_INDEX}`);
    }
    const privateKey = this.accounts.deriveChild(index).privateKey;
    if (!privateKey) throw new Error("HD key without a private key");
    const hex = bytesToHex(privateKey);
    return { index, privateKey: hex, address: privateKeyToAddress(hex) };
  }
}

/** One agent's wallet key. */
export interface WalletKey {
  index: number;
  privateKey: Hex;
  address: Hex;
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
