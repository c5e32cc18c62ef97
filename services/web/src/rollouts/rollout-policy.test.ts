// The studio's rollout rules from the generated messages' shapes; the bounds'
// hash against the values the kit gives, which the templates service checks a step by.
import { create } from "@bufbuild/protobuf";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutState,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { describe, expect, it } from "vitest";
import { FieldError } from "../ui/errors";
import {
  boundsFromText,
  boundsHash,
  boundsJson,
  nextShare,
  plannedRamp,
  shareFromPercent,
  stepFields,
  stepsAllowed,
} from "./rollout-policy";

describe("stepsAllowed", () => {
  it("offers widen, pause, promote and roll back while running, resume instead of widen and pause while paused, and nothing once ended", () => {
    expect(stepsAllowed(RolloutState.RUNNING)).toEqual(["widen", "pause", "promote", "roll_back"]);
    expect(stepsAllowed(RolloutState.PAUSED)).toEqual(["resume", "promote", "roll_back"]);
    for (const ended of [
      RolloutState.PROMOTED,
      RolloutState.ROLLED_BACK,
      RolloutState.HALTED,
      RolloutState.UNSPECIFIED,
    ])
      expect(stepsAllowed(ended)).toEqual([]);
  });
});

describe("shareFromPercent", () => {
  it("reads a percentage, with or without its sign, in hundredths of a percent", () => {
    expect(shareFromPercent("10")).toBe(1_000);
    expect(shareFromPercent(" 12.5 % ")).toBe(1_250);
    expect(shareFromPercent("0.01")).toBe(1);
    expect(shareFromPercent("99.99")).toBe(9_999);
  });

  it("refuses what is not a share below every conversation, by the field it names", () => {
    for (const bad of ["", "ten", "0", "-5", "100", "150", "12.345"]) {
      expect(() => shareFromPercent(bad)).toThrow(FieldError);
    }
    expect(() => shareFromPercent("100", 0, "widen_share")).toThrow(
      expect.objectContaining({ field: "widen_share", message: expect.stringMatching(/promote/) }),
    );
  });

  it("takes only a share above the current one when widening", () => {
    expect(() => shareFromPercent("10", 1_000)).toThrow(/above the current 10%/);
    expect(shareFromPercent("25", 1_000)).toBe(2_500);
  });
});

describe("nextShare", () => {
  it("offers the next of 25, 50, 75 and 90%, and none past 90%", () => {
    expect(nextShare(1_000)).toBe(2_500);
    expect(nextShare(2_500)).toBe(5_000);
    expect(nextShare(8_000)).toBe(9_000);
    expect(nextShare(9_000)).toBeUndefined();
  });
});

describe("the bounds a step signs", () => {
  // What the kit's rolloutBoundsHash gives, pinned: the templates service refuses a step signed over any other
  // hash, which rollouts.test.ts meets in the browser.
  const KIT_DEFAULT_HASH = "0xc704ac5b452ba6b8bcfa2097a350bf2884203475089f4c50d571070d79729895";
  const KIT_SET_HASH = "0x37ff13d6352e4b487558c9343b0fc54b9dc5dfb9ae1a20a6cd18a4d3e2de3277";

  it("fills in the defaults as the service keeps them, and hashes them to the kit's hash", () => {
    expect(boundsJson()).toEqual({
      removals: 0.5,
      pauses: 0.5,
      stop_requests: 0.5,
      thumbs_down: 0.5,
      corrections: 0.5,
      tool_calls_failed: 0.5,
      approvals_declined: 0.5,
      false_alarm: 0.05,
    });
    expect(boundsHash()).toBe(KIT_DEFAULT_HASH);
    expect(boundsHash({ thumbsDown: 0.25, removals: 2, falseAlarm: 0.01 })).toBe(KIT_SET_HASH);
  });

  it("hashes the bounds a rollout comes back with (every field set) as the defaults they were", () => {
    const answered = create(RolloutBoundsSchema, {
      removals: 0.5,
      pauses: 0.5,
      stopRequests: 0.5,
      thumbsDown: 0.5,
      corrections: 0.5,
      toolCallsFailed: 0.5,
      approvalsDeclined: 0.5,
      falseAlarm: 0.05,
    });
    expect(boundsHash(answered)).toBe(KIT_DEFAULT_HASH);
  });

  it("reads the form's text, empty for the default, and names a field that is not a number", () => {
    expect(boundsFromText({ thumbsDown: " 0.25 ", removals: "", falseAlarm: "0.01" })).toEqual({
      thumbsDown: 0.25,
      falseAlarm: 0.01,
    });
    expect(() => boundsFromText({ corrections: "half" })).toThrow(
      expect.objectContaining({ field: "bounds.corrections" }),
    );
    expect(() => boundsFromText({ falseAlarm: "0" })).toThrow(expect.objectContaining({ field: "bounds.false_alarm" }));
  });
});

describe("stepFields", () => {
  const rollout = { templateId: "tmpl_1", candidateVersion: 3n, shareBasisPoints: 1_000, bounds: undefined };

  it("signs WIDEN's new share, and the current share for every other step", () => {
    expect(stepFields(rollout, "widen", 5_000)).toMatchObject({
      templateId: "tmpl_1",
      version: 3n,
      action: RolloutAction.WIDEN,
      shareBasisPoints: 5_000,
    });
    expect(stepFields(rollout, "pause")).toMatchObject({ action: RolloutAction.PAUSE, shareBasisPoints: 1_000 });
    expect(stepFields(rollout, "roll_back", 5_000)).toMatchObject({
      action: RolloutAction.ROLL_BACK,
      shareBasisPoints: 1_000,
    });
    expect(stepFields(rollout, "promote").boundsHash).toBe(boundsHash());
  });
});

describe("plannedRamp", () => {
  const step = (action: RolloutAction, shareBasisPoints: number) => ({ action, shareBasisPoints });
  it("lists the shares taken, the one it is at, then the page's next shares and every conversation last", () => {
    const r = {
      state: RolloutState.RUNNING,
      shareBasisPoints: 5_000,
      steps: [step(RolloutAction.START, 1_000), step(RolloutAction.WIDEN, 5_000)],
    };
    expect(plannedRamp(r)).toEqual([
      { share: 1_000, at: "taken" },
      { share: 5_000, at: "now" },
      { share: 7_500, at: "ahead" },
      { share: 9_000, at: "ahead" },
      { share: 10_000, at: "ahead" },
    ]);
  });

  it("keeps a paused rollout's place, names a share once however often it was paused and resumed at it, and has none once ended", () => {
    const steps = [
      step(RolloutAction.START, 1_000),
      step(RolloutAction.PAUSE, 1_000),
      step(RolloutAction.RESUME, 1_000),
      step(RolloutAction.WIDEN, 2_500),
    ];
    expect(plannedRamp({ state: RolloutState.PAUSED, shareBasisPoints: 2_500, steps }).map((s) => s.at)).toEqual([
      "taken",
      "now",
      "ahead",
      "ahead",
      "ahead",
      "ahead",
    ]);
    for (const ended of [RolloutState.PROMOTED, RolloutState.HALTED, RolloutState.ROLLED_BACK])
      expect(plannedRamp({ state: ended, shareBasisPoints: 2_500, steps })).toEqual([]);
  });
});
