// The retry policy, pure: every knob named, and the budget's bound over any
// run of answers and refusals (fast-check). Nothing stands in: no clock, no
// network; the dice are the `random` argument.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  afterAnswer,
  afterRefusal,
  busyWords,
  fullBudget,
  planRetry,
  RETRY_POLICY,
  type RetryBudget,
} from "./retry-policy.js";

const refused = (over: Partial<Parameters<typeof planRetry>[0]> = {}) => ({
  delayMs: 2000,
  retries: 0,
  budget: afterRefusal(fullBudget()),
  nowMs: 1_000_000,
  random: 0,
  ...over,
});

describe("planRetry", () => {
  it("waits the delay the server named, never less", () => {
    expect(planRetry(refused({ random: 0 }))).toEqual({ retry: true, waitMs: 2000 });
  });

  it("adds at most a fifth of the delay as jitter, so that a crowd refused together spreads out", () => {
    expect(RETRY_POLICY.jitter).toBe(0.2);
    expect(planRetry(refused({ random: 0.5 }))).toEqual({ retry: true, waitMs: 2200 });
    const most = planRetry(refused({ random: 0.999999 }));
    expect(most.retry && most.waitMs).toBeLessThanOrEqual(2400);
  });

  it("does not retry when the wait would end at or past the call's deadline", () => {
    expect(planRetry(refused({ deadlineMs: 1_000_000 + 2000 }))).toEqual({ retry: false, why: "deadline" });
    expect(planRetry(refused({ deadlineMs: 1_000_000 + 2001 }))).toEqual({ retry: true, waitMs: 2000 });
  });

  it("retries a call at most three times", () => {
    expect(RETRY_POLICY.maxRetries).toBe(3);
    expect(planRetry(refused({ retries: 2 })).retry).toBe(true);
    expect(planRetry(refused({ retries: 3 }))).toEqual({ retry: false, why: "retries" });
  });

  it("does not wait past ten seconds: a longer delay is the person's to hear", () => {
    expect(RETRY_POLICY.maxWaitMs).toBe(10_000);
    expect(planRetry(refused({ delayMs: 10_000 })).retry).toBe(true);
    expect(planRetry(refused({ delayMs: 10_001 }))).toEqual({ retry: false, why: "too long" });
  });

  it("stops retrying once the budget is at half its bucket", () => {
    expect(planRetry(refused({ budget: { tokens: 5.01 } })).retry).toBe(true);
    expect(planRetry(refused({ budget: { tokens: 5 } }))).toEqual({ retry: false, why: "budget" });
  });
});

describe("the retry budget", () => {
  it("starts full, loses one a refusal and gains a tenth an answer, within its bucket", () => {
    expect(fullBudget()).toEqual({ tokens: 10 });
    expect(afterRefusal({ tokens: 3 })).toEqual({ tokens: 2 });
    expect(afterRefusal({ tokens: 0.5 })).toEqual({ tokens: 0 });
    expect(afterAnswer({ tokens: 3 }).tokens).toBeCloseTo(3.1);
    expect(afterAnswer({ tokens: 10 })).toEqual({ tokens: 10 });
  });

  // One client's run: each call is refused by the server a number of times
  // before it would be answered; the client retries as planRetry says.
  function simulate(refusalsBeforeAnswer: number[]): { calls: number; retries: number } {
    let budget: RetryBudget = fullBudget();
    let retries = 0;
    for (const refusals of refusalsBeforeAnswer) {
      for (let attempt = 0; ; attempt++) {
        if (attempt >= refusals) {
          budget = afterAnswer(budget);
          break;
        }
        budget = afterRefusal(budget);
        const step = planRetry(refused({ retries: attempt, budget }));
        if (!step.retry) break;
        retries++;
      }
    }
    return { calls: refusalsBeforeAnswer.length, retries };
  }

  test.prop([fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 500 })])(
    "never lets retries pass half the bucket plus a tenth of the calls, whatever the server refuses",
    (run) => {
      const { calls, retries } = simulate(run);
      expect(retries).toBeLessThanOrEqual(RETRY_POLICY.maxTokens / 2 + RETRY_POLICY.tokenRatio * calls);
    },
  );

  it("holds a server that refuses everything to a handful of retries, not three for every call", () => {
    const { calls, retries } = simulate(Array.from({ length: 1000 }, () => 1000));
    expect(calls).toBe(1000);
    expect(retries).toBeLessThanOrEqual(5);
  });
});

describe("busyWords", () => {
  it("tells a person the wait in whole seconds", () => {
    expect(busyWords(2000)).toBe("the pool is busy, trying again in 2 s");
    expect(busyWords(2400)).toBe("the pool is busy, trying again in 2 s");
    expect(busyWords(200)).toBe("the pool is busy, trying again in 1 s");
  });
});
