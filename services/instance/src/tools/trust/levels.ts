// Trust levels ("earned autonomy"), enforced here, by the agent:
// the pool can neither raise a level (the owner signs every change) nor skip
// a check (the agent runs every tool call through `decide`). docs/trust.md.
//
//   L1 observer    answers; uses no tool
//   L2 advisor     every tool call waits for the owner's yes in the conversation
//   L3 operator    tools freely; moving money waits for the owner's yes
//   L4 autonomous  tools freely; money within a daily limit (rolling 24 hours)
//
// Money moves only within a daily limit the owner signed, at L2 and L3 too
// (where each payment also waits for the yes): the pool's payment signer
// holds every payment to it (docs/security.md, "Agents' money"), and the
// agent refuses what the signer would, before asking anyone.

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { formatEther } from "viem";
import { effectiveMaxTrustLevel, initialTrustLevel, invalidArgument, trustLevelName } from "@convos-pool/kit/content";

/** What a tool call does, which is what a level allows or not. */
export type Risk = "read" | "act" | "money";

/** trust.json: the level the owner set (or the default at the claim). */
export interface TrustFile {
  level: TrustLevel;
  /** The owner's limit for money moved in any 24 hours, wei (decimal): required at L4, optional at L2 and L3; "0": none. */
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
 * template's highest level: L1 to L4; a limit above 0 at L4, optional at L2
 * and L3 (empty or "0": none, and the agent pays nothing), none at L1.
 * INVALID_ARGUMENT naming the field otherwise.
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
  const none = limit === "" || limit === "0";
  if (level === TrustLevel.OBSERVER) {
    if (!none) throw invalidArgument("daily_spend_limit_wei", "L1 uses no tool: leave it empty");
    return { level, dailySpendLimitWei: "0" };
  }
  if (level === TrustLevel.AUTONOMOUS && none)
    throw invalidArgument("daily_spend_limit_wei", "required at L4: a whole number of wei above 0");
  if (none) return { level, dailySpendLimitWei: "0" };
  if (!/^[1-9]\d{0,77}$/.test(limit))
    throw invalidArgument("daily_spend_limit_wei", "must be a whole number of wei (decimal digits)");
  return { level, dailySpendLimitWei: limit };
}

export type Decision = { kind: "allow" } | { kind: "ask" } | { kind: "refuse"; reason: string };

/**
 * What the level says of one call. `spentWei` is what moved in the last 24
 * hours, network fees included; `amountWei` what this call would move, and
 * `feeWei` the most its network fee may cost: the owner's limit counts both,
 * at every level that moves money, before the owner is asked.
 */
export function decide(trust: TrustFile, risk: Risk, amountWei = 0n, spentWei = 0n, feeWei = 0n): Decision {
  if (trust.level === TrustLevel.OBSERVER)
    return {
      kind: "refuse",
      reason: `my trust level is ${describeLevel(trust.level)}: I answer, but I use no tools. My owner can raise it.`,
    };
  if (risk === "money") {
    const over = overLimit(trust, amountWei, spentWei, feeWei);
    if (over) return { kind: "refuse", reason: over };
    return trust.level === TrustLevel.AUTONOMOUS ? { kind: "allow" } : { kind: "ask" };
  }
  return trust.level === TrustLevel.OPERATOR || trust.level === TrustLevel.AUTONOMOUS
    ? { kind: "allow" }
    : { kind: "ask" };
}

/** Why a payment does not fit the owner's limit (signed, or confirmed in Convos); undefined when it does. */
function overLimit(trust: TrustFile, amountWei: bigint, spentWei: bigint, feeWei: bigint): string | undefined {
  const limit = BigInt(trust.dailySpendLimitWei || "0");
  if (limit === 0n)
    return "my owner has set no spending limit for my wallet, so I pay nothing; they can set one with my trust level, signed or confirmed in Convos";
  if (spentWei + amountWei + feeWei <= limit) return undefined;
  const fee = feeWei > 0n ? `; its network fee up to ${formatWei(feeWei)}` : "";
  return `that would go over my daily spending limit (${formatWei(limit)} in 24 hours; ${formatWei(spentWei)} spent${fee})`;
}

/** Wei as ETH for people: "0.015 ETH". */
export function formatWei(wei: bigint): string {
  return `${formatEther(wei)} ETH`;
}
