import { sha256, stringToBytes } from "viem";

/**
 * Decides whether a wallet address belongs to an XMTP inbox. Signatures are
 * only as good as this answer, so it sits behind one interface: an offline
 * derivation here, the XMTP network (the local node in tests) later.
 */
export interface InboxResolver {
  addressBelongsToInbox(address: string, inboxId: string): Promise<boolean>;
}

/** XMTP's inbox ID derivation: SHA-256 of the lower-case address followed by the nonce, in hex. */
export function deriveInboxId(address: string, nonce: bigint | number = 1): string {
  return sha256(stringToBytes(`${address.toLowerCase()}${nonce}`)).slice(2);
}

/**
 * Offline check: the inbox is the one the address creates with one of the
 * given nonces. It cannot see wallets added to an inbox later, or revoked
 * ones; the network-backed resolver can.
 */
export class DerivedInboxResolver implements InboxResolver {
  constructor(private readonly nonces: readonly number[] = [1, 0]) {}

  async addressBelongsToInbox(address: string, inboxId: string): Promise<boolean> {
    return this.nonces.some((n) => deriveInboxId(address, n) === inboxId);
  }
}
