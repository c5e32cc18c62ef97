// The agent's wallet on an EVM chain, through viem: its address, its
// balance, and payments. Its key is not on this host: each payment's
// transaction is signed by the pool's payment signer (host/payment-signer.ts;
// docs/security.md, "Agents' money"), which holds it to the limit the owner
// signed; a host alone (tests) may sign with a key it was given. The model
// sees the address, never a key. A payment's network fee (gas) is quoted
// before it is sent, at most gas × max fee per gas, and the send is held to
// that quote, so what the ledger reserves bounds what the wallet can pay
// (docs/trust.md, "The money ledger").

import {
  type Address,
  createPublicClient,
  type Hex,
  http,
  isAddress,
  keccak256,
  type LocalAccount,
  parseEther,
  TransactionNotFoundError,
  type TransactionSerializable,
} from "viem";
import { toAccount } from "viem/accounts";
import { formatWei } from "../trust/levels.js";

/** A wallet call that failed, in words for the conversation. */
export class WalletError extends Error {
  /** For a payment: true only when it surely moved nothing (refused before sending, or reverted). */
  notSent = false;
  /** For a payment the chain took and reverted: the fee it paid all the same (gas used × its price), wei. */
  feeWei = 0n;

  constructor(message: string, options?: ErrorOptions & { notSent?: boolean; feeWei?: bigint }) {
    super(message, options);
    this.name = "WalletError";
    this.notSent = options?.notSent ?? false;
    this.feeWei = options?.feeWei ?? 0n;
  }
}

/**
 * What a payment's network fee may cost at most, asked of the chain before it is sent: the daily limit counts it
 * (gate/gate.ts), and the send is held to it (a chain cannot charge more than gas × max fee per gas).
 */
export interface FeeQuote {
  /** The gas the transfer may use: the chain's estimate. */
  gas: bigint;
  /** Wei per gas at most: EIP-1559's max fee, or the gas price on a chain without a base fee. */
  maxFeePerGas: bigint;
  /** EIP-1559's tip; absent on a chain without a base fee. */
  maxPriorityFeePerGas?: bigint;
}

/** The most a payment held to `q` can pay for gas, wei. */
export function maxFeeWei(q: FeeQuote): bigint {
  return q.gas * q.maxFeePerGas;
}

/**
 * Twice the base fee, plus the tip: the base fee rises by at most 12.5% a block, so this holds for six full blocks
 * and more (a payment may wait minutes for its owner's yes). The ledger reserves it and settles at what was paid.
 */
export const BASE_FEE_HEADROOM = 2n;

/** "0.01" (ETH) in wei; a clear error for anything else. */
export function parseAmount(amount: string): bigint {
  const s = amount.trim().replace(/\s*eth$/i, "");
  if (!/^\d+(\.\d{1,18})?$/.test(s)) throw new WalletError(`"${amount}" is not an amount of ETH (for example 0.01)`);
  const wei = parseEther(s);
  if (wei === 0n) throw new WalletError("the amount must be more than 0");
  return wei;
}

/**
 * A payment that carries out a scheduled firing (tools/schedules/firing-run.ts): its transaction's data is the
 * firing's tag (kit `firingTag`), and it is told to the firing once signed, before it is sent, so that a retry after
 * a crash finds it (tools/schedules/payment-once.ts).
 */
export interface PaymentMark {
  data: Hex;
  /** The nonce it must take: a retry takes the one signed before it, so that at most one of the two lands. */
  nonce?: number | undefined;
  /** Told the transaction once signed, before it is sent; a failure sends nothing. */
  signed?: ((tx: { hash: string; nonce: number }) => Promise<void>) | undefined;
}

/** A transaction the wallet signed before, as the chain has it now (tools/schedules/payment-once.ts). */
export interface SentBefore {
  /** None: the chain has never seen it (never sent, or dropped). */
  found?: {
    /** False while it waits to be mined. */
    mined: boolean;
    success: boolean;
    /** Its data, for its firing tag. */
    data: string;
    hash: string;
    to: string;
    wei: bigint;
  };
  /** How many of the wallet's transactions are mined: a nonce below it went to a transaction. */
  minedNonce: number;
}

/** Signs one agent's transaction elsewhere (the pool's payment signer). */
export interface PaymentSigner {
  sign(instanceId: string, tx: TransactionSerializable): Promise<Hex>;
}

/** The agent's wallet as viem signs with it: its address here, its transactions signed by `signer`, nothing else. */
export function signerAccount(signer: PaymentSigner, instanceId: string, address: Address): LocalAccount {
  const refuse = async (): Promise<Hex> => {
    throw new WalletError("the agent's wallet signs payments only, no message", { notSent: true });
  };
  return toAccount({
    address,
    signTransaction: (tx) => signer.sign(instanceId, tx),
    signMessage: refuse,
    signTypedData: refuse,
  });
}

export class WalletTool {
  private readonly chain;

  /** `account`: the wallet's signer (signerAccount), or a key's account on a host alone. */
  constructor(
    rpcUrl: string,
    private readonly account: LocalAccount,
  ) {
    this.chain = createPublicClient({ transport: http(rpcUrl, { timeout: 15_000, retryCount: 1 }) });
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

  /**
   * The most a payment of `wei` to `to` may pay for gas: the chain's gas estimate and fee per gas, asked now. A
   * wallet that cannot cover the amount is said so before the chain is asked to estimate (which would fail).
   */
  async quote(to: string, wei: bigint, data?: Hex): Promise<FeeQuote> {
    await this.coverable(to, wei, 0n);
    return this.guard(
      "estimate the payment's network fee",
      () => false,
      async () => {
        const gas = await this.chain.estimateGas({ account: this.account, to: to as Hex, value: wei, data });
        const { baseFeePerGas } = await this.chain.getBlock();
        if (baseFeePerGas === null) return { gas, maxFeePerGas: await this.chain.getGasPrice() };
        const tip = await this.chain.estimateMaxPriorityFeePerGas();
        return { gas, maxFeePerGas: BASE_FEE_HEADROOM * baseFeePerGas + tip, maxPriorityFeePerGas: tip };
      },
    );
  }

  /** Refuses, as not sent, a payment to what is no address or that the wallet cannot cover with `feeWei`. */
  private async coverable(to: string, wei: bigint, feeWei: bigint): Promise<void> {
    const notSent = { notSent: true };
    if (!isAddress(to)) throw new WalletError(`"${to}" is not a wallet address (0x and 40 hex digits)`, notSent);
    // A balance that could not be read fails as not sent (guard: nothing could have moved).
    const balance = await this.balance();
    if (balance < wei + feeWei)
      throw new WalletError(`the wallet holds ${formatWei(balance)}, less than ${formatWei(wei)} and the fee`, notSent);
  }

  /**
   * Sends `wei` to `to` held to `fee` (quoted now when not given) and waits for the receipt: done means on the
   * chain (which one: `chainId`); `feeWei` is what it paid for gas. `mark`: a scheduled firing's payment.
   */
  async pay(
    to: string,
    wei: bigint,
    fee?: FeeQuote,
    mark?: PaymentMark,
  ): Promise<{ hash: string; chainId: number; feeWei: bigint }> {
    const notSent = { notSent: true };
    const quote = fee ?? (await this.quote(to, wei, mark?.data));
    await this.coverable(to, wei, maxFeeWei(quote));
    let handedOver = false;
    return this.guard(
      "send the payment",
      () => handedOver,
      async () => {
        const id = await this.chainId();
        const nonce =
          mark?.nonce ?? (await this.chain.getTransactionCount({ address: this.account.address, blockTag: "pending" }));
        const data = mark ? { data: mark.data } : {};
        // Held to the quote: the fee cannot pass what the ledger reserved.
        const tx: TransactionSerializable =
          quote.maxPriorityFeePerGas === undefined
            ? {
                type: "legacy",
                chainId: id,
                to: to as Hex,
                value: wei,
                nonce,
                gas: quote.gas,
                gasPrice: quote.maxFeePerGas,
                ...data,
              }
            : {
                type: "eip1559",
                chainId: id,
                to: to as Hex,
                value: wei,
                nonce,
                gas: quote.gas,
                maxFeePerGas: quote.maxFeePerGas,
                maxPriorityFeePerGas: quote.maxPriorityFeePerGas,
                ...data,
              };
        // A signer's refusal (over the owner's limit, the agent moved away) sent nothing.
        const signed = await this.account.signTransaction(tx);
        // Kept before it is sent: a crash from here on leaves what a retry finds it by.
        await mark?.signed?.({ hash: keccak256(signed), nonce });
        // From here it may be on its way, whatever happens next.
        handedOver = true;
        const hash = await this.chain.sendRawTransaction({ serializedTransaction: signed });
        const receipt = await this.chain.waitForTransactionReceipt({ hash, timeout: 60_000 });
        const feeWei = receipt.gasUsed * receipt.effectiveGasPrice;
        if (receipt.status !== "success")
          throw new WalletError(`the chain reverted the payment (${hash})`, { ...notSent, feeWei });
        return { hash, chainId: id, feeWei };
      },
    );
  }

  /** The transaction `hash` this wallet signed, as the chain has it now; throws WalletError when the chain does not answer. */
  async sentBefore(hash: string): Promise<SentBefore> {
    return this.guard(
      "look for the payment sent before",
      () => false,
      async () => {
        const address = this.account.address;
        const minedNonce = await this.chain.getTransactionCount({ address, blockTag: "latest" });
        const tx = await this.chain.getTransaction({ hash: hash as Hex }).catch((err: unknown) => {
          if (err instanceof TransactionNotFoundError) return undefined;
          throw err;
        });
        if (!tx || tx.from.toLowerCase() !== address.toLowerCase()) return { minedNonce };
        const seen = { data: tx.input, hash: tx.hash, to: tx.to ?? "", wei: tx.value };
        if (tx.blockNumber === null) return { minedNonce, found: { ...seen, mined: false, success: false } };
        const receipt = await this.chain.getTransactionReceipt({ hash: tx.hash });
        return { minedNonce, found: { ...seen, mined: true, success: receipt.status === "success" } };
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
