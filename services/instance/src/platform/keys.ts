// An agent's keys on the host that runs it. Its wallet's private key comes
// from the keys service (services/keys), released for the agents this host
// runs and no other (docs/security.md, "Agents' keys"); its XMTP database key,
// its credentials key, its memory sealing key and its vault key are derived
// from that private key with HKDF: nothing else to keep.

import { hkdfSync } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { hexToBytes, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { MasterSeed, MAX_WALLET_INDEX } from "@convos-pool/kit/signing";

export { MAX_WALLET_INDEX };

const HKDF_SALT = "convos-pool/instance/v1";

/** Where a host gets its agents' keys: the keys service, or (tests) a seed in this process. */
export interface AgentKeys {
  /** The wallet of an agent this host runs; refused for one placed elsewhere. */
  wallet(instanceId: string, walletIndex: number): Promise<InstanceWallet>;
  /** The address of the wallet at an index: public (a clone checks its parent's inbox with it). */
  address(walletIndex: number): Promise<Hex>;
  /** The agent no longer runs here: its key is not kept. */
  forget(instanceId: string): void;
}

/** The wallet at `index` of a seed, derived here (tests, and the keys service's own derivation). */
export function walletAt(seed: MasterSeed, index: number): InstanceWallet {
  return new InstanceWallet(index, seed.key(index).privateKey);
}

/**
 * Keys derived in this process from a seed, as the keys service derives
 * them: for tests of a host alone. No deployed host holds a seed.
 */
export function seedKeys(seed: MasterSeed | string): AgentKeys {
  const root = typeof seed === "string" ? MasterSeed.parse(seed) : seed;
  const key = (index: number) => {
    if (!Number.isInteger(index) || index < 0 || index > MAX_WALLET_INDEX)
      throw new ConnectError(`wallet_index: at most ${MAX_WALLET_INDEX}`, Code.InvalidArgument);
    return root.key(index);
  };
  return {
    wallet: async (_id, index) => new InstanceWallet(index, key(index).privateKey),
    address: async (index) => key(index).address,
    forget: () => {},
  };
}

/** One agent's wallet, from its private key alone, and the keys derived from it. */
export class InstanceWallet {
  readonly account: PrivateKeyAccount;

  constructor(
    readonly index: number,
    private readonly privateKey: Hex,
  ) {
    this.account = privateKeyToAccount(privateKey);
  }

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

  /** 32 bytes that encrypt its owner's address book at rest (address-book.json, tools/address-book/store.ts). */
  addressBookKey(): Uint8Array {
    return this.derive("address-book-at-rest");
  }

  /** 32 bytes that seal what people's phones shared in its conversations (phones.json, connections/kept.ts). */
  phonesKey(): Uint8Array {
    return this.derive("phones-at-rest");
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
    return new Uint8Array(hkdfSync("sha256", hexToBytes(this.privateKey), HKDF_SALT, info, 32));
  }
}
