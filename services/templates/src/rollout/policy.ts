// A staged rollout's rules, pure (docs/rollouts.md): the share a start may
// take, the bounds a creator may set, what each step does to a rollout
// (the state machine below; a widening waits while the pool's watch pauses
// the rollout), and the words of a halt's reason. Not here:
// which conversations a share takes and when the pool halts (kit
// content/rollout.ts, run by the lineage service), nor any I/O (service.ts,
// watch.ts).
//
//   step       from               to            share after
//   START      (none)             running       the share asked (1..9,999)
//   WIDEN      running            running       the share asked, above the current one, below 10,000
//   PAUSE      running            paused        the current one
//   RESUME     paused             running       the current one
//   PROMOTE    running, paused    promoted      the current one
//   ROLL_BACK  running, paused    rolled_back   the current one
//   HALT       running, paused    halted        the current one (the pool's, unsigned)
//
// A rollout at 10,000 would be an update: promote it instead.
import {
  type RolloutAction,
  RolloutState,
  type RolloutBounds,
  type RolloutWatch,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { checkBoundsRanges, failedPrecondition, invalidArgument, MAX_SHARE } from "@convos-pool/kit/content";
import { rolloutBoundsJson, type RolloutBoundsJson } from "@convos-pool/kit/signing";
import { ACTION_NUMBERS, type RolloutActionName, type RolloutStateName } from "../catalog/rollout.js";

/** A start's and a step's request checks, the share and the bounds' ranges: the kit's, which the gateway's REST face runs too. */
export {
  BOUND_RANGE,
  checkRolloutId,
  checkStartShare,
  FALSE_ALARM_RANGE,
  MAX_SHARE,
  startRolloutViolations,
  stepRolloutViolations,
} from "@convos-pool/kit/content";

/** The bounds a request sets, each in its range (0: the default), as kept and signed: defaults filled in. */
export function checkBounds(bounds: RolloutBounds | undefined): RolloutBoundsJson {
  checkBoundsRanges(bounds);
  return rolloutBoundsJson(bounds);
}

const STATES: Record<RolloutStateName, RolloutState> = {
  running: RolloutState.RUNNING,
  paused: RolloutState.PAUSED,
  promoted: RolloutState.PROMOTED,
  rolled_back: RolloutState.ROLLED_BACK,
  halted: RolloutState.HALTED,
};
export const actionNumber = (a: RolloutActionName): RolloutAction => ACTION_NUMBERS[a];
export const stateNumber = (s: RolloutStateName): RolloutState => STATES[s];

/** The creator's steps of StepRollout (START is StartRollout's, HALT the pool's). */
const CREATOR_STEPS = ["widen", "pause", "resume", "promote", "roll_back"] as const;
export type CreatorStep = (typeof CREATOR_STEPS)[number];

/** The step a StepRollout asks for, or INVALID_ARGUMENT naming `action`. */
export function creatorStep(action: RolloutAction): CreatorStep {
  const name = CREATOR_STEPS.find((a) => ACTION_NUMBERS[a] === action);
  if (!name) throw invalidArgument("action", "must be WIDEN, PAUSE, RESUME, PROMOTE or ROLL_BACK");
  return name;
}

/** Where a step leaves a rollout. */
export interface Planned {
  state: RolloutStateName;
  share: number;
}

/** A rollout as a step finds it: with why the pool's watch pauses it, when it does (Rollout.watch.paused_on). */
export interface Seen extends Planned {
  pausedOn?: string | undefined;
}

const FROM: Record<CreatorStep | "halt", { from: readonly RolloutStateName[]; to: RolloutStateName }> = {
  widen: { from: ["running"], to: "running" },
  pause: { from: ["running"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  promote: { from: ["running", "paused"], to: "promoted" },
  roll_back: { from: ["running", "paused"], to: "rolled_back" },
  halt: { from: ["running", "paused"], to: "halted" },
};

const WORDS: Record<RolloutStateName, string> = {
  running: "running",
  paused: "paused",
  promoted: "promoted",
  rolled_back: "rolled back",
  halted: "halted",
};

/**
 * What `step` does to a rollout `now` (the table above): its state and share
 * after. `asked` is the request's share: WIDEN's new one; for the others 0
 * or the current one. Refused: a step the state does not take, a widening
 * while the pool's watch pauses the rollout (FAILED_PRECONDITION, with the
 * watch's reason: the creator looks, then promotes, rolls back, or waits for
 * the watch), a share it cannot have (INVALID_ARGUMENT).
 */
export function planStep(now: Seen, step: CreatorStep | "halt", asked = 0): Planned {
  const rule = FROM[step];
  if (!rule.from.includes(now.state)) {
    const can = rule.from.map((s) => WORDS[s]).join(" or ");
    throw failedPrecondition(`the rollout is ${WORDS[now.state]}: only a ${can} rollout can be ${pastOf(step)}`);
  }
  if (step === "widen" && now.pausedOn)
    throw failedPrecondition(
      `the pool paused this rollout: ${now.pausedOn}. It widens again once the watch no longer pauses it; promote or roll it back meanwhile`,
    );
  if (step === "widen") {
    if (!Number.isInteger(asked) || asked <= now.share || asked > MAX_SHARE)
      throw invalidArgument(
        "share_basis_points",
        `must be above the current share (${now.share}) and at most ${MAX_SHARE}; to reach every conversation, promote`,
      );
    return { state: rule.to, share: asked };
  }
  if (asked !== 0 && asked !== now.share)
    throw invalidArgument(
      "share_basis_points",
      `must be unset or the current share (${now.share}): only WIDEN changes it`,
    );
  return { state: rule.to, share: now.share };
}

function pastOf(step: CreatorStep | "halt"): string {
  return {
    widen: "widened",
    pause: "paused",
    resume: "resumed",
    promote: "promoted",
    roll_back: "rolled back",
    halt: "halted",
  }[step];
}

/** What each signal is counted against, in the creator's words (RolloutSignalFigures' exposure). */
const EXPOSURE_WORDS: Record<string, string> = {
  removals: "agents that ran",
  pauses: "agents' days",
};

const figure = (x: number) => (Number.isInteger(x) ? x.toLocaleString("en-US") : x.toFixed(1));

/**
 * Why the pool halted a rollout, as the creator reads it (kept as
 * Rollout.watch.halted_on): lineage's words for the signal, then both
 * versions' events and exposures and the evidence against the threshold.
 * The signal is the one with the most evidence, the one the test halted on.
 */
export function haltReason(watch: RolloutWatch, versions: { candidate: number; baseline: number }): string {
  const words = watch.haltedOn || "the pool's watch";
  const s = watch.signals.reduce<RolloutWatch["signals"][number] | undefined>(
    (a, b) => (a === undefined || b.evidence > a.evidence ? b : a),
    undefined,
  );
  if (!s) return words;
  const unit = EXPOSURE_WORDS[s.signal] ?? "answers";
  return (
    `${words}: ${figure(s.candidateEvents)} in ${figure(s.candidateExposure)} ${unit} on version ${versions.candidate}, ` +
    `against ${figure(s.baselineEvents)} in ${figure(s.baselineExposure)} on version ${versions.baseline} ` +
    `(evidence ${s.evidence.toFixed(2)}, past the threshold ${watch.threshold.toFixed(2)}, over ${watch.daysCounted} ${watch.daysCounted === 1 ? "day" : "days"})`
  );
}
