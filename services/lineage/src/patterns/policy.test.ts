// The pattern pool's pure rules, without ports or databases: interest,
// similarity, lesson identity, time to live, the quorum (fast-check: no number
// of fresh inboxes or one creator's templates meets it) and request bounds.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { PatternDecision } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import { TemplateContentSchema, TemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { fieldViolations } from "@convos-pool/kit/content";
import { fc } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  reviewPatternViolations,
  DEFAULT_PATTERN_TTL_SECONDS,
  DEFAULT_QUORUM,
  MAX_PATTERN_TTL_SECONDS,
  checkPatternId,
  checkPatternIds,
  checkQuorum,
  hasQuorum,
  offerCounts,
  quorumCounts,
  type QuorumOffer,
  interestSimilarity,
  interestsOf,
  lessonHash,
  minSimilarity,
  patternTtlSeconds,
  queryPageSize,
  reviewPageSize,
} from "./policy.js";

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

const DAY = 86_400;
const NOW = 1_800_000_000;

describe("the quorum", () => {
  const counts = (owner_count: number, template_count: number, creator_count: number) => ({
    owner_count,
    template_count,
    creator_count,
  });

  it("is 3 distinct owners under 2 templates of 2 creators by default, of agents claimed 7 days ago with 3 days with others, all needed", () => {
    expect(DEFAULT_QUORUM).toEqual({ owners: 3, templates: 2, creators: 2, agentAgeDays: 7, activeDays: 3 });
    expect(hasQuorum(counts(3, 2, 2), DEFAULT_QUORUM)).toBe(true);
    expect(hasQuorum(counts(9, 1, 1), DEFAULT_QUORUM)).toBe(false);
    expect(hasQuorum(counts(2, 5, 5), DEFAULT_QUORUM)).toBe(false);
    expect(hasQuorum(counts(9, 5, 1), DEFAULT_QUORUM)).toBe(false);
    expect(hasQuorum(counts(1, 1, 1), { ...DEFAULT_QUORUM, owners: 1, templates: 1, creators: 1 })).toBe(true);
  });

  it("counts an agent's offer only once it was claimed 7 days ago and answered others on 3 days", () => {
    const offer = { ownerId: "o", templateId: "t", creatorId: "c", claimedAt: NOW - 7 * DAY, activeDays: 3 };
    expect(offerCounts(offer, DEFAULT_QUORUM, NOW)).toBe(true);
    expect(offerCounts({ ...offer, claimedAt: NOW - 7 * DAY + 1 }, DEFAULT_QUORUM, NOW)).toBe(false);
    expect(offerCounts({ ...offer, activeDays: 2 }, DEFAULT_QUORUM, NOW)).toBe(false);
  });

  it("refuses thresholds that are not whole numbers (they go into SQL)", () => {
    expect(() => checkQuorum({ ...DEFAULT_QUORUM, agentAgeDays: 1.5 })).toThrow(/agentAgeDays/);
    expect(() => checkQuorum({ ...DEFAULT_QUORUM, owners: -1 })).toThrow(/owners/);
    expect(checkQuorum(DEFAULT_QUORUM)).toBe(DEFAULT_QUORUM);
  });

  const id = fc.constantFrom("a", "b", "c", "d", "e", "f");
  /** An offer of an agent that has lived and answered others enough (its owner, template and creator drawn from a few). */
  const lived = fc.record({
    ownerId: id,
    templateId: id,
    creatorId: id,
    claimedAt: fc.integer({ min: NOW - 400 * DAY, max: NOW - 7 * DAY }),
    activeDays: fc.integer({ min: 3, max: 400 }),
  });
  /** An offer of a fresh agent: claimed less than 7 days ago, or with fewer than 3 days with others; any owner, template, creator. */
  const freshOffer = fc.oneof(
    fc.record({
      ownerId: fc.string(),
      templateId: fc.string(),
      creatorId: fc.string(),
      claimedAt: fc.integer({ min: NOW - 7 * DAY + 1, max: NOW }),
      activeDays: fc.integer({ min: 0, max: 400 }),
    }),
    fc.record({
      ownerId: fc.string(),
      templateId: fc.string(),
      creatorId: fc.string(),
      claimedAt: fc.integer({ min: NOW - 400 * DAY, max: NOW }),
      activeDays: fc.integer({ min: 0, max: 2 }),
    }),
  );
  const met = (offers: QuorumOffer[]) => hasQuorum(quorumCounts(offers, DEFAULT_QUORUM, NOW), DEFAULT_QUORUM);

  it("is never met by adding fresh inboxes' offers, however many, to offers that do not meet it", () => {
    fc.assert(
      fc.property(fc.array(lived, { maxLength: 12 }), fc.array(freshOffer, { maxLength: 40 }), (base, added) => {
        fc.pre(!met(base));
        expect(met([...base, ...added])).toBe(false);
      }),
    );
  });

  it("is never met by templates of one creator, however many owners, templates and days", () => {
    fc.assert(
      fc.property(fc.array(lived, { maxLength: 40 }), id, (offers, creatorId) => {
        expect(met(offers.map((o) => ({ ...o, creatorId })))).toBe(false);
      }),
    );
  });

  it("is met by three lived, used owners under two templates of two creators, and stays met as offers are added", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(lived, freshOffer), { maxLength: 20 }), (more) => {
        const base: QuorumOffer[] = [
          { ownerId: "o1", templateId: "t1", creatorId: "c1", claimedAt: NOW - 8 * DAY, activeDays: 3 },
          { ownerId: "o2", templateId: "t1", creatorId: "c1", claimedAt: NOW - 30 * DAY, activeDays: 12 },
          { ownerId: "o3", templateId: "t2", creatorId: "c2", claimedAt: NOW - 7 * DAY, activeDays: 5 },
        ];
        expect(met(base)).toBe(true);
        expect(met([...base, ...more])).toBe(true);
      }),
    );
  });

  it("does not count one owner twice, nor an offer with no creator known toward the creators", () => {
    const o = { templateId: "t1", creatorId: "c1", claimedAt: NOW - 8 * DAY, activeDays: 3 };
    expect(
      quorumCounts(
        [
          { ...o, ownerId: "o1" },
          { ...o, ownerId: "o1", templateId: "t2", creatorId: "" },
        ],
        DEFAULT_QUORUM,
        NOW,
      ),
    ).toEqual({ owner_count: 1, template_count: 2, creator_count: 1 });
  });
});

describe("what is wrong with a creator's review of a lesson, every field at once", () => {
  it("names the template, the pattern and the decision together, not the first only", () => {
    const named = reviewPatternViolations({ templateId: "x", patternId: "y", decision: PatternDecision.UNSPECIFIED });
    expect(named.map((v) => v.field)).toEqual(["template_id", "pattern_id", "decision"]);
  });

  it("finds nothing wrong with a well-formed review", () => {
    expect(
      reviewPatternViolations({
        templateId: "tmpl_0123456789abcdef",
        patternId: "pat_0123456789abcdef",
        decision: PatternDecision.REJECTED,
      }),
    ).toEqual([]);
  });
});
