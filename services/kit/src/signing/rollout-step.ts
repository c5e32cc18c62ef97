// What a staged rollout's signed step covers besides its share
// (docs/rollouts.md, "The signed step"): the rollout's bounds, as one hash.
// One place for the bounds' canonical JSON, so that the templates service,
// the claims service and the CLI hash the same bounds to the same value.
import { keccak256, stringToBytes, type Hex } from "viem";
import type { RolloutBounds } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  DEFAULT_BOUND,
  DEFAULT_FALSE_ALARM,
  ROLLOUT_SIGNAL_NAMES,
  ROLLOUT_SIGNALS,
  type RolloutSignal,
} from "../content/rollout.js";
import { canonicalJson } from "../content/template.js";

/**
 * A rollout's bounds as JSON, defaults filled in: each signal's bound by
 * its proto name (`thumbs_down`), and `false_alarm`. What the templates
 * service keeps, and what `boundsHash` is the hash of.
 */
export interface RolloutBoundsJson {
  removals: number;
  pauses: number;
  stop_requests: number;
  thumbs_down: number;
  corrections: number;
  tool_calls_failed: number;
  approvals_declined: number;
  false_alarm: number;
}

type BoundsFields = Partial<Pick<RolloutBounds, RolloutSignal | "falseAlarm">>;

/** The bounds a request carries, each unset (0) one the default (kit content/rollout.ts): 0.5, and 0.05 for the false alarm. */
export function rolloutBoundsJson(b: BoundsFields = {}): RolloutBoundsJson {
  const bound = (s: RolloutSignal) => b[s] || DEFAULT_BOUND;
  return {
    removals: bound("removals"),
    pauses: bound("pauses"),
    stop_requests: bound("stopRequests"),
    thumbs_down: bound("thumbsDown"),
    corrections: bound("corrections"),
    tool_calls_failed: bound("toolCallsFailed"),
    approvals_declined: bound("approvalsDeclined"),
    false_alarm: b.falseAlarm || DEFAULT_FALSE_ALARM,
  };
}

/** The bounds as kept back as the contract's fields (`thumbsDown`, `falseAlarm`): rolloutBoundsJson's inverse. */
export function rolloutBoundsFields(json: RolloutBoundsJson): Required<BoundsFields> {
  const fields = Object.fromEntries(
    ROLLOUT_SIGNALS.map((s) => [s, json[ROLLOUT_SIGNAL_NAMES[s] as keyof RolloutBoundsJson]]),
  ) as Record<RolloutSignal, number>;
  return { ...fields, falseAlarm: json.false_alarm };
}

/** `boundsHash` of RolloutStep: keccak256 of the bounds' canonical JSON, as `jsonHash` hashes content. */
export function rolloutBoundsHash(bounds: RolloutBoundsJson): Hex {
  return keccak256(stringToBytes(canonicalJson(bounds)));
}
