import { createPublicClient, createWalletClient, defineChain, http, type Chain, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createNonceManager, jsonRpc } from "viem/nonce";
import { ProvisioningError, type ProvisionedResource, type ProvisionOptions, type ToolProvider } from "./types.js";

export interface ChainWalletOptions {
  /** The chain's JSON-RPC endpoint: the local chain under `npm start`, any EVM chain otherwise. */
  rpcUrl: string;
  /**
   * The account that funds new wallets an operator's grant funds, and
   * receives what released ones held. A secret.
   */
  faucetKey: Hex;
}

/** A plain transfer's gas. */
const TRANSFER_GAS = 21_000n;

/**
 * Wallets on a real chain: a fresh key per instance, empty unless the claim
 * funds it from the faucet (an operator's grant, docs/limits.md): its owner
 * deposits. On release whatever it holds, less the transfer's fee, goes to
 * the faucet. The key exists only in the instance and,
 * sealed, in the tool's row, which is how release gets it back.
 */
export class ChainWalletProvider implements ToolProvider {
  readonly toolId = "crypto";
  readonly name = "chain-wallet";
  readonly funds = true;
  private readonly read;
  private readonly faucet;

  constructor(private readonly opts: ChainWalletOptions) {
    // Many claims fund at once: the faucet's nonces are handed out in this process, not read from the chain each time.
    // Its own counter, not viem's shared one: that one remembers the last nonce per address and chain id for the
    // whole process, and a second chain with the same id (another local chain) would get nonces it never reaches.
    const account = privateKeyToAccount(opts.faucetKey, { nonceManager: createNonceManager({ source: jsonRpc() }) });
    this.read = createPublicClient({ transport: http(opts.rpcUrl) });
    this.faucet = { account, transport: http(opts.rpcUrl) };
  }

  private chainOnce: Promise<Chain> | undefined;

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

  /** Sends `wei` from the faucet and waits for it to land. */
  private async fund(address: Hex, wei: bigint): Promise<void> {
    try {
      const pay = createWalletClient({ ...this.faucet, chain: await this.chain() });
      const hash = await pay.sendTransaction({ to: address, value: wei });
      const receipt = await this.read.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`the funding transfer ${hash} failed`);
    } catch (err) {
      throw new ProvisioningError(`wallet funding failed: ${(err as Error).message.split("\n")[0]}`, "unavailable", {
        cause: err,
      });
    }
  }

  async release(handle: string, secrets: Readonly<Record<string, string>>): Promise<void> {
    const key = secrets.private_key as Hex | undefined;
    if (!key) return; // nothing to sign with: nothing can move
    const wallet = privateKeyToAccount(key);
    if (wallet.address.toLowerCase() !== handle.toLowerCase())
      throw new Error(`the key given for ${handle} is another wallet's`);
    const [balance, gasPrice] = await Promise.all([
      this.read.getBalance({ address: wallet.address }),
      this.read.getGasPrice(),
    ]);
    // A legacy transfer's fee is exactly gas × price, so the wallet ends at zero.
    const fee = TRANSFER_GAS * gasPrice;
    if (balance <= fee) return;
    const send = createWalletClient({ account: wallet, transport: http(this.opts.rpcUrl), chain: await this.chain() });
    const hash = await send.sendTransaction({
      to: this.faucet.account.address,
      value: balance - fee,
      gas: TRANSFER_GAS,
      gasPrice,
      type: "legacy",
    });
    const receipt = await this.read.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`returning ${handle}'s funds failed (${hash})`);
  }
}
