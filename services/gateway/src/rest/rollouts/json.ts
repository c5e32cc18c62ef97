// Staged rollouts in their REST JSON form (docs/rest.md, "Rollouts"), and
// the REST bodies of a start and a step as RolloutService's request
// messages. Names for the proto's numbers (`running`, `widen`), a share both
// in hundredths of a percent and as a percent, and a body's share taken in
// either form: `share_percent` (0.01 to 99.99) or `share_basis_points`.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutState,
  type Rollout,
  type RolloutBounds,
  type RolloutStep,
  type RolloutWatch,
  type StartRolloutRequestSchema,
  type StepRolloutRequestSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { CONTENT_FIELDS } from "@convos-pool/kit/content";
import type { TemplateContent } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { RolloutBoundsJson } from "@convos-pool/kit/signing";
import { badRequest, fieldNames, type RestErrorMapping, type Violations } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { signatureOf } from "../core/signature-json.js";
import { contentFromBody } from "../templates/json.js";

/** A share is 1 to 9,999 hundredths of a percent: all of them is an update, not a rollout. */
export const MAX_SHARE_BASIS_POINTS = 9_999;

export type RolloutStateName = "running" | "paused" | "promoted" | "rolled_back" | "halted";
export type RolloutActionName = "start" | "widen" | "pause" | "resume" | "promote" | "roll_back" | "halt";

const STATE_NAMES: Record<RolloutState, RolloutStateName | "unspecified"> = {
  [RolloutState.UNSPECIFIED]: "unspecified",
  [RolloutState.RUNNING]: "running",
  [RolloutState.PAUSED]: "paused",
  [RolloutState.PROMOTED]: "promoted",
  [RolloutState.ROLLED_BACK]: "rolled_back",
  [RolloutState.HALTED]: "halted",
};

/** Each rollout action's REST name. */
export const ACTION_NAMES: Record<RolloutAction, RolloutActionName | "unspecified"> = {
  [RolloutAction.UNSPECIFIED]: "unspecified",
  [RolloutAction.START]: "start",
  [RolloutAction.WIDEN]: "widen",
  [RolloutAction.PAUSE]: "pause",
  [RolloutAction.RESUME]: "resume",
  [RolloutAction.PROMOTE]: "promote",
  [RolloutAction.ROLL_BACK]: "roll_back",
  [RolloutAction.HALT]: "halt",
};

/** The creator's steps of `POST …/steps`, by name (START is the rollout's own path, HALT the pool's). */
export const STEP_ACTIONS = ["widen", "pause", "resume", "promote", "roll_back"] as const;
export type StepActionName = (typeof STEP_ACTIONS)[number];

const STEP_NUMBERS: Record<StepActionName, RolloutAction> = {
  widen: RolloutAction.WIDEN,
  pause: RolloutAction.PAUSE,
  resume: RolloutAction.RESUME,
  promote: RolloutAction.PROMOTE,
  roll_back: RolloutAction.ROLL_BACK,
};

// ---------------------------------------------------------------- answers
// A rollout's bounds are the kit's RolloutBoundsJson: the JSON the signed
// step hashes (kit signing/rollout-step.ts), which the templates service,
// the web app and the CLI read too.

export type { RolloutBoundsJson };

export interface RolloutStepJson {
  action: RolloutActionName | "unspecified";
  share_basis_points: number;
  share_percent: number;
  at: string | null;
  /** The creator's; null for the pool's halt. */
  signature: { signature: string; issued_at: number; nonce: string } | null;
}

export interface RolloutWatchJson {
  days_counted: number;
  threshold: number;
  signals: {
    signal: string;
    candidate_events: number;
    candidate_exposure: number;
    baseline_events: number;
    baseline_exposure: number;
    evidence: number;
  }[];
  checked_at: string | null;
  halted_on: string;
}

export interface RolloutJson {
  rollout_id: string;
  template_id: string;
  baseline_version: number;
  candidate_version: number;
  fallback_version: number;
  state: RolloutStateName | "unspecified";
  share_basis_points: number;
  share_percent: number;
  bounds: RolloutBoundsJson;
  steps: RolloutStepJson[];
  /** What the pool makes of it so far; null before its first look. */
  watch: RolloutWatchJson | null;
  conversations: number;
  conversations_in: number;
  started_at: string | null;
  updated_at: string | null;
}

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

/** Hundredths of a percent as a percent: 1,050 is 10.5. */
export const sharePercent = (basisPoints: number) => basisPoints / 100;

export function boundsToJson(b: RolloutBounds | undefined): RolloutBoundsJson {
  const v = b ?? create(RolloutBoundsSchema);
  return {
    removals: v.removals,
    pauses: v.pauses,
    stop_requests: v.stopRequests,
    thumbs_down: v.thumbsDown,
    corrections: v.corrections,
    tool_calls_failed: v.toolCallsFailed,
    approvals_declined: v.approvalsDeclined,
    false_alarm: v.falseAlarm,
  };
}

function stepToJson(s: RolloutStep): RolloutStepJson {
  return {
    action: ACTION_NAMES[s.action] ?? "unspecified",
    share_basis_points: s.shareBasisPoints,
    share_percent: sharePercent(s.shareBasisPoints),
    at: iso(s.at),
    signature: s.signature
      ? { signature: s.signature.signature, issued_at: Number(s.signature.issuedAt), nonce: s.signature.nonce }
      : null,
  };
}

function watchToJson(w: RolloutWatch): RolloutWatchJson {
  return {
    days_counted: w.daysCounted,
    threshold: w.threshold,
    signals: w.signals.map((s) => ({
      signal: s.signal,
      candidate_events: s.candidateEvents,
      candidate_exposure: s.candidateExposure,
      baseline_events: s.baselineEvents,
      baseline_exposure: s.baselineExposure,
      evidence: s.evidence,
    })),
    checked_at: iso(w.checkedAt),
    halted_on: w.haltedOn,
  };
}

export function rolloutToJson(r: Rollout): RolloutJson {
  return {
    rollout_id: r.rolloutId,
    template_id: r.templateId,
    baseline_version: Number(r.baselineVersion),
    candidate_version: Number(r.candidateVersion),
    fallback_version: Number(r.fallbackVersion),
    state: STATE_NAMES[r.state] ?? "unspecified",
    share_basis_points: r.shareBasisPoints,
    share_percent: sharePercent(r.shareBasisPoints),
    bounds: boundsToJson(r.bounds),
    steps: r.steps.map(stepToJson),
    watch: r.watch ? watchToJson(r.watch) : null,
    conversations: r.conversations,
    conversations_in: r.conversationsIn,
    started_at: iso(r.startedAt),
    updated_at: iso(r.updatedAt),
  };
}

// ---------------------------------------------------------------- request bodies

export const BOUNDS_FIELDS = [
  "removals",
  "pauses",
  "stop_requests",
  "thumbs_down",
  "corrections",
  "tool_calls_failed",
  "approvals_declined",
  "false_alarm",
] as const;

export const START_FIELDS = [
  "expected_version",
  "content",
  "signature",
  "release_notes",
  "acknowledge_wallet_removal",
  "share_percent",
  "share_basis_points",
  "bounds",
  "fallback_signature",
  "step_signature",
] as const;

export const STEP_FIELDS = ["action", "share_percent", "share_basis_points", "signature"] as const;

/**
 * The share a body asks for, in hundredths of a percent: `share_percent`
 * (0.01 to 99.99, at most two decimals: refused here, as no RPC value says
 * another) or `share_basis_points` (its range the service's), not both.
 * Neither: 0, which the service refuses on a start; a widen's (`required`)
 * is refused here, by the name REST asks for first.
 */
export function shareFromBody(body: JsonObject, required = false): number {
  const percent = body.has("share_percent");
  const points = body.has("share_basis_points");
  if (percent && points) throw badRequest("share_percent", "give share_percent or share_basis_points, not both");
  if (percent) {
    const p = body.number("share_percent");
    const bp = Math.round(p * 100);
    if (Math.abs(p * 100 - bp) > 1e-6 || bp < 1 || bp > MAX_SHARE_BASIS_POINTS)
      throw badRequest(
        "share_percent",
        "must be a percent from 0.01 to 99.99, with at most two decimals (100 is an update: promote instead)",
      );
    return bp;
  }
  // Hundredths go on as the RPC's uint32: their range is the service's, named with the request's other faults.
  if (points) return body.uint32("share_basis_points");
  if (required) throw badRequest("share_percent", "is required (or share_basis_points)");
  return 0;
}

/**
 * The bounds of a start: each a number, the service checks their ranges;
 * absent ones 0 (the default). A bound that is no number is REST's own
 * fault, kept in `check` (each of them, not the first), and read as 0.
 */
export function boundsFromBody(body: JsonObject, check: Violations): RolloutBounds {
  const b = check.read(() => body.object("bounds", BOUNDS_FIELDS));
  if (!b) return create(RolloutBoundsSchema);
  const n = (k: (typeof BOUNDS_FIELDS)[number]) => check.read(() => b.number(k, 0)) ?? 0;
  return create(RolloutBoundsSchema, {
    removals: n("removals"),
    pauses: n("pauses"),
    stopRequests: n("stop_requests"),
    thumbsDown: n("thumbs_down"),
    corrections: n("corrections"),
    toolCallsFailed: n("tool_calls_failed"),
    approvalsDeclined: n("approvals_declined"),
    falseAlarm: n("false_alarm"),
  });
}

type StartInit = MessageInitShape<typeof StartRolloutRequestSchema>;
type StepInit = MessageInitShape<typeof StepRolloutRequestSchema>;

/**
 * `POST /api/pool/templates/{id}/rollouts`: the request for template
 * `templateId` (the body read with START_FIELDS). What REST cannot read (a
 * content, share, bound, version or signature of the wrong form) is its own
 * fault, kept in `check`, and goes into the request as the RPC's zero for
 * the service's check of the rest.
 */
export function startFromBody(
  templateId: string,
  body: JsonObject,
  check: Violations,
): StartInit & {
  templateId: string;
  expectedVersion: bigint;
  shareBasisPoints: number;
  releaseNotes: string;
  content?: TemplateContent | undefined;
  bounds: RolloutBounds;
} {
  // What is left out goes on as the RPC's zero (no content, version 0, share 0): the service names it with the rest.
  const content = check.read(() => body.object("content", CONTENT_FIELDS));
  // Each field of it REST cannot read is named, and read as its zero for the service's check of the rest.
  const read = content && check.read(() => contentFromBody(content, check));
  return {
    templateId,
    expectedVersion: BigInt(check.read(() => body.integer("expected_version", Number.MIN_SAFE_INTEGER, 0)) ?? 0),
    ...(read ? { content: read } : {}),
    signature: check.read(() => signatureOf(body)),
    releaseNotes: check.read(() => body.string("release_notes", "")) ?? "",
    acknowledgeWalletRemoval: check.read(() => body.boolean("acknowledge_wallet_removal", false)) ?? false,
    shareBasisPoints: check.read(() => shareFromBody(body)) ?? 0,
    bounds: boundsFromBody(body, check),
    fallbackSignature: check.read(() => signatureOf(body, "fallback_signature")),
    stepSignature: check.read(() => signatureOf(body, "step_signature")),
  };
}

/**
 * `POST …/rollouts/{rollout_id}/steps`: a widen needs its share; the others
 * may repeat the current one. A word no creator's step is (`start`, `halt`)
 * and a share REST cannot read are REST's own, kept in `check` with the
 * action and share at none for the service's check of the rest.
 */
export function stepFromBody(
  templateId: string,
  rolloutId: string,
  body: JsonObject,
  check: Violations,
): StepInit & { templateId: string; rolloutId: string; action: RolloutAction; shareBasisPoints: number } {
  // No action goes on as none, which the service names beside the ids.
  const word = body.has("action") ? check.read(() => body.oneOf("action", STEP_ACTIONS)) : undefined;
  const action = word ? STEP_NUMBERS[word] : RolloutAction.UNSPECIFIED;
  return {
    templateId,
    rolloutId,
    action,
    shareBasisPoints: check.read(() => shareFromBody(body, action === RolloutAction.WIDEN)) ?? 0,
    signature: check.read(() => signatureOf(body)),
  };
}

/**
 * A share the service names is the one the body sent: `share_percent`, or
 * `share_basis_points` when only that was sent; left out, `share_percent`,
 * the name REST asks for first.
 */
const shareName = (sent: (bodyField: string) => boolean) =>
  sent("share_percent") || !sent("share_basis_points") ? "share_percent" : "share_basis_points";

/** StartRollout's fields in REST's words: the body's own names (its content nested), a share as sent. */
export const START_NAMES = fieldNames({
  template_id: "template_id",
  expected_version: "expected_version",
  content: "content",
  signature: "signature",
  release_notes: "release_notes",
  acknowledge_wallet_removal: "acknowledge_wallet_removal",
  share_basis_points: shareName,
  bounds: "bounds",
  fallback_signature: "fallback_signature",
  step_signature: "step_signature",
});

/** StepRollout's fields in REST's words. */
export const STEP_NAMES = fieldNames({
  template_id: "template_id",
  rollout_id: "rollout_id",
  action: "action",
  share_basis_points: shareName,
  signature: "signature",
});

/** What the service names is the body's name, but a share (shareName) and the listing's page. */
export const ROLLOUT_ERRORS: RestErrorMapping = {
  field: (rpcField, sent) => {
    if (rpcField === "share_basis_points") return shareName(sent);
    if (rpcField === "page_size") return "limit";
    if (rpcField === "page_token") return "cursor";
    return rpcField;
  },
};
