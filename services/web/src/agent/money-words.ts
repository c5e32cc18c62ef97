// An agent's money as its owner reads it on the agent page: what the wallet
// holds and whose share is whose (GetAgentFunds, read from the chain by the
// agent), what it spent in the last 24 hours against its daily limit, and how
// that limit was set (signed, or confirmed in Convos up to its cap), rounded
// as people read money. The limit and its kind are the pool's record of the
// agent (its Instance, as the trust section reads them): the agent's funds
// answer names its limit at L4 only. Pure: the page draws it.
import type { GetAgentFundsResponse } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { SpendLimitKind, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { ethRounded } from "../words/format";
import { CONFIRMED_LIMIT_CAP_ETH } from "./confirm-words";

/** The agent's level and daily limit as the pool records them. */
export type LimitHeld = Pick<Instance, "trustLevel" | "dailySpendLimitWei" | "dailySpendLimitKind">;

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

/** The daily limit as the agent holds it: at L2 to L4 when the owner set one (docs/trust.md); none at L1. */
function limitOf(held: LimitHeld): bigint {
  return held.trustLevel >= TrustLevel.ADVISOR ? wei(held.dailySpendLimitWei) : 0n;
}

/** How the owner set it, in their words; empty when the pool does not say. */
function kindOf(held: LimitHeld): string {
  switch (held.dailySpendLimitKind) {
    case SpendLimitKind.SIGNED:
      return ": a limit you signed";
    case SpendLimitKind.CONFIRMED_IN_CONVOS:
      return `: a limit you confirmed in Convos, up to ${CONFIRMED_LIMIT_CAP_ETH} ETH a day max (a wallet of yours can sign more)`;
    default:
      return "";
  }
}

/** What it may pay and how that was set ("It may pay up to 0.01 ETH a day, each payment with your yes: a limit you confirmed in Convos, …"). */
export function limitSentence(held: LimitHeld): string {
  if (held.trustLevel < TrustLevel.ADVISOR) return "At L1 it uses no tool: it pays nothing.";
  const limit = limitOf(held);
  if (limit === 0n) return "It pays nothing: you set no daily limit for its wallet.";
  return held.trustLevel === TrustLevel.AUTONOMOUS
    ? `At L4 it may move up to ${ethOf(limit)} a day without asking${kindOf(held)}.`
    : `It may pay up to ${ethOf(limit)} a day, each payment with your yes${kindOf(held)}.`;
}

export function moneyWords(f: GetAgentFundsResponse, held: LimitHeld): MoneyWords {
  const owner = wei(f.ownerShareWei);
  const pool = wei(f.poolShareWei);
  const spent = wei(f.spentTodayWei);
  const limit = limitOf(held);
  const asks = held.trustLevel < TrustLevel.AUTONOMOUS ? ", each payment with your yes" : "";
  const words: MoneyWords = {
    balance: ethOf(wei(f.balanceWei)),
    yours: owner > 0n ? `${ethOf(owner)}, yours to withdraw (less the transfer's fee)` : "nothing of yours",
    spentToday:
      limit > 0n
        ? `${ethOf(spent)} of its ${ethOf(limit)} a day${asks}`
        : held.trustLevel >= TrustLevel.ADVISOR
          ? `${ethOf(spent)}; it pays nothing: you set no daily limit`
          : `${ethOf(spent)}; at L1 it pays nothing`,
  };
  if (pool > 0n) words.pool = `${ethOf(pool)}, the pool's grant: it stays in the wallet`;
  if (limit > 0n) words.left = `${ethOf(spent >= limit ? 0n : limit - spent)} left today`;
  return words;
}
