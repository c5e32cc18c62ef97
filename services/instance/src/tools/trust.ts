// Trust levels (seed 004, "earned autonomy"), enforced here, by the agent:
// the pool can neither raise a level (the owner signs every change) nor skip
// a check (the agent runs every tool call through `decide`). docs/trust.md.
//
//   L1 observer    answers; uses no tool
//   L2 advisor     every tool call waits for the owner's yes in the conversation
//   L3 operator    tools freely; moving money waits for the owner's yes
//   L4 autonomous  tools freely; money within a daily limit (rolling 24 hours)

import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { effectiveMaxTrustLevel, initialTrustLevel } from "@convos-pool/kit";

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

export const LEVEL_NAMES: Record<TrustLevel, string> = {
  [TrustLevel.UNSPECIFIED]: "L2",
  [TrustLevel.OBSERVER]: "L1",
  [TrustLevel.ADVISOR]: "L2",
  [TrustLevel.OPERATOR]: "L3",
  [TrustLevel.AUTONOMOUS]: "L4",
};

/** "L3 (operator)", for what the agent says and logs. */
export function describeLevel(level: TrustLevel): string {
  const role = { 1: "observer", 2: "advisor", 3: "operator", 4: "autonomous" }[level as 1 | 2 | 3 | 4] ?? "advisor";
  return `${LEVEL_NAMES[level]} (${role})`;
}

export const maxLevel = effectiveMaxTrustLevel;

/** Where a new agent starts (kit's initialTrustLevel), set by no one yet. */
export function initialTrust(templateMax: TrustLevel, now = new Date()): TrustFile {
  return { level: initialTrustLevel(templateMax), dailySpendLimitWei: "0", setAt: now.toISOString(), byOwner: false };
}

export type Decision = { kind: "allow" } | { kind: "ask" } | { kind: "refuse"; reason: string };

/**
 * What the level says of one call. `spentWei` is what moved in the last 24
 * hours; `amountWei` what this call would move.
 */
export function decide(trust: TrustFile, risk: Risk, amountWei = 0n, spentWei = 0n): Decision {
  switch (trust.level) {
    case TrustLevel.OBSERVER:
      return { kind: "refuse", reason: `my trust level is ${describeLevel(trust.level)}: I answer, but I use no tools. My owner can raise it.` };
    case TrustLevel.OPERATOR:
      return risk === "money" ? { kind: "ask" } : { kind: "allow" };
    case TrustLevel.AUTONOMOUS: {
      if (risk !== "money") return { kind: "allow" };
      const limit = BigInt(trust.dailySpendLimitWei || "0");
      if (spentWei + amountWei > limit) {
        return { kind: "refuse", reason: `that would go over my daily spending limit (${formatWei(limit)} in 24 hours; ${formatWei(spentWei)} spent)` };
      }
      return { kind: "allow" };
    }
    default:
      return { kind: "ask" };
  }
}

/** Wei as ETH for people: "0.015 ETH". */
export function formatWei(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const frac = (wei % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return `${whole}${frac ? `.${frac}` : ""} ETH`;
}
