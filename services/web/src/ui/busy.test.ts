// The busy notice's words and which wait it names, pure (busy.tsx
// noticeAfter). Not here: the notice drawn in a page (the browser tier).
import { describe, expect, it } from "vitest";
import { noticeAfter } from "./busy";

const waiting = (waitMs: number) => ({ kind: "waiting" as const, waitMs, retry: 1, procedure: "p/Q" });

describe("noticeAfter", () => {
  it("says the pool is busy and when it tries again, as a sentence", () => {
    expect(noticeAfter(undefined, waiting(2000), 1000)).toEqual({
      words: "The pool is busy, trying again in 2 s.",
      untilMs: 3000,
    });
  });

  it("keeps naming the wait that ends last when several calls wait", () => {
    const long = noticeAfter(undefined, waiting(5000), 0);
    expect(noticeAfter(long, waiting(1000), 100)).toBe(long);
    expect(noticeAfter(long, waiting(6000), 100)?.untilMs).toBe(6100);
  });

  it("says nothing new of a refusal given up on: the action shows its error", () => {
    const given = { kind: "gave up" as const, why: "budget" as const, delayMs: 1000, procedure: "p/Q" };
    expect(noticeAfter(undefined, given, 0)).toBeUndefined();
  });
});
