// A rollout's start and step checks (rollout-request.ts), as plain calls:
// every bad field named at once, each by its field. No database, no network.
import { create } from "@bufbuild/protobuf";
import { RolloutAction, RolloutBoundsSchema } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { describe, expect, it } from "vitest";
import { violationsOf } from "./errors.js";
import { checkBoundsRanges, stepRolloutViolations } from "./rollout-request.js";

const fields = (vs: { field: string }[]) => vs.map((v) => v.field);

describe("a rollout's request checks", () => {
  it("name every bound out of its range at once, not the first only", () => {
    const bounds = create(RolloutBoundsSchema, {
      toolCallsFailed: -5e-324,
      approvalsDeclined: Number.POSITIVE_INFINITY,
      falseAlarm: 0.5,
      thumbsDown: 0.3,
    });
    expect(fields(violationsOf(() => checkBoundsRanges(bounds)))).toEqual([
      "bounds.tool_calls_failed",
      "bounds.approvals_declined",
      "bounds.false_alarm",
    ]);
    expect(violationsOf(() => checkBoundsRanges(create(RolloutBoundsSchema)))).toEqual([]);
  });

  it("name a step no creator takes beside the ids, and a widen's share only for a widen", () => {
    const step = (action: RolloutAction, shareBasisPoints = 0) =>
      fields(stepRolloutViolations({ templateId: " ", rolloutId: " ", action, shareBasisPoints }));
    expect(step(RolloutAction.START)).toEqual(["template_id", "rollout_id", "action"]);
    expect(step(RolloutAction.WIDEN)).toEqual(["template_id", "rollout_id", "share_basis_points"]);
    expect(step(RolloutAction.PAUSE, 2 ** 31)).toEqual(["template_id", "rollout_id"]);
  });
});
