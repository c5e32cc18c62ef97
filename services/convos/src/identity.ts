import { Client, createBackend, type Backend, type Identifier, type IdentifierKind } from "@xmtp/node-sdk";
import { deriveInboxId, type InboxResolver } from "@convos-pool/kit/signing";

/** IdentifierKind.Ethereum: the SDK declares it as a const enum, which isolated modules cannot read. */
export const ETHEREUM = 0 as IdentifierKind;

export function ethereumIdentifier(address: string): Identifier {
  return { identifier: address.toLowerCase(), identifierKind: ETHEREUM };
}

export interface XmtpInboxResolverOptions {
  /** The XMTP node's API, for example http://localhost:5556 for the local node. */
  apiUrl: string;
  /**
   * How long a positive answer is reused. A wallet removed from an inbox is
   * refused at the latest this long after the removal; 0 asks every time.
   */
  cacheMs?: number;
}

/**
 * Whether a wallet belongs to an inbox, as the XMTP network says: the inbox's
 * association state, which the SDK rebuilds and verifies from the inbox's
 * signed identity updates. So a wallet added to an inbox later counts, and a
 * removed one stops counting.
 *
 * An inbox with no identity update yet has not been created on the network,
 * and only one wallet can ever create it: the one whose address derives its
 * ID (XMTP's inbox ID is sha256 of address and nonce). For such an inbox the
 * derivation is the answer, so a creator can sign before registering a client.
 */
export class XmtpInboxResolver implements InboxResolver {
  private readonly cache = new Map<string, number>();

  private constructor(
    private readonly backend: Backend,
    private readonly cacheMs: number,
  ) {}

  static async connect(opts: XmtpInboxResolverOptions): Promise<XmtpInboxResolver> {
    const backend = await createBackend({ env: "local", apiUrl: opts.apiUrl });
    return new XmtpInboxResolver(backend, opts.cacheMs ?? 10_000);
  }

  async addressBelongsToInbox(address: string, inboxId: string): Promise<boolean> {
    const key = `${inboxId}:${address.toLowerCase()}`;
    const until = this.cache.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const belongs = await this.ask(address.toLowerCase(), inboxId);
    if (belongs && this.cacheMs > 0) this.cache.set(key, Date.now() + this.cacheMs);
    else this.cache.delete(key);
    return belongs;
  }

  private async ask(address: string, inboxId: string): Promise<boolean> {
    const state = await this.inboxState(inboxId);
    if (!state) return [1, 0].some((nonce) => deriveInboxId(address, nonce) === inboxId);
    return state.identifiers.some((i) => i.identifierKind === ETHEREUM && i.identifier.toLowerCase() === address);
  }

  /** The inbox's association state; undefined when the network has no identity update for it. */
  private async inboxState(inboxId: string) {
    try {
      const [state] = await Client.fetchInboxStates([inboxId], this.backend);
      return state && state.identifiers.length > 0 ? state : undefined;
    } catch (err) {
      if (err instanceof Error && /Missing identity update/i.test(err.message)) return undefined;
      throw err;
    }
  }
}
