// The agent's wallet on an EVM chain, through viem: its address, its
// balance, and payments. The key comes from its credentials and stays here:
// the model sees the address, never the key.

import { createPublicClient, createWalletClient, defineChain, http, isAddress, parseEther, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { formatWei } from "./trust.js";

/** A wallet call that failed, in words for the conversation. */
export class WalletError extends Error {
  /** For a payment: true only when it surely moved nothing (refused before sending, or reverted). */
  notSent = false;

  constructor(message: string, options?: ErrorOptions & { notSent?: boolean }) {
    super(message, options);
    this.name = "WalletError";
    this.notSent = options?.notSent ?? false;
  }
}

/** "0.01" (ETH) in wei; a clear error for anything else. */
export function parseAmount(amount: string): bigint {
  const s = amount.trim().replace(/\s*eth$/i, "");
  if (!/^\d+(\.\d{1,18})?$/.test(s)) throw new WalletError(`"${amount}" is not an amount of ETH (for example 0.01)`);
  const wei = parseEther(s);
  if (wei === 0n) throw new WalletError("the amount must be more than 0");
  return wei;
}

export class WalletTool {
  private readonly account: PrivateKeyAccount;
  private readonly chain;
  private readonly wallet;

  constructor(rpcUrl: string, privateKey: string) {
    this.account = privateKeyToAccount(privateKey as Hex);
    const transport = http(rpcUrl, { timeout: 15_000, retryCount: 1 });
    this.chain = createPublicClient({ transport });
    this.wallet = createWalletClient({ account: this.account, transport });
  }

  get address(): string {
    return this.account.address;
  }

  private chainIdOnce: Promise<number> | undefined;

  /** The chain's id, asked once (a failed ask is asked again next time). */
  chainId(): Promise<number> {
    this.chainIdOnce ??= this.chain.getChainId().catch((err: unknown) => {
      this.chainIdOnce = undefined;
      throw err;
    });
    return this.chainIdOnce;
  }

  async balance(): Promise<bigint> {
    return this.guard(
      "look at the balance",
      () => false,
      () => this.chain.getBalance({ address: this.account.address }),
    );
  }

  /** Sends `wei` to `to` and waits for the receipt: done means on the chain (which one: `chainId`). */
  async pay(to: string, wei: bigint): Promise<{ hash: string; chainId: number }> {
    const notSent = { notSent: true };
    if (!isAddress(to)) throw new WalletError(`"${to}" is not a wallet address (0x and 40 hex digits)`, notSent);
    // A balance that could not be read fails as not sent (guard: nothing could have moved).
    const balance = await this.balance();
    if (balance < wei)
      throw new WalletError(`the wallet holds ${formatWei(balance)}, less than ${formatWei(wei)} and the fee`, notSent);
    let handedOver = false;
    return this.guard(
      "send the payment",
      () => handedOver,
      async () => {
        const id = await this.chainId();
        const chain = defineChain({
          id,
          name: `chain ${id}`,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: { default: { http: [] } },
        });
        // From here it may be on its way, whatever happens next.
        handedOver = true;
        const hash = await this.wallet.sendTransaction({ to, value: wei, chain });
        const receipt = await this.chain.waitForTransactionReceipt({ hash, timeout: 60_000 });
        if (receipt.status !== "success") throw new WalletError(`the chain reverted the payment (${hash})`, notSent);
        return { hash, chainId: id };
      },
    );
  }

  /** Chain and RPC errors as one plain sentence (viem's are long and technical). */
  private async guard<T>(what: string, mayHaveMoved: () => boolean, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WalletError) throw err;
      const short = (err as { shortMessage?: string }).shortMessage;
      throw new WalletError(`could not ${what}: ${short ?? "the chain could not be reached"}`, {
        cause: err,
        notSent: !mayHaveMoved(),
      });
    }
  }
}
