// What the studio may do with a staged rollout and what it signs
// (docs/rollouts.md), pure: which steps a state takes (the templates
// service's table, so that a button is shown only when the step would be
// taken), a share typed in percent, the bounds a start sets, and the fields
// of a signed RolloutStep. Not here: the words the page shows
// (rollout-words.ts), nor any call.
import { RolloutAction, RolloutState, type RolloutBounds } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  DEFAULT_BOUND,
  DEFAULT_FALSE_ALARM,
  ROLLOUT_SIGNAL_NAMES,
  ROLLOUT_SIGNALS,
  type RolloutBoundsJson,
  type RolloutSignal,
  rolloutBoundsHash,
  rolloutBoundsJson,
} from "@convos-pool/kit/browser";
import type { Hex } from "viem";
import { FieldError } from "../ui/errors";

/** Hundredths of a percent: 10,000 is every conversation, which is a promotion, not a share. */
export const ALL_BASIS_POINTS = 10_000;
/** The share a rollout starts at unless the creator picks another: 10%. */
export const DEFAULT_START_PERCENT = "10";

/** A creator's step after the start, by the action it signs. */
export type CreatorStep = "widen" | "pause" | "resume" | "promote" | "roll_back";

export const STEP_ACTIONS: Record<CreatorStep, RolloutAction> = {
  widen: RolloutAction.WIDEN,
  pause: RolloutAction.PAUSE,
  resume: RolloutAction.RESUME,
  promote: RolloutAction.PROMOTE,
  roll_back: RolloutAction.ROLL_BACK,
};

/** The steps a rollout in `state` takes, in the order the page offers them (the service's state table). */
export function stepsAllowed(state: RolloutState): CreatorStep[] {
  switch (state) {
    case RolloutState.RUNNING:
      return ["widen", "pause", "promote", "roll_back"];
    case RolloutState.PAUSED:
      return ["resume", "promote", "roll_back"];
    default:
      return [];
  }
}

/** Whether a rollout still holds its template (no other content change until it ends). */
export const isLive = (state: RolloutState) => state === RolloutState.RUNNING || state === RolloutState.PAUSED;

/**
 * A share typed in percent ("10", "12.5") in hundredths of a percent,
 * above `above` and below every conversation; else a FieldError by `field`
 * in the service's name for it.
 */
export function shareFromPercent(text: string, above = 0, field = "share_basis_points"): number {
  const t = text.trim().replace(/%$/, "").trim();
  const n = Number(t);
  if (t === "" || !Number.isFinite(n)) throw new FieldError(field, "must be a percentage, such as 10 or 12.5");
  const bp = Math.round(n * 100);
  if (Math.abs(bp - n * 100) > 1e-6) throw new FieldError(field, "must have at most two decimals, such as 12.25");
  if (bp <= above || bp >= ALL_BASIS_POINTS) {
    const from = above > 0 ? `above the current ${above / 100}%` : "at least 0.01%";
    throw new FieldError(field, `must be ${from} and below 100% (to reach every conversation, promote)`);
  }
  return bp;
}

/** The shares the page offers to widen to, in turn: 25, 50, 75 and 90%. */
export const RAMP_SHARES = [2_500, 5_000, 7_500, 9_000] as const;

/** The share a widen offers first: the next of RAMP_SHARES above the current one, if any. */
export const nextShare = (current: number): number | undefined => RAMP_SHARES.find((s) => s > current);

/** A share on a rollout's way to every conversation: one it took, the one it is at, or one ahead. */
export interface RampStep {
  /** Hundredths of a percent; ALL_BASIS_POINTS: every conversation (a promotion). */
  share: number;
  at: "taken" | "now" | "ahead";
}

/**
 * A live rollout's ramp: the shares its START and WIDEN steps took, the one
 * it is at, then the shares the page offers above it and every conversation
 * last. What is ahead is the page's offer, not a plan the service keeps:
 * the creator signs each step. A rollout that ended has none.
 */
export function plannedRamp(r: {
  state: RolloutState;
  shareBasisPoints: number;
  steps: readonly { action: RolloutAction; shareBasisPoints: number }[];
}): RampStep[] {
  if (!isLive(r.state)) return [];
  const taken = r.steps
    .filter((s) => s.action === RolloutAction.START || s.action === RolloutAction.WIDEN)
    .map((s) => s.shareBasisPoints)
    .filter((share, i, all) => share < r.shareBasisPoints && all.indexOf(share) === i);
  return [
    ...taken.map((share) => ({ share, at: "taken" as const })),
    { share: r.shareBasisPoints, at: "now" as const },
    ...[...RAMP_SHARES.filter((s) => s > r.shareBasisPoints), ALL_BASIS_POINTS].map((share) => ({
      share,
      at: "ahead" as const,
    })),
  ];
}

/** Each signal's bound by its field in RolloutBounds, and the service's name for it (the kit's). */
export const BOUND_FIELDS = ROLLOUT_SIGNALS.map((s) => [s, ROLLOUT_SIGNAL_NAMES[s]] as const);
export type BoundField = RolloutSignal | "falseAlarm";

export { DEFAULT_BOUND, DEFAULT_FALSE_ALARM };

type Bounds = Partial<Pick<RolloutBounds, BoundField>>;

/** The bounds as the service keeps and hashes them: snake_case names, each unset (0) one its default. */
export const boundsJson = (b: Bounds = {}): RolloutBoundsJson => rolloutBoundsJson(b);

/** RolloutStep's `boundsHash`: the kit's, over the bounds with defaults filled in. */
export const boundsHash = (b: Bounds = {}): Hex => rolloutBoundsHash(rolloutBoundsJson(b));

/**
 * The bounds a start form holds (text per field, empty for the default) as
 * the request's numbers; a field that is not a number is a FieldError by
 * its service name (`bounds.thumbs_down`). Ranges are the service's to check.
 */
export function boundsFromText(text: Partial<Record<BoundField, string>>): Bounds {
  const out: Bounds = {};
  const names: (readonly [BoundField, string])[] = [...BOUND_FIELDS, ["falseAlarm", "false_alarm"]];
  for (const [field, name] of names) {
    const t = (text[field] ?? "").trim();
    if (t === "") continue;
    const n = Number(t);
    if (!Number.isFinite(n) || n <= 0) throw new FieldError(`bounds.${name}`, "must be a number above 0, or empty");
    out[field] = n;
  }
  return out;
}

/** What a step signs besides the inbox: the candidate version, its action, the share after it, the bounds' hash. */
export function stepFields(
  r: { templateId: string; candidateVersion: bigint; shareBasisPoints: number; bounds?: Bounds | undefined },
  step: CreatorStep,
  widenTo?: number,
) {
  return {
    templateId: r.templateId,
    version: r.candidateVersion,
    action: STEP_ACTIONS[step],
    // WIDEN's new share; every other step signs the current one.
    shareBasisPoints: step === "widen" && widenTo !== undefined ? widenTo : r.shareBasisPoints,
    boundsHash: boundsHash(r.bounds),
  };
}
