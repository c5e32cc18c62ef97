// Where a claim stands, from its key row (progress.ts), pure.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ClaimStage } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { progressTarget, progressToProto, stageOf } from "./progress.js";

describe("a claim's stage from its key", () => {
  it("a running claim is at the stage it entered; an ended one is its outcome", () => {
    expect(stageOf({ state: "pending", stage: "reserving", code: null })).toBe(ClaimStage.RESERVING);
    expect(stageOf({ state: "pending", stage: "starting", code: null })).toBe(ClaimStage.STARTING);
    expect(stageOf({ state: "pending", stage: "joining", code: null })).toBe(ClaimStage.JOINING);
    expect(stageOf({ state: "done", stage: "joining", code: null })).toBe(ClaimStage.JOINED);
    expect(stageOf({ state: "failed", stage: "joining", code: Code.Canceled })).toBe(ClaimStage.CANCELLED);
    expect(stageOf({ state: "failed", stage: "joining", code: Code.DeadlineExceeded })).toBe(ClaimStage.FAILED);
  });

  it("an ended claim carries its code in snake case and its message", () => {
    const p = progressToProto({
      claim_id: "c",
      state: "failed",
      stage: "joining",
      created_at: new Date("2026-11-27T10:00:00Z"),
      cancel_requested_at: new Date("2026-11-27T10:00:05Z"),
      instance_id: null,
      code: Code.DeadlineExceeded,
      message: "late",
    });
    expect(p).toMatchObject({ stage: ClaimStage.FAILED, cancelRequested: true, errorCode: "deadline_exceeded" });
    expect(p.errorMessage).toBe("late");
  });

  it("needs a session and a key as Claim takes it", () => {
    expect(() => progressTarget(undefined, "k")).toThrow(/sign in/);
    expect(() => progressTarget("inbox", "")).toThrow(/idempotency_key/);
    expect(() => progressTarget("inbox", "bad key!")).toThrow(/idempotency_key/);
    expect(progressTarget("inbox", "k-1")).toEqual({ caller: "inbox", key: "k-1" });
  });
});
