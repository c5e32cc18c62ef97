// Trust levels by the names people use (L1 to L4) and what each allows, for
// template content, the web app and the CLI. The levels themselves are the
// proto's TrustLevel (common.proto); the agent enforces them, not the pool.
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { invalidArguments, type FieldViolationInfo } from "./errors.js";

export type TrustLevelName = "L1" | "L2" | "L3" | "L4";

export const TRUST_LEVEL_NAMES = ["L1", "L2", "L3", "L4"] as const satisfies readonly TrustLevelName[];

/** A template without a highest trust level allows up to this one. */
export const DEFAULT_MAX_TRUST_LEVEL: TrustLevelName = "L2";

/** One line on what an agent at each level may do. */
export const TRUST_LEVEL_SUMMARIES: Record<TrustLevelName, string> = {
  L1: "answers in its conversation; uses no tool",
  L2: "uses a tool only after its owner approves that call",
  L3: "uses its tools freely except moving money",
  L4: "uses every tool freely; moves money within its daily spending limit",
};

const BY_NAME: Record<TrustLevelName, TrustLevel> = {
  L1: TrustLevel.OBSERVER,
  L2: TrustLevel.ADVISOR,
  L3: TrustLevel.OPERATOR,
  L4: TrustLevel.AUTONOMOUS,
};

export function isTrustLevelName(v: unknown): v is TrustLevelName {
  return typeof v === "string" && (TRUST_LEVEL_NAMES as readonly string[]).includes(v);
}

/** What a field that is not a level is told. */
export const NOT_A_TRUST_LEVEL = `must be one of ${TRUST_LEVEL_NAMES.map((n) => JSON.stringify(n)).join(", ")}`;

/** "L1" to "L4"; "" for unspecified or a value this code does not know. */
export function trustLevelName(level: TrustLevel): TrustLevelName | "" {
  return TRUST_LEVEL_NAMES.find((n) => BY_NAME[n] === level) ?? "";
}

/** The level named exactly "L1" to "L4" (as content JSON has it); undefined for anything else. */
export function parseTrustLevel(s: string): TrustLevel | undefined {
  return isTrustLevelName(s) ? BY_NAME[s] : undefined;
}

/** A template's highest level as it applies: unspecified is L2. */
export function effectiveMaxTrustLevel(templateMax: TrustLevel): TrustLevel {
  return templateMax === TrustLevel.UNSPECIFIED ? TrustLevel.ADVISOR : templateMax;
}

/** Where a new agent starts: L2 (docs/trust.md), or its template's highest when that is lower. */
export function initialTrustLevel(templateMax: TrustLevel): TrustLevel {
  return Math.min(TrustLevel.ADVISOR, effectiveMaxTrustLevel(templateMax));
}

/**
 * The most a daily limit confirmed in Convos may be, wei: 0.05 ETH a day
 * (docs/decisions.md, "A daily limit confirmed in Convos"). Such a limit
 * rests on two words, the gateway's session and the agent's hearing of the
 * owner's yes, so a gateway and a host broken together could spend it: this
 * is what they could move from a wallet in a day. It is enough for an agent's
 * first small payments (a ticket, a share of a meal), the amount the pages
 * have offered as a first limit since trust levels, and small beside what an
 * owner keeps in a wallet they sign for. Above it only a signed limit holds.
 */
export const CONFIRMED_DAILY_LIMIT_CAP_WEI = 50_000_000_000_000_000n;

/** The most a daily limit may be: SetTrustLevel signs it as a uint256. */
export const MAX_DAILY_SPEND_LIMIT_WEI = 2n ** 256n - 1n;

/**
 * What is wrong with a level and a daily limit (wei, decimal) an owner asks
 * for, every violation at once, each naming its field (docs/trust.md): the
 * level L1 to L4; the limit, spaces around it aside, "" or "0" (none) or a
 * whole number of wei without sign or leading zeros below 2^256; required
 * at L4, optional at L2 and L3, none at L1. The one rule both faces apply
 * (REST's body, ClaimService.SetTrustLevel), never looser than the agent's
 * own check, which also holds the level to its template's highest.
 */
export function trustRequestViolations(level: TrustLevel, dailySpendLimitWei: string): FieldViolationInfo[] {
  const out: FieldViolationInfo[] = [];
  if (trustLevelName(level) === "") out.push({ field: "trust_level", description: NOT_A_TRUST_LEVEL });
  const limit = dailySpendLimitWei.trim();
  const none = limit === "" || limit === "0";
  const field = "daily_spend_limit_wei";
  if (!none && (!/^[1-9]\d{0,77}$/.test(limit) || BigInt(limit) > MAX_DAILY_SPEND_LIMIT_WEI))
    out.push({ field, description: "must be a whole number of wei below 2^256 (decimal digits)" });
  else if (level === TrustLevel.OBSERVER && !none)
    out.push({ field, description: "L1 uses no tool, so it has no daily spending limit: leave it out" });
  else if (level === TrustLevel.AUTONOMOUS && none)
    out.push({ field, description: "is required at L4: the most it may spend in a day, in wei, above 0" });
  return out;
}

/**
 * The level and limit as trustRequestViolations takes them (the limit
 * trimmed, as sent on, and in wei, as signed), or INVALID_ARGUMENT naming
 * every bad field.
 */
export function checkTrustRequest(
  level: TrustLevel,
  dailySpendLimitWei: string,
): { level: TrustLevel; text: string; wei: bigint } {
  const violations = trustRequestViolations(level, dailySpendLimitWei);
  if (violations.length > 0) throw invalidArguments(violations);
  const text = dailySpendLimitWei.trim();
  return { level, text, wei: BigInt(text || "0") };
}
