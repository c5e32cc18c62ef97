/**
 * Whose money an agent's wallet holds (docs/tools.md, "Whose money a wallet
 * holds"), pure: the pool's share is the first `granted` wei of the balance
 * (what the faucet gave it, less nothing: spending comes out of the owner's
 * share first), everything above is the owner's. Each transfer pays its own
 * fee out of the share it moves; a share not worth its fee stays in the
 * wallet. No I/O here: chain-wallet.ts reads the chain and sends.
 */

export interface Shares {
  /** Above the grant: the owner's deposits, and whatever else reached the wallet. */
  owner: bigint;
  /** What is left of the pool's grant: min(balance, granted). */
  pool: bigint;
}

/** The balance split by the grant rule: owner + pool = balance, pool = min(balance, granted). */
export function splitBalance(balance: bigint, granted: bigint): Shares {
  if (balance < 0n || granted < 0n) throw new RangeError("a balance and a grant are never negative");
  const pool = balance < granted ? balance : granted;
  return { owner: balance - pool, pool };
}

/** One transfer out of the wallet: `value` reaches `to`, its fee paid from the same share. */
export interface Transfer {
  to: "owner" | "pool";
  value: bigint;
}

/**
 * What a release sends: the owner's share (less its fee) to the owner's
 * payout address first, then the pool's (less its fee) to the faucet.
 * Owner first, because a release retried after the first transfer finds
 * only the pool's share left and splits it the same way; the other order
 * would count the owner's money as the pool's. Without a payout address
 * and an owner's share worth moving, nothing moves: the wallet is `held`
 * for its owner to withdraw. The owner's share never goes to the faucet.
 */
export function planRelease(
  balance: bigint,
  granted: bigint,
  fee: bigint,
  hasPayout: boolean,
): { held: boolean; transfers: Transfer[] } {
  const { owner, pool } = splitBalance(balance, granted);
  if (owner > fee && !hasPayout) return { held: true, transfers: [] };
  const transfers: Transfer[] = [];
  if (owner > fee) transfers.push({ to: "owner", value: owner - fee });
  if (pool > fee) transfers.push({ to: "pool", value: pool - fee });
  return { held: false, transfers };
}

/** What the owner can withdraw: their share less the transfer's fee; undefined when that is nothing. */
export function planWithdrawal(balance: bigint, granted: bigint, fee: bigint): bigint | undefined {
  const { owner } = splitBalance(balance, granted);
  return owner > fee ? owner - fee : undefined;
}
