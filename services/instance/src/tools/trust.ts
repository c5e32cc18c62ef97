// Trust levels ("earned autonomy"), enforced here, by the agent:
// the pool can neither raise a level (the owner signs every change) nor skip
// a check (the agent runs every tool call through `decide`). docs/trust.md.
//
//   L1 observer    answers; uses no tool
//   L2 advisor     every tool call waits for the owner's yes in the conversation
//   L3 operator    tools freely; moving money waits for the owner's yes
//   L4 autonomous  tools freely; money within a daily limit (rolling 24 hours)

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { formatEther } from "viem";
import { effectiveMaxTrustLevel, initialTrustLevel, invalidArgument, trustLevelName } from "@convos-pool/kit/content";

/** What a tool call does, which is what a level allows or not. */
export type Risk = "read" | "act" | "money";

/** trust.json: the level the owner set (or the default at the claim). */
export interface TrustFile {
  level: TrustLevel;
  /** L4's limit for money moved in any 24 hours, wei (decimal); "0" below L4. */
  dailySpendLimitWei: string;
  setAt: string;
  /** The owner set it (false: the default a claim starts with). */
  byOwner: boolean;
}

/** "L3 (operator)", for what the agent says and logs. */
export function describeLevel(level: TrustLevel): string {
  const role = { 1: "observer", 2: "advisor", 3: "operator", 4: "autonomous" }[level as 1 | 2 | 3 | 4] ?? "advisor";
  return `${trustLevelName(level) || "L2"} (${role})`;
}

/** Where a new agent starts (kit's initialTrustLevel), set by no one yet. */
export function initialTrust(templateMax: TrustLevel, now = new Date()): TrustFile {
  return { level: initialTrustLevel(templateMax), dailySpendLimitWei: "0", setAt: now.toISOString(), byOwner: false };
}

/**
 * The level and limit an owner's SetTrustLevel asks for, checked against the
 * template's highest level: L1 to L4, and a limit above 0 at L4 and none
 * below. INVALID_ARGUMENT naming the field otherwise.
 */
export function checkLevelRequest(
  level: TrustLevel,
  dailySpendLimitWei: string,
  templateMax: TrustLevel,
): { level: TrustLevel; dailySpendLimitWei: string } {
  if (level < TrustLevel.OBSERVER || level > TrustLevel.AUTONOMOUS)
    throw invalidArgument("trust_level", "must be L1 to L4");
  const max = effectiveMaxTrustLevel(templateMax);
  if (level > max)
    throw invalidArgument(
      "trust_level",
      `${trustLevelName(level)} is above the highest its template allows (${trustLevelName(max)})`,
    );
  const limit = dailySpendLimitWei.trim();
  if (level === TrustLevel.AUTONOMOUS) {
    if (!/^[1-9]\d{0,77}$/.test(limit))
      throw invalidArgument("daily_spend_limit_wei", "required at L4: a whole number of wei above 0");
    return { level, dailySpendLimitWei: limit };
  }
  if (limit !== "" && limit !== "0")
    throw invalidArgument("daily_spend_limit_wei", "only L4 has a spending limit: leave it empty");
  return { level, dailySpendLimitWei: "0" };
}

export type Decision = { kind: "allow" } | { kind: "ask" } | { kind: "refuse"; reason: string };

/**
 * What the level says of one call. `spentWei` is what moved in the last 24
 * hours, network fees included; `amountWei` what this call would move, and
 * `feeWei` the most its network fee may cost: L4's limit counts both.
 */
export function decide(trust: TrustFile, risk: Risk, amountWei = 0n, spentWei = 0n, feeWei = 0n): Decision {
  switch (trust.level) {
    case TrustLevel.OBSERVER:
      return {
        kind: "refuse",
        reason: `my trust level is ${describeLevel(trust.level)}: I answer, but I use no tools. My owner can raise it.`,
      };
    case TrustLevel.OPERATOR:
      return risk === "money" ? { kind: "ask" } : { kind: "allow" };
    case TrustLevel.AUTONOMOUS: {
      if (risk !== "money") return { kind: "allow" };
      const limit = BigInt(trust.dailySpendLimitWei || "0");
      if (spentWei + amountWei + feeWei > limit) {
        const fee = feeWei > 0n ? `; its network fee up to ${formatWei(feeWei)}` : "";
        return {
          kind: "refuse",
          reason: `that would go over my daily spending limit (${formatWei(limit)} in 24 hours; ${formatWei(spentWei)} spent${fee})`,
        };
      }
      return { kind: "allow" };
    }
    default:
      return { kind: "ask" };
  }
}

/** Wei as ETH for people: "0.015 ETH". */
export function formatWei(wei: bigint): string {
  return `${formatEther(wei)} ETH`;
}
