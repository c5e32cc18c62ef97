/**
 * Pool-provisioned tools (instance-owned, pool-provisioned: docs/tools.md):
 * the pool creates a resource per instance and manages its lifecycle. One
 * adapter per tool id; production adapters (Telnyx, AgentMail, a custodial
 * wallet) implement the same interface as the local ones here.
 */
export interface ProvisionedResource {
  /** Public handle: a phone number, a mailbox address, a wallet address. Listed by the API. */
  handle: string;
  /** Credentials only the instance sees (sealed at rest, never logged or listed). */
  secrets: Record<string, string>;
}

/** What a claim decided for one tool (budget/policy.ts). */
export interface ProvisionOptions {
  /** A wallet: wei from the faucet, under an operator's grant; none (0) by default. */
  fundWei?: bigint;
}

/** Whose a released wallet's funds are (docs/tools.md, "Whose money a wallet holds"). */
export interface WalletRelease {
  /** Wei the faucet gave it: the pool's share is at most this. */
  grantedWei: bigint;
  /** The owner's payout address; absent: the owner's share stays and the wallet is held. */
  payTo?: `0x${string}` | undefined;
}

export interface WalletWithdrawal {
  grantedWei: bigint;
  /** The wallet that signed the owner's WithdrawFunds. */
  to: `0x${string}`;
}

export interface Withdrawn {
  /** Wei that reached `to`; 0n when the owner's share was not worth the fee (nothing sent). */
  sentWei: bigint;
  /** The transfer's hash; "" when nothing was sent. */
  hash: string;
}

export interface ToolProvider {
  /** The tool id it provisions, as templates declare it ("sms", "email", "crypto"). */
  readonly toolId: string;
  /** Stored with each provisioned tool, e.g. "local-sms". */
  readonly name: string;
  /** A wallet provider that can fund what it makes (ProvisionOptions.fundWei): one on a chain, with a faucet. */
  readonly funds?: boolean;
  provision(instanceId: string, toolId: string, opts?: ProvisionOptions): Promise<ProvisionedResource>;
  /**
   * Frees the resource, with the secrets it was provisioned with.
   * Idempotent: releasing what is already gone succeeds.
   */
  release(handle: string, secrets: Readonly<Record<string, string>>): Promise<void>;
  /**
   * A wallet on a chain, released with its key: its funds go back to whose
   * they are (`funds`, wallet-funds.ts). "held": it holds its owner's money
   * with nowhere known to send it, and keeps it. Idempotent.
   */
  releaseFunds?(
    handle: string,
    secrets: Readonly<Record<string, string>>,
    funds: WalletRelease,
  ): Promise<"released" | "held">;
  /** A wallet on a chain: sends the owner's share to `to` (wallet-funds.ts). */
  withdraw?(handle: string, secrets: Readonly<Record<string, string>>, w: WalletWithdrawal): Promise<Withdrawn>;
  /**
   * Gives back everything it holds for `instanceId`, recorded or not: a
   * resource made just before its claims process died is in no record.
   * Providers that keep what they make by instance (numbers ordered under
   * the instance id) have it; the count of what was given back.
   */
  releaseAllOf?(instanceId: string): Promise<number>;
}

/** A provider could not provision: out of resources, or not reachable / broken. */
export class ProvisioningError extends Error {
  constructor(
    message: string,
    readonly reason: "exhausted" | "unavailable",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ProvisioningError";
  }
}

export type ToolProviders = ReadonlyMap<string, ToolProvider>;
