// The pure part of ratings (policy.ts): the "top rated" score's properties
// with fast-check, its worked example as docs/store.md gives it, what a
// review may say, and who may rate when (a day held, then three days on
// which their agent answered others). No database, no network.
import fc from "fast-check";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fieldViolations } from "@convos-pool/kit/content";
import {
  answerViolations,
  checkReviewText,
  checkStars,
  eligibility,
  MAX_REVIEW_CHARS,
  MIN_DAYS_ANSWERING_OTHERS,
  MIN_OWNERSHIP_SECONDS,
  PRIOR_MEAN,
  PRIOR_WEIGHT,
  RATINGS_SHOWN_FROM,
  ratingScore,
  rateViolations,
  removeReviewViolations,
  reportReviewViolations,
  shownRatings,
  usedWithOthers,
} from "./policy.js";

const starsList = fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 200 });
const score = (stars: number[]) =>
  ratingScore(
    stars.length,
    stars.reduce((a, b) => a + b, 0),
  );

describe("the top rated score", () => {
  it("names its constants: shown from 3 ratings, a prior of 5 ratings of 3 stars", () => {
    expect([RATINGS_SHOWN_FROM, PRIOR_WEIGHT, PRIOR_MEAN]).toEqual([3, 5, 3]);
  });

  it("gives the worked example of docs/store.md", () => {
    expect(score([5, 5, 5])).toBe(3.75);
    expect(ratingScore(40, 180)).toBeCloseTo(195 / 45);
    expect(score([])).toBe(PRIOR_MEAN);
    expect(score([5])).toBeCloseTo(20 / 6);
  });

  it("never falls when a 5 is added, never rises when a 1 is added", () => {
    fc.assert(
      fc.property(starsList, (stars) => {
        expect(score([...stars, 5])).toBeGreaterThanOrEqual(score(stars) - 1e-12);
        if (stars.length + 1 >= RATINGS_SHOWN_FROM)
          expect(score([...stars, 1])).toBeLessThanOrEqual(score(stars) + 1e-12);
      }),
    );
  });

  it("stays between 1 and 5, and between the prior and the plain mean", () => {
    fc.assert(
      fc.property(starsList, (stars) => {
        const s = score(stars);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThanOrEqual(5);
        const mean = stars.length ? stars.reduce((a, b) => a + b, 0) / stars.length : PRIOR_MEAN;
        expect(s).toBeGreaterThanOrEqual(Math.min(mean, PRIOR_MEAN) - 1e-12);
        expect(s).toBeLessThanOrEqual(Math.max(mean, PRIOR_MEAN) + 1e-12);
      }),
    );
  });

  it("shows nothing below three ratings, the mean and count from three on", () => {
    expect(shownRatings(2, 10)).toBeUndefined();
    expect(shownRatings(3, 12)).toEqual({ average: 4, count: 3n, score: (15 + 12) / 8 });
  });
});

describe("what a rating may say", () => {
  it("takes whole stars from 1 to 5 only", () => {
    for (const s of [1, 5]) expect(checkStars(s)).toBe(s);
    for (const s of [0, 6, 2.5, -1]) expect(() => checkStars(s)).toThrow(/stars/);
  });

  it("keeps a review exactly, refusing one too long, blank, or with control characters", () => {
    const ok = `${"ü".repeat(MAX_REVIEW_CHARS - 13)}\n<i>nice</i>.`;
    expect(checkReviewText("review", ok, false)).toBe(ok);
    expect(checkReviewText("review", "", false)).toBe("");
    expect(checkReviewText("review", "two\r\nlines", false)).toBe("two\r\nlines");
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return fieldViolations(err).map((v) => v.field);
      }
      return [];
    };
    expect(field(() => checkReviewText("review", "x".repeat(MAX_REVIEW_CHARS + 1), false))).toEqual(["review"]);
    expect(field(() => checkReviewText("review", "tab\there", false))).toEqual(["review"]);
    expect(field(() => checkReviewText("review", "looks \u202eright", false))).toEqual(["review"]);
    expect(field(() => checkReviewText("review", "   ", false))).toEqual(["review"]);
    expect(field(() => checkReviewText("answer", "", true))).toEqual(["answer"]);
  });
});

describe("what is wrong with a ratings request, every field at once", () => {
  const fields = (vs: { field: string }[]) => vs.map((v) => v.field);
  const inbox = "a".repeat(64);
  const template = "tmpl_0123456789abcdef";

  it("names each bad field of a rating, its answer, its report and its removal, not the first only", () => {
    expect(fields(rateViolations({ templateId: "x", raterId: "y", stars: 0, review: "\t" }))).toEqual([
      "template_id",
      "rater_id",
      "stars",
      "review",
    ]);
    expect(fields(answerViolations({ templateId: "x", reviewerId: "y", creatorId: "z", answer: "" }))).toEqual([
      "template_id",
      "reviewer_id",
      "creator_id",
      "answer",
    ]);
    expect(fields(reportReviewViolations({ reviewerId: "y", reason: " " }))).toEqual(["reviewer_id", "reason"]);
    expect(fields(removeReviewViolations({ operatorId: "o", templateId: "x", reviewerId: "y", reason: "" }))).toEqual([
      "operator_id",
      "template_id",
      "reviewer_id",
      "reason",
    ]);
  });

  it("finds nothing wrong with a well-formed request", () => {
    expect(rateViolations({ templateId: template, raterId: inbox, stars: 5, review: "" })).toEqual([]);
    expect(answerViolations({ templateId: template, reviewerId: inbox, creatorId: inbox, answer: "ok" })).toEqual([]);
    expect(reportReviewViolations({ reviewerId: inbox, reason: "spam" })).toEqual([]);
    expect(
      removeReviewViolations({ operatorId: inbox, templateId: template, reviewerId: inbox, reason: "spam" }),
    ).toEqual([]);
  });
});

describe("who may rate", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  const ago = (s: number) => ({ since: new Date(now.getTime() - s * 1000), now });

  it("refuses the creator, a non-owner and an owner of less than a day; takes an owner of a day", () => {
    const creator = eligibility("c", "c", ago(10 * MIN_OWNERSHIP_SECONDS));
    expect(creator.ok === false && creator.error.code).toBe(Code.PermissionDenied);
    const none = eligibility("o", "c", { since: undefined, now });
    expect(none.ok === false && none.error.code).toBe(Code.PermissionDenied);
    const fresh = eligibility("o", "c", ago(MIN_OWNERSHIP_SECONDS - 1));
    expect(fresh.ok === false && fresh.error.code).toBe(Code.FailedPrecondition);
    expect(fresh.ok === false && fresh.canRateFrom?.toISOString()).toBe("2026-11-26T12:00:01.000Z");
    expect(eligibility("o", "c", ago(MIN_OWNERSHIP_SECONDS)).ok).toBe(true);
  });
});

describe("an owner whose agent others used", () => {
  it("names its constant: three days on which their agent answered at least two other people", () => {
    expect(MIN_DAYS_ANSWERING_OTHERS).toBe(3);
  });

  it("refuses fewer than three such days with FAILED_PRECONDITION on rater_id, saying what is needed and how far they are; takes three or more", () => {
    for (const [days, has] of [
      [0, "yours has not yet"],
      [1, "yours has on one"],
      [2, "yours has on two"],
    ] as const) {
      const no = usedWithOthers(days);
      expect(no.ok).toBe(false);
      if (no.ok) continue;
      expect(no.error.code).toBe(Code.FailedPrecondition);
      expect(fieldViolations(no.error).map((v) => v.field)).toEqual(["rater_id"]);
      expect(no.reason).toBe(
        `owners rate once their agent has answered at least two other people on three days; ${has}`,
      );
      expect(no.error.rawMessage).toBe(`rater_id: ${no.reason}`);
      expect(no.canRateFrom).toBeUndefined();
    }
    for (const days of [3, 4, 400]) expect(usedWithOthers(days).ok).toBe(true);
  });
});
