import { createPublicClient, createWalletClient, defineChain, http, type Chain, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import {
  ProvisioningError,
  type ProvisionedResource,
  type ProvisionOptions,
  type ToolProvider,
  type WalletRelease,
  type WalletWithdrawal,
  type Withdrawn,
} from "./types.js";
import { planRelease, planWithdrawal } from "./wallet-funds.js";

export interface ChainWalletOptions {
  /** The chain's JSON-RPC endpoint: the local chain under `npm start`, any EVM chain otherwise. */
  rpcUrl: string;
  /**
   * The account that funds new wallets an operator's grant funds, and
   * receives what is left of those grants when they are released. A secret.
   */
  faucetKey: Hex;
}

/** A plain transfer's gas. */
const TRANSFER_GAS = 21_000n;

/**
 * Wallets on a real chain: a fresh key per instance, empty unless the claim
 * funds it from the faucet (an operator's grant, docs/limits.md): its owner
 * deposits. On release the owner's share goes to the owner's payout address
 * and what is left of the grant to the faucet (wallet-funds.ts); the owner
 * withdraws their share at any time. The key exists only in the instance
 * and, sealed, in the tool's row, which is how release gets it back.
 */
export class ChainWalletProvider implements ToolProvider {
  readonly toolId = "crypto";
  readonly name = "chain-wallet";
  readonly funds = true;
  private readonly read;
  private readonly faucet;

  constructor(private readonly opts: ChainWalletOptions) {
    const account = privateKeyToAccount(opts.faucetKey);
    // Receipts polled every 250 ms, not viem's 4 s: a funded claim waits for its transfer to land.
    this.read = createPublicClient({ transport: http(opts.rpcUrl), pollingInterval: 250 });
    this.faucet = { account, transport: http(opts.rpcUrl) };
  }

  private chainOnce: Promise<Chain> | undefined;
  /** The faucet's next nonce, once read from the chain; unset after a failed send (read again). */
  private nonce: number | undefined;
  /** Sends go out one at a time, in nonce order. */
  private sending: Promise<unknown> = Promise.resolve();

  /** The chain, as viem needs it to sign for it: asked once (a failed ask is asked again next time). */
  private chain(): Promise<Chain> {
    this.chainOnce ??= this.read.getChainId().then(
      (id) =>
        defineChain({
          id,
          name: `chain ${id}`,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: { default: { http: [this.opts.rpcUrl] } },
        }),
      (err: unknown) => {
        this.chainOnce = undefined;
        throw err;
      },
    );
    return this.chainOnce;
  }

  /** The faucet's address: where released wallets' funds go. */
  get faucetAddress(): Hex {
    return this.faucet.account.address;
  }

  async provision(_instanceId: string, _toolId: string, opts: ProvisionOptions = {}): Promise<ProvisionedResource> {
    const privateKey = generatePrivateKey();
    const wallet = privateKeyToAccount(privateKey);
    const fundWei = opts.fundWei ?? 0n;
    if (fundWei > 0n) await this.fund(wallet.address, fundWei);
    return { handle: wallet.address, secrets: { private_key: privateKey } };
  }

  /**
   * Many claims fund at once: the faucet's nonces are handed out here, one
   * send at a time, from a counter of this provider's own. viem's nonce
   * manager gave two concurrent sends the same nonce when a read of the
   * pending count came back between them (measured: bench/budget.ts); its
   * shared one also remembers nonces per address and chain id for the whole
   * process, wrong for a second chain with the same id. Only the send waits
   * its turn, not the transfer's receipt. Another process funding from the
   * same faucet would collide: one faucet per claims process (docs/limits.md).
   */
  private send(to: Hex, wei: bigint): Promise<Hex> {
    const turn = this.sending.then(async () => {
      const pay = createWalletClient({ ...this.faucet, chain: await this.chain() });
      this.nonce ??= await this.read.getTransactionCount({ address: this.faucet.account.address, blockTag: "pending" });
      try {
        const hash = await pay.sendTransaction({ to, value: wei, nonce: this.nonce });
        this.nonce++;
        return hash;
      } catch (err) {
        this.nonce = undefined;
        throw err;
      }
    });
    this.sending = turn.catch(() => {});
    return turn;
  }

  /** Sends `wei` from the faucet and waits for it to land. */
  private async fund(address: Hex, wei: bigint): Promise<void> {
    try {
      const hash = await this.send(address, wei);
      const receipt = await this.read.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`the funding transfer ${hash} failed`);
    } catch (err) {
      throw new ProvisioningError(`wallet funding failed: ${(err as Error).message.split("\n")[0]}`, "unavailable", {
        cause: err,
      });
    }
  }

  /** The wallet of `secrets`, checked to be `handle`'s, and what a plain transfer from it costs now. */
  private async open(handle: string, secrets: Readonly<Record<string, string>>) {
    const key = secrets.private_key as Hex | undefined;
    if (!key) return undefined; // nothing to sign with: nothing can move
    const wallet = privateKeyToAccount(key);
    if (wallet.address.toLowerCase() !== handle.toLowerCase())
      throw new Error(`the key given for ${handle} is another wallet's`);
    const [balance, gasPrice] = await Promise.all([
      this.read.getBalance({ address: wallet.address }),
      this.read.getGasPrice(),
    ]);
    // A legacy transfer's fee is exactly gas × price: each share pays its own, and the wallet ends at zero.
    return { wallet, balance, gasPrice, fee: TRANSFER_GAS * gasPrice };
  }

  /** One transfer out of `wallet`, waited for. */
  private async transfer(wallet: ReturnType<typeof privateKeyToAccount>, to: Hex, value: bigint, gasPrice: bigint) {
    const send = createWalletClient({ account: wallet, transport: http(this.opts.rpcUrl), chain: await this.chain() });
    const hash = await send.sendTransaction({ to, value, gas: TRANSFER_GAS, gasPrice, type: "legacy" });
    const receipt = await this.read.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`a transfer from ${wallet.address} failed (${hash})`);
    return hash;
  }

  /** Without a record of whose its funds are: all its balance counts as the owner's, and nowhere is known to send it. */
  async release(handle: string, secrets: Readonly<Record<string, string>>): Promise<void> {
    if ((await this.releaseFunds(handle, secrets, { grantedWei: 0n })) === "held")
      throw new Error(`the wallet ${handle} holds its owner's funds: released only with a payout address`);
  }

  async releaseFunds(
    handle: string,
    secrets: Readonly<Record<string, string>>,
    funds: WalletRelease,
  ): Promise<"released" | "held"> {
    const opened = await this.open(handle, secrets);
    if (!opened) return "released";
    const { wallet, balance, gasPrice, fee } = opened;
    const payTo = funds.payTo;
    const plan = planRelease(balance, funds.grantedWei, fee, payTo !== undefined);
    if (plan.held) return "held";
    for (const t of plan.transfers) {
      const to = t.to === "pool" ? this.faucet.account.address : payTo;
      if (!to) throw new Error("the owner's share has nowhere to go"); // planRelease holds the wallet instead
      await this.transfer(wallet, to, t.value, gasPrice);
    }
    return "released";
  }

  async withdraw(handle: string, secrets: Readonly<Record<string, string>>, w: WalletWithdrawal): Promise<Withdrawn> {
    const opened = await this.open(handle, secrets);
    if (!opened) return { sentWei: 0n, hash: "" };
    const value = planWithdrawal(opened.balance, w.grantedWei, opened.fee);
    if (value === undefined) return { sentWei: 0n, hash: "" };
    return { sentWei: value, hash: await this.transfer(opened.wallet, w.to, value, opened.gasPrice) };
  }
}
