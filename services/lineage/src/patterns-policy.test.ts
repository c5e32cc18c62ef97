// The pattern pool's pure rules, without ports or databases: interest,
// similarity, lesson identity, time to live, the quorum and request bounds.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TemplateContentSchema, TemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { fieldViolations } from "@convos-pool/kit";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PATTERN_TTL_SECONDS,
  DEFAULT_QUORUM,
  MAX_PATTERN_TTL_SECONDS,
  checkPatternId,
  checkPatternIds,
  hasQuorum,
  interestSimilarity,
  interestsOf,
  lessonHash,
  minSimilarity,
  patternTtlSeconds,
  queryPageSize,
  reviewPageSize,
} from "./patterns-policy.js";

function refusedField(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    return fieldViolations(err).map((v) => v.field);
  }
  throw new Error("it was accepted");
}

describe("interest", () => {
  it("is the template's category and tags, lower-case, each once", () => {
    const t = create(TemplateSchema, {
      content: create(TemplateContentSchema, { category: " Travel", tags: ["japan", "Japan", "food", " "] }),
    });
    expect(interestsOf(t)).toEqual(["category:travel", "tag:japan", "tag:food"]);
    expect(interestsOf(create(TemplateSchema, {}))).toEqual([]);
  });

  it("is as similar as the weight shared over the weight of either, a shared category counting twice a tag", () => {
    const asker = ["category:travel", "tag:japan"];
    expect(interestSimilarity(asker, asker)).toBe(1);
    // Shared: category (2) + japan (1); either: those and food (1).
    expect(interestSimilarity(asker, ["category:travel", "tag:japan", "tag:food"])).toBe(0.75);
    // The category alone: 2 of 2 + 1 + 4 tags.
    expect(
      interestSimilarity(asker, ["category:travel", "tag:europe", "tag:trains", "tag:museums", "tag:hiking"]),
    ).toBeCloseTo(2 / 7);
    // A shared tag weighs less than a shared category.
    expect(interestSimilarity(asker, ["category:food", "tag:japan"])).toBe(1 / 5);
    expect(interestSimilarity(asker, ["category:finance", "tag:taxes"])).toBe(0);
    expect(interestSimilarity([], asker)).toBe(0);
    expect(interestSimilarity([], [])).toBe(0);
    expect(interestSimilarity(["category:a", "tag:b"], ["tag:b", "category:a"])).toBe(1);
  });
});

describe("a lesson's identity", () => {
  it("ignores case, spacing, invisible characters and the final stop", () => {
    const h = lessonHash("Confirm the dates first.");
    expect(lessonHash("confirm  the dates\nfirst")).toBe(h);
    expect(lessonHash("Confirm the da\u200Btes first!")).toBe(h);
    expect(lessonHash("Confirm the dates later.")).not.toBe(h);
  });
});

describe("bounds", () => {
  it("keeps a pattern 30 days by default and at most 90, naming ttl_seconds beyond", () => {
    expect(patternTtlSeconds(0n)).toBe(DEFAULT_PATTERN_TTL_SECONDS);
    expect(patternTtlSeconds(BigInt(MAX_PATTERN_TTL_SECONDS))).toBe(90 * 86_400);
    expect(refusedField(() => patternTtlSeconds(BigInt(MAX_PATTERN_TTL_SECONDS + 1)))).toEqual(["ttl_seconds"]);
    expect(refusedField(() => patternTtlSeconds(-1n))).toEqual(["ttl_seconds"]);
  });

  it("queries at 0.3 and 10 by default, naming min_similarity and page_size out of range", () => {
    expect(minSimilarity(0)).toBe(0.3);
    expect(minSimilarity(1)).toBe(1);
    expect(refusedField(() => minSimilarity(1.5))).toEqual(["min_similarity"]);
    expect(refusedField(() => minSimilarity(Number.NaN))).toEqual(["min_similarity"]);
    expect(queryPageSize(0)).toBe(10);
    expect(queryPageSize(50)).toBe(50);
    expect(refusedField(() => queryPageSize(51))).toEqual(["page_size"]);
  });

  it("takes 1 to 50 pattern ids, naming the malformed one", () => {
    expect(refusedField(() => checkPatternIds([]))).toEqual(["pattern_ids"]);
    expect(refusedField(() => checkPatternIds(Array.from({ length: 51 }, () => "pat_AAAAAAAAAAAAAAAA")))).toEqual([
      "pattern_ids",
    ]);
    expect(refusedField(() => checkPatternIds(["pat_AAAAAAAAAAAAAAAA", "nope"]))).toEqual(["pattern_ids[1]"]);
    expect(() => checkPatternIds(["pat_AAAAAAAAAAAAAAAA"])).not.toThrow();
  });

  it("takes 1 to 100 patterns for a creator's review (50 by default), and one well-formed pattern id", () => {
    expect(reviewPageSize(0)).toBe(50);
    expect(reviewPageSize(100)).toBe(100);
    expect(refusedField(() => reviewPageSize(101))).toEqual(["page_size"]);
    expect(refusedField(() => checkPatternId("pat_short"))).toEqual(["pattern_id"]);
    expect(() => checkPatternId("pat_AAAAAAAAAAAAAAAA")).not.toThrow();
  });
});

describe("the quorum", () => {
  it("is 3 distinct owners under 2 templates by default, both needed", () => {
    expect(DEFAULT_QUORUM).toEqual({ owners: 3, templates: 2 });
    expect(hasQuorum({ owner_count: 3, template_count: 2 }, DEFAULT_QUORUM)).toBe(true);
    expect(hasQuorum({ owner_count: 9, template_count: 1 }, DEFAULT_QUORUM)).toBe(false);
    expect(hasQuorum({ owner_count: 2, template_count: 5 }, DEFAULT_QUORUM)).toBe(false);
    expect(hasQuorum({ owner_count: 1, template_count: 1 }, { owners: 1, templates: 1 })).toBe(true);
  });
});
