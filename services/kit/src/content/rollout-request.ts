// What is wrong with a staged rollout's start (StartRollout) or a creator's
// step (StepRollout), the pure part, every violation named at once with its
// field (docs/rollouts.md). The templates service refuses with these before
// anything is read; the gateway's REST face runs the same ones when its own
// reading of a body already refuses it (a share or bound it cannot read, a
// step it has no word for), so that both faces name the same fields. Not
// here: the signatures, the template's version and what a step does to the
// rollout it finds (the templates service's rollout/policy.ts, planStep).
import { RolloutAction, type RolloutBounds } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { snakeCase } from "./contract.js";
import { checkAll, invalidArgument, violationsOf, type FieldViolationInfo } from "./errors.js";
import { ROLLOUT_SIGNALS } from "./rollout.js";
import { checkExpectedVersion, checkTemplateId } from "./template-request.js";
import { checkReleaseNotes, contentToJson, validateContent } from "./template.js";

/** A rollout's id: `ro_` and 16 letters or digits. */
const ROLLOUT_ID_PATTERN = /^ro_[A-Za-z0-9]{16}$/;

export function checkRolloutId(id: string): void {
  if (!ROLLOUT_ID_PATTERN.test(id))
    throw invalidArgument("rollout_id", 'must be a rollout id such as "ro_" followed by 16 letters or digits');
}

/** Hundredths of a percent: the share is 1 to MAX_SHARE. */
export const MAX_SHARE = 9_999;
/** A signal's bound: at least 5% worse, at most 11 times the current rate. */
export const BOUND_RANGE = [0.05, 10] as const;
/** The false-alarm rate over the whole rollout. */
export const FALSE_ALARM_RANGE = [0.001, 0.2] as const;

/** A start's share, 1 to 9,999 hundredths of a percent. */
export function checkStartShare(share: number): number {
  if (!Number.isInteger(share) || share < 1 || share > MAX_SHARE)
    throw invalidArgument(
      "share_basis_points",
      `must be 1 to ${MAX_SHARE} hundredths of a percent (1,000 is 10%); all of them is an update`,
    );
  return share;
}

const inRange = (v: number, [lo, hi]: readonly [number, number]) => Number.isFinite(v) && v >= lo && v <= hi;

/** The bounds a request sets, each in its range (0: the default); every bound out of it named at once. */
export function checkBoundsRanges(bounds: RolloutBounds | undefined): void {
  checkAll(
    ...ROLLOUT_SIGNALS.map((s) => () => {
      const v = bounds?.[s] ?? 0;
      if (v !== 0 && !inRange(v, BOUND_RANGE))
        throw invalidArgument(
          `bounds.${snakeCase(s)}`,
          `must be ${BOUND_RANGE[0]} to ${BOUND_RANGE[1]} (how much worse than the current version halts it: 0.5 is half again), or unset for 0.5`,
        );
    }),
    () => {
      const fa = bounds?.falseAlarm ?? 0;
      if (fa !== 0 && !inRange(fa, FALSE_ALARM_RANGE))
        throw invalidArgument(
          "bounds.false_alarm",
          `must be ${FALSE_ALARM_RANGE[0]} to ${FALSE_ALARM_RANGE[1]}, or unset for 0.05`,
        );
    },
  );
}

/** The steps a creator takes with StepRollout (START is StartRollout's, HALT the pool's). */
export const CREATOR_ACTIONS: readonly RolloutAction[] = [
  RolloutAction.WIDEN,
  RolloutAction.PAUSE,
  RolloutAction.RESUME,
  RolloutAction.PROMOTE,
  RolloutAction.ROLL_BACK,
];

/** A creator's step, or INVALID_ARGUMENT naming `action`. */
export function checkCreatorAction(action: RolloutAction): RolloutAction {
  if (!CREATOR_ACTIONS.includes(action))
    throw invalidArgument("action", "must be WIDEN, PAUSE, RESUME, PROMOTE or ROLL_BACK");
  return action;
}

/** What is wrong with a start (StartRollout), every field at once: content, notes, template, version, share, bounds. */
export function startRolloutViolations(req: {
  templateId: string;
  expectedVersion: bigint;
  shareBasisPoints: number;
  releaseNotes: string;
  content?: TemplateContent | undefined;
  bounds?: RolloutBounds | undefined;
}): FieldViolationInfo[] {
  return violationsOf(
    () => {
      if (!req.content) throw invalidArgument("content", "is required");
      validateContent(contentToJson(req.content));
    },
    () => checkReleaseNotes(req.releaseNotes),
    () => checkTemplateId(req.templateId),
    () => checkExpectedVersion(req.expectedVersion),
    () => checkStartShare(req.shareBasisPoints),
    () => checkBoundsRanges(req.bounds),
  );
}

/** What is wrong with a creator's step (StepRollout), every field at once: template, rollout, action, a widen's share. */
export function stepRolloutViolations(req: {
  templateId: string;
  rolloutId: string;
  action: RolloutAction;
  shareBasisPoints: number;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkTemplateId(req.templateId),
    () => checkRolloutId(req.rolloutId),
    () => {
      // A widen's new share is 1 to MAX_SHARE whatever the rollout is at; above its current one is planStep's.
      if (checkCreatorAction(req.action) === RolloutAction.WIDEN) checkStartShare(req.shareBasisPoints);
    },
  );
}
