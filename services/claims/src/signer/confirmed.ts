/**
 * Whether a daily limit confirmed in Convos is recorded as the agent's
 * limit, pure (docs/security.md, "Agents' money"; docs/decisions.md, "A daily
 * limit confirmed in Convos"). Two independent words must agree: the
 * gateway's session, which asked the exact step as the agent's owner
 * (`AskedLimit`, written when the claims service relayed it), and the agent,
 * which says it heard its owner's yes in Convos to that step (`HeardLimit`,
 * read back from it). Then the limit is recorded up to the cap only. A
 * confirmation that lowers the limit recorded needs neither: it raises
 * nothing. It is not the check of who the caller is (claim/owner-call.ts) nor
 * of the answer in Convos (the agent's, tools/confirmations/).
 */
import { ConfirmationState } from "@convos-pool/gen/convos/pool/v1/confirmation_service_pb.js";
import { CONFIRMED_DAILY_LIMIT_CAP_WEI, invalidArgument } from "@convos-pool/kit/content";
import type { ConnectError } from "@connectrpc/connect";
import { formatEther } from "viem";

/** The field of AskConfirmationRequest a confirmed limit is in. */
export const CONFIRMED_LIMIT_FIELD = "step.set_trust_level.daily_spend_limit_wei";

/** A set_trust_level step an owner's session asked of the agent, as the claims service wrote it. */
export interface AskedLimit {
  /** The agent's nonce for it (Confirmation.id). */
  id: string;
  instanceId: string;
  /** The signed-in caller that asked, whom the claims service checked owned the agent then. */
  askedBy: string;
  trustLevel: number;
  dailySpendLimitWei: bigint;
  /** The step's digest, as the agent answered the ask. */
  digest: string;
  /** Its limit was recorded once already: the nonce is spent. */
  recorded: boolean;
}

/** A confirmation as the agent reports it, its step a set_trust_level. */
export interface HeardLimit {
  id: string;
  /** The agent it was read from. */
  instanceId: string;
  state: ConfirmationState;
  trustLevel: number;
  dailySpendLimitWei: bigint;
  digest: string;
}

/** What the pool records of the limit: the confirmed one (under its nonce), one lowered, or nothing, and why. */
export type LimitRecord =
  | { kind: "confirmed"; wei: bigint; confirmation: string }
  | { kind: "lowered"; wei: bigint }
  | { kind: "refused"; why: string };

const cap = `${formatEther(CONFIRMED_DAILY_LIMIT_CAP_WEI)} ETH a day`;

/**
 * What is recorded of `heard`, given the ask the pool wrote under its id
 * (undefined: no session asked it through the pool), the agent's owner now
 * and the limit recorded now (wei; 0 none). A limit at or under the one
 * recorded is lowered on the agent's word alone, as before; one that raises
 * it needs both words, agreeing on the agent, the level and the limit, once,
 * and at most the cap.
 */
export function confirmedLimit(
  heard: HeardLimit,
  asked: AskedLimit | undefined,
  ownerNow: string | undefined,
  recordedWei: bigint,
): LimitRecord {
  if (heard.state !== ConfirmationState.APPLIED)
    return { kind: "refused", why: "the agent heard no yes from its owner for it" };
  if (heard.dailySpendLimitWei <= recordedWei) return { kind: "lowered", wei: heard.dailySpendLimitWei };
  if (!asked) return { kind: "refused", why: "no session of its owner asked it through the pool" };
  if (asked.id !== heard.id || asked.instanceId !== heard.instanceId)
    return { kind: "refused", why: "it was asked for another agent" };
  if (ownerNow === undefined || asked.askedBy !== ownerNow)
    return { kind: "refused", why: "it was asked by someone who is not the agent's owner now" };
  if (
    asked.digest !== heard.digest ||
    asked.trustLevel !== heard.trustLevel ||
    asked.dailySpendLimitWei !== heard.dailySpendLimitWei
  )
    return { kind: "refused", why: "the agent applied another step than the one asked" };
  if (asked.recorded) return { kind: "refused", why: "its nonce was spent: it was recorded once already" };
  if (heard.dailySpendLimitWei > CONFIRMED_DAILY_LIMIT_CAP_WEI)
    return { kind: "refused", why: `above ${cap}, the most a limit confirmed in Convos may be` };
  return { kind: "confirmed", wei: heard.dailySpendLimitWei, confirmation: heard.id };
}

/**
 * Why a session may not ask for `wantWei` (decimal wei as asked) by a confirmation, with `recordedWei`
 * recorded now: above the cap, unless it lowers the limit. Undefined when it may; a limit that is no number is
 * the agent's to refuse, as the signed call's.
 */
export function confirmedLimitAskRefusal(wantWei: string, recordedWei: bigint): ConnectError | undefined {
  const want = wantWei.trim();
  if (!/^\d{1,78}$/.test(want)) return undefined;
  const wei = BigInt(want);
  if (wei <= CONFIRMED_DAILY_LIMIT_CAP_WEI || wei <= recordedWei) return undefined;
  return invalidArgument(
    CONFIRMED_LIMIT_FIELD,
    `at most ${cap} when confirmed in Convos; a higher limit takes your wallet's signature (SetTrustLevel)`,
  );
}
