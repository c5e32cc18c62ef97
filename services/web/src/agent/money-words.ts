// An agent's money as its owner reads it on the agent page (GetAgentFunds):
// what the wallet holds, whose share is whose, and what it spent in the last
// 24 hours against its daily limit (at L2 to L4, when the owner signed one),
// rounded as people read money. Pure: the page draws it.
import type { GetAgentFundsResponse } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ethRounded } from "../words/format";

export type MoneyWords = {
  /** "0.51 ETH". */
  balance: string;
  /** "0.5 ETH, yours to withdraw" or "nothing of yours". */
  yours: string;
  /** "0.01 ETH, the pool's grant: it stays in the wallet"; undefined when the pool granted nothing. */
  pool?: string;
  /** "0.003 ETH of its 0.05 ETH a day" (with "each payment with your yes" at L2 and L3); without a limit, that it pays nothing. */
  spentToday: string;
  /** What is left of today's limit ("0.047 ETH left today"); undefined without one. */
  left?: string;
};

const wei = (s: string) => (/^\d+$/.test(s) ? BigInt(s) : 0n);
const ethOf = (n: bigint) => `${ethRounded(n)} ETH`;

/** The daily limit as the agent holds it: at L2 to L4 when the owner signed one (docs/trust.md); none at L1. */
function limitOf(f: GetAgentFundsResponse): bigint {
  return f.trustLevel >= TrustLevel.ADVISOR ? wei(f.dailySpendLimitWei) : 0n;
}

export function moneyWords(f: GetAgentFundsResponse): MoneyWords {
  const owner = wei(f.ownerShareWei);
  const pool = wei(f.poolShareWei);
  const spent = wei(f.spentTodayWei);
  const limit = limitOf(f);
  const asks = f.trustLevel < TrustLevel.AUTONOMOUS ? ", each payment with your yes" : "";
  const words: MoneyWords = {
    balance: ethOf(wei(f.balanceWei)),
    yours: owner > 0n ? `${ethOf(owner)}, yours to withdraw (less the transfer's fee)` : "nothing of yours",
    spentToday:
      limit > 0n
        ? `${ethOf(spent)} of its ${ethOf(limit)} a day${asks}`
        : f.trustLevel >= TrustLevel.ADVISOR
          ? `${ethOf(spent)}; it pays nothing: you set no daily limit`
          : `${ethOf(spent)}; at L1 it pays nothing`,
  };
  if (pool > 0n) words.pool = `${ethOf(pool)}, the pool's grant: it stays in the wallet`;
  if (limit > 0n) words.left = `${ethOf(spent >= limit ? 0n : limit - spent)} left today`;
  return words;
}
