// Trust levels by the names people use (L1 to L4) and what each allows, for
// template content, the web app and the CLI. The levels themselves are the
// proto's TrustLevel (common.proto); the agent enforces them, not the pool.
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";

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
