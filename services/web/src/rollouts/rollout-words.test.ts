// A rollout in the creator's words, from the generated messages' shapes (no call is made).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  RolloutAction,
  RolloutBoundsSchema,
  RolloutSchema,
  RolloutState,
  RolloutStepSchema,
  RolloutPauseCheck,
  RolloutWatchSchema,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { describe, expect, it } from "vitest";
import {
  closeness,
  conversationsWords,
  daysCountedWords,
  pauseCheck,
  pausePanel,
  per100,
  rampWords,
  sampleWords,
  percent,
  signalRows,
  stateSentence,
  stepSentence,
} from "./rollout-words";

const rollout = (over: Parameters<typeof create<typeof RolloutSchema>>[1] = {}) =>
  create(RolloutSchema, {
    rolloutId: "ro_0123456789abcdef",
    templateId: "tmpl_1",
    baselineVersion: 2n,
    candidateVersion: 3n,
    fallbackVersion: 4n,
    state: RolloutState.RUNNING,
    shareBasisPoints: 1_000,
    ...over,
  });

describe("percent", () => {
  it("writes hundredths of a percent as people write a share", () => {
    expect(percent(1_000)).toBe("10%");
    expect(percent(1_250)).toBe("12.5%");
    expect(percent(1)).toBe("0.01%");
    expect(percent(9_999)).toBe("99.99%");
  });
});

describe("stateSentence", () => {
  it("says who gets which version in each state", () => {
    expect(stateSentence(rollout())).toMatch(/^Version 3 reaches 10% of conversations; the others stay on version 2\./);
    expect(stateSentence(rollout({ state: RolloutState.PAUSED }))).toMatch(/^Paused at 10%: no more agents move/);
    expect(stateSentence(rollout({ state: RolloutState.PROMOTED }))).toBe(
      "Promoted: every conversation follows version 3.",
    );
    expect(stateSentence(rollout({ state: RolloutState.HALTED }))).toBe(
      "The pool halted it: every agent follows version 4, the content of version 2 again.",
    );
    expect(stateSentence(rollout({ state: RolloutState.ROLLED_BACK }))).toMatch(
      /^Rolled back: every agent follows version 4/,
    );
  });
});

describe("conversationsWords", () => {
  it("says they are not counted before the pool's first look, and counts them after", () => {
    expect(conversationsWords(rollout())).toMatch(/^not counted yet/);
    const seen = rollout({ watch: create(RolloutWatchSchema, {}), conversations: 12, conversationsIn: 1 });
    expect(conversationsWords(seen)).toBe("1 of 12 conversations on version 3");
  });
});

describe("stepSentence", () => {
  const step = (action: RolloutAction, share: number, signed: boolean) =>
    create(RolloutStepSchema, {
      action,
      shareBasisPoints: share,
      at: timestampFromDate(new Date()),
      ...(signed ? { signature: { signature: "0x01", issuedAt: 1n, nonce: "n" } } : {}),
    });

  it("names the creator's signed steps as theirs and the unsigned halt as the pool's", () => {
    expect(stepSentence(step(RolloutAction.START, 1_000, true), "today, 10:02")).toBe(
      "Started at 10% by you, today, 10:02",
    );
    expect(stepSentence(step(RolloutAction.WIDEN, 5_000, true), "today, 11:00")).toBe(
      "Widened to 50% by you, today, 11:00",
    );
    expect(stepSentence(step(RolloutAction.PROMOTE, 5_000, true), "now")).toBe(
      "Promoted to every conversation by you, now",
    );
    expect(stepSentence(step(RolloutAction.HALT, 1_000, false), "today, 12:00")).toBe(
      "Halted by the pool, today, 12:00",
    );
  });
});

describe("the watch's figures", () => {
  const watch = create(RolloutWatchSchema, {
    daysCounted: 1,
    threshold: 4.94,
    signals: [
      { signal: "removals", candidateEvents: 0, candidateExposure: 5, baselineEvents: 1, baselineExposure: 5 },
      {
        signal: "thumbs_down",
        candidateEvents: 50,
        candidateExposure: 100,
        baselineEvents: 5,
        baselineExposure: 100,
        evidence: 8,
      },
      { signal: "corrections", evidence: -0.5 },
    ],
  });
  const bounds = create(RolloutBoundsSchema, { thumbsDown: 0.5, removals: 2, corrections: 0.25 });

  it("gives a rate per 100 only where there is something to count against", () => {
    expect(per100(5, 100)).toBe("5");
    expect(per100(1, 3)).toBe("33.3");
    expect(per100(0, 0)).toBeUndefined();
  });

  it("says how close the evidence is to the halt line", () => {
    expect(closeness(2.47, 4.94)).toBe("50% of the way to the halt line");
    expect(closeness(4.94, 4.94)).toBe("past the halt line");
    expect(closeness(-1, 4.94)).toBe("leaning to no worse");
  });

  it("lists each signal, per answer first, with both versions' rates, the creator's bound and the evidence", () => {
    const rows = signalRows(watch, bounds);
    expect(rows.map((r) => r.signal)).toEqual(["thumbs_down", "corrections", "removals"]);
    expect(rows[0]).toEqual({
      signal: "thumbs_down",
      name: "Thumbs down on its answers",
      per: "per 100 answers",
      candidate: "50 (50 in 100)",
      baseline: "5 (5 in 100)",
      halts: "1.5 ×",
      evidence: "8.00 of 4.94: past the halt line",
    });
    expect(rows[1]).toMatchObject({
      candidate: "no answers yet",
      halts: "1.25 ×",
      evidence: "-0.50 of 4.94: leaning to no worse",
    });
    expect(rows[2]).toMatchObject({ per: "per 100 agents that ran", candidate: "0 (0 in 5)", halts: "3 ×" });
  });

  it("says why no day counted yet, or how many did", () => {
    expect(daysCountedWords(undefined)).toBe("The pool has not looked at the figures yet.");
    expect(daysCountedWords(create(RolloutWatchSchema, { threshold: 4.94 }))).toMatch(/at least 5 conversations/);
    expect(daysCountedWords(watch)).toMatch(/^1 day counted; .* reaches 4\.94\.$/);
  });
});

describe("the watch's sample and pause, in the creator's words", () => {
  const watched = (over: Parameters<typeof create<typeof RolloutWatchSchema>>[1] = {}) =>
    create(RolloutWatchSchema, { threshold: 8.34, minSample: 10, candidateSample: 7, baselineSample: 12, ...over });

  it("says each side's sample against the minimum, as conversations with real use", () => {
    expect(sampleWords(watched())).toEqual([
      "7 of 10 conversations with real use on the new version",
      "12 conversations with real use on the current version (10 needed)",
    ]);
    expect(sampleWords(undefined)).toEqual([]);
    expect(sampleWords(watched({ minSample: 0 }))).toEqual([]);
  });

  it("tells which check paused it from the watch's typed check, never from its words: the split, a signal that only pauses, the watch's end, or one a watch kept before named none", () => {
    const split = "the split of conversations with real use: 8 of 16 on the new version, 50% against the 1% planned";
    expect(pauseCheck(watched({ pausedOn: split, pauseCheck: RolloutPauseCheck.SPLIT }))).toBe("split");
    // Words that read like the split, on a signal's pause: the typed check decides.
    expect(pauseCheck(watched({ pausedOn: split, pauseCheck: RolloutPauseCheck.SIGNAL }))).toBe("signal");
    expect(pauseCheck(watched({ pausedOn: "watched 30 days", pauseCheck: RolloutPauseCheck.WATCHED }))).toBe("watched");
    expect(pauseCheck(watched({ pausedOn: split }))).toBe("unnamed");
  });

  it("gives a paused rollout's panel: the check, the reason with its figures as a sentence, the samples, and why widening waits", () => {
    const panel = pausePanel(
      watched({
        pausedOn: "the split of conversations with real use: 8 of 16 on the new version, 50% against the 1% planned",
        pauseCheck: RolloutPauseCheck.SPLIT,
      }),
    );
    expect(panel).toMatchObject({
      check: "split",
      heading: "Paused by the pool: the split of conversations is off the share you planned",
      reason: "The split of conversations with real use: 8 of 16 on the new version, 50% against the 1% planned.",
      samples: [
        "7 of 10 conversations with real use on the new version",
        "12 conversations with real use on the current version (10 needed)",
      ],
    });
    expect(panel?.widen).toMatch(/^Widening waits while the pool pauses this rollout \(the split of conversations/);
    expect(pausePanel(watched())).toBeUndefined();
    expect(pausePanel(undefined)).toBeUndefined();
  });

  it("lists a live rollout's ramp: what it took, where it is, and what is ahead up to a promotion", () => {
    const steps = [
      create(RolloutStepSchema, { action: RolloutAction.START, shareBasisPoints: 1_000 }),
      create(RolloutStepSchema, { action: RolloutAction.WIDEN, shareBasisPoints: 2_500 }),
    ];
    expect(rampWords(rollout({ shareBasisPoints: 2_500, steps }))).toEqual([
      "10%: taken",
      "25%: here now",
      "50%: ahead, when you widen",
      "75%: ahead, when you widen",
      "90%: ahead, when you widen",
      "every conversation: ahead, when you promote",
    ]);
    expect(rampWords(rollout({ state: RolloutState.PROMOTED, steps }))).toEqual([]);
  });
});
