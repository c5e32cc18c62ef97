// A rollout's rules, pure (policy.ts): the share a start takes, the bounds a
// creator sets, the state machine of its steps, and a halt's words. Nothing
// stands in.
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  RolloutAction,
  RolloutSignalFiguresSchema,
  RolloutWatchSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import type { RolloutStateName } from "../catalog/rollout.js";
import {
  checkBounds,
  checkStartShare,
  creatorStep,
  haltReason,
  MAX_SHARE,
  planStep,
  startRolloutViolations,
  stepRolloutViolations,
  type CreatorStep,
} from "./policy.js";

/** The Connect code `f` throws with, and the field it names; "ok" when it does not throw. */
function refusal(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    return [Code[e.code], fieldViolations(e)[0]?.field].filter(Boolean).join(" ");
  }
}

describe("a start's share", () => {
  it("is 1 to 9,999 hundredths of a percent: all of them is an update", () => {
    expect(MAX_SHARE).toBe(9_999);
    expect(checkStartShare(1)).toBe(1);
    expect(checkStartShare(9_999)).toBe(9_999);
    for (const bad of [0, 10_000, 1.5, -1])
      expect(refusal(() => checkStartShare(bad))).toBe("InvalidArgument share_basis_points");
  });
});

describe("bounds", () => {
  it("fills what is unset and keeps what is set, each signal from 0.05 to 10", () => {
    expect(checkBounds(undefined)).toMatchObject({ thumbs_down: 0.5, false_alarm: 0.05 });
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 10, noNaN: true }), (b) => {
        expect(checkBounds({ corrections: b } as never).corrections).toBe(b);
      }),
    );
    expect(refusal(() => checkBounds({ thumbsDown: 10.5 } as never))).toBe("InvalidArgument bounds.thumbs_down");
    expect(refusal(() => checkBounds({ approvalsDeclined: 0.01 } as never))).toBe(
      "InvalidArgument bounds.approvals_declined",
    );
    expect(refusal(() => checkBounds({ stopRequests: Number.NaN } as never))).toBe(
      "InvalidArgument bounds.stop_requests",
    );
  });

  it("takes a false alarm from 0.001 to 0.2", () => {
    expect(checkBounds({ falseAlarm: 0.001 } as never).false_alarm).toBe(0.001);
    expect(checkBounds({ falseAlarm: 0.2 } as never).false_alarm).toBe(0.2);
    expect(refusal(() => checkBounds({ falseAlarm: 0.3 } as never))).toBe("InvalidArgument bounds.false_alarm");
  });
});

describe("steps", () => {
  it("are the creator's five; START and HALT are not asked for", () => {
    expect(creatorStep(RolloutAction.ROLL_BACK)).toBe("roll_back");
    for (const a of [RolloutAction.UNSPECIFIED, RolloutAction.START, RolloutAction.HALT])
      expect(refusal(() => creatorStep(a))).toBe("InvalidArgument action");
  });

  it("follow the state table", () => {
    const states: RolloutStateName[] = ["running", "paused", "promoted", "rolled_back", "halted"];
    const table: Record<CreatorStep | "halt", Partial<Record<RolloutStateName, RolloutStateName>>> = {
      widen: { running: "running" },
      pause: { running: "paused" },
      resume: { paused: "running" },
      promote: { running: "promoted", paused: "promoted" },
      roll_back: { running: "rolled_back", paused: "rolled_back" },
      halt: { running: "halted", paused: "halted" },
    };
    for (const [step, to] of Object.entries(table) as [CreatorStep | "halt", Record<string, RolloutStateName>][])
      for (const state of states) {
        const asked = step === "widen" ? 2_000 : 0;
        const want = to[state];
        if (want) expect(planStep({ state, share: 1_000 }, step, asked).state).toBe(want);
        else expect(refusal(() => planStep({ state, share: 1_000 }, step, asked))).toBe("FailedPrecondition");
      }
  });

  it("widen only upward and below 10,000; every other step keeps the share, asked or not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_SHARE }), fc.integer({ min: 0, max: 20_000 }), (share, asked) => {
        const widen = refusal(() => planStep({ state: "running", share }, "widen", asked));
        expect(widen).toBe(asked > share && asked <= MAX_SHARE ? "ok" : "InvalidArgument share_basis_points");
        const pause = refusal(() => planStep({ state: "running", share }, "pause", asked));
        expect(pause).toBe(asked === 0 || asked === share ? "ok" : "InvalidArgument share_basis_points");
        if (pause === "ok") expect(planStep({ state: "running", share }, "pause", asked).share).toBe(share);
      }),
    );
  });

  it("take no widening while the pool's watch pauses the rollout, and say why; the creator may still promote, pause or roll back", () => {
    const paused = { state: "running" as const, share: 1_000, pausedOn: "the split of conversations with real use: …" };
    expect(() => planStep(paused, "widen", 5_000)).toThrow(/the pool paused this rollout: the split of conversations/);
    expect(refusal(() => planStep(paused, "widen", 5_000))).toBe("FailedPrecondition");
    for (const step of ["promote", "pause", "roll_back"] as const)
      expect(refusal(() => planStep(paused, step))).toBe("ok");
    expect(planStep({ ...paused, pausedOn: "" }, "widen", 5_000).share).toBe(5_000);
  });
});

describe("a halt's reason", () => {
  const watch = (signal: string, haltedOn: string) =>
    create(RolloutWatchSchema, {
      daysCounted: 1,
      threshold: 4.9416,
      haltedOn,
      signals: [
        create(RolloutSignalFiguresSchema, { signal: "thumbs_down", evidence: -0.4 }),
        create(RolloutSignalFiguresSchema, {
          signal,
          candidateEvents: 9,
          candidateExposure: 1200,
          baselineEvents: 1,
          baselineExposure: 1180,
          evidence: 5.2,
        }),
      ],
    });

  it("names the signal the test halted on, both versions' figures, and the evidence against the threshold", () => {
    expect(haltReason(watch("removals", "removals within a day of a claim"), { candidate: 8, baseline: 7 })).toBe(
      "removals within a day of a claim: 9 in 1,200 agents that ran on version 8, against 1 in 1,180 on version 7 (evidence 5.20, past the threshold 4.94, over 1 day)",
    );
    expect(haltReason(watch("corrections", "corrections of its answers"), { candidate: 8, baseline: 7 })).toContain(
      "9 in 1,200 answers on version 8",
    );
  });
});

describe("what is wrong with a rollout request, every field at once", () => {
  const fields = (vs: { field: string }[]) => vs.map((v) => v.field);

  it("names a start's template, version, share and notes together, not the first only", () => {
    expect(
      fields(
        startRolloutViolations({
          templateId: "x",
          expectedVersion: 0n,
          shareBasisPoints: 0,
          releaseNotes: "x".repeat(5_000),
          content: undefined,
          bounds: undefined,
        }),
      ),
    ).toEqual(["content", "release_notes", "template_id", "expected_version", "share_basis_points"]);
  });

  it("names a step's template, rollout and action together, and nothing of a well-formed step", () => {
    expect(
      fields(
        stepRolloutViolations({
          templateId: "x",
          rolloutId: "y",
          action: RolloutAction.UNSPECIFIED,
          shareBasisPoints: 0,
        }),
      ),
    ).toEqual(["template_id", "rollout_id", "action"]);
    // A widen's share, 1 to 9,999, beside the ids: a widen without one is refused before any rollout is read.
    expect(
      fields(
        stepRolloutViolations({ templateId: "x", rolloutId: "y", action: RolloutAction.WIDEN, shareBasisPoints: 0 }),
      ),
    ).toEqual(["template_id", "rollout_id", "share_basis_points"]);
    expect(
      stepRolloutViolations({
        templateId: "tmpl_0123456789abcdef",
        rolloutId: "ro_0123456789abcdef",
        action: RolloutAction.WIDEN,
        shareBasisPoints: 2_500,
      }),
    ).toEqual([]);
    expect(
      stepRolloutViolations({
        templateId: "tmpl_0123456789abcdef",
        rolloutId: "ro_0123456789abcdef",
        action: RolloutAction.PAUSE,
        shareBasisPoints: 0,
      }),
    ).toEqual([]);
  });
});
