// Ratings in the store (docs/store.md, "Ratings") across the three services
// that decide them: the real templates service (which owns ratings) asking
// the real claims service (which owns agents and owners) whether a rater has
// held a live agent of the template for a day, and the real lineage service
// (fed by the claims service's relay) on how many days their agent answered
// two other people, all on real PostgreSQL, over gRPC, with real EIP-712
// signatures. The instance host is the TEST STAND-IN
// (claims/test/stand-in-host.ts): agents here are claimed, never spoken to.
// A day is made to pass by moving the claims database's own record of when
// an owner took an agent (`owner_since`, `claimed_at`) back: the only clock
// the services trust; an agent's days with others are written to the
// lineage database as its signed counts would have left them
// (`stack.answeredOthersOn`; the signed path is lineage's own test).

import { randomBytes } from "node:crypto";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { TemplateOwnershipService, TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { createServiceClient } from "@convos-pool/kit/server";
import { DerivedInboxResolver, LOCAL_POOL_ID, SignatureVerifier, signOperation } from "@convos-pool/kit/signing";
import { fieldViolations } from "@convos-pool/kit/content";
import { newIdentity, type TestIdentity } from "@convos-pool/kit/testing";
import { as, expectCode } from "../test/helpers.js";
import { StandInStack } from "../test/stand-in-stack.js";

const operator = newIdentity();
const stack = new StandInStack({
  name: "ratings",
  smsRange: "+15550700000..+15550700019",
  operators: [operator.inboxId],
  ratings: true,
});
let ratings: Client<typeof TemplateRatingService>;
let curation: Client<typeof StoreCurationService>;
const closers: { close(): void }[] = [];

/** A public template of `c` without tools. */
const template = (c: TestIdentity, name = "Rated") => stack.createTemplate(c, { tools: [], agent_name: name });

async function claim(owner: TestIdentity, templateId: string): Promise<string> {
  await stack.seedIdle(1);
  const res = await stack.claimsClient.claim(
    {
      requester: owner.inboxId,
      templateId,
      conversationInvite: `https://dev.convos.org/v2?i=invite-${randomBytes(6).toString("hex")}`,
    },
    as(owner),
  );
  return res.instanceId;
}

/** Moves the claims service's record of when its owner took the agent `hours` back. */
async function heldFor(instanceId: string, hours: number): Promise<void> {
  await stack.sql.query(
    `update instances set claimed_at = now() - make_interval(hours => $2), owner_since = now() - make_interval(hours => $2) where id = $1`,
    [instanceId, hours],
  );
}

/** Days with others, today and the two days before: what an owner needs besides a day held. */
const USED = [0, 1, 2];

/**
 * An owner of an agent of `templateId` held for `hours` (73 by default: more
 * than three days) that answered two other people on each of the days
 * `daysAgo` (USED by default: three days, enough to rate).
 */
async function owner(
  templateId: string,
  hours = 73,
  daysAgo: readonly number[] = USED,
): Promise<{ who: TestIdentity; instanceId: string }> {
  const who = newIdentity();
  const instanceId = await claim(who, templateId);
  await heldFor(instanceId, hours);
  if (daysAgo.length > 0) await stack.answeredOthersOn(instanceId, daysAgo);
  return { who, instanceId };
}

const rateSig = (who: TestIdentity, templateId: string, stars: number, review: string) =>
  signOperation(who.account, "RateTemplate", { inboxId: who.inboxId, templateId, stars, review });

async function rate(who: TestIdentity, templateId: string, stars: number, review = "", signature?: Signature) {
  return ratings.rateTemplate({
    templateId,
    raterId: who.inboxId,
    stars,
    review,
    signature: signature ?? (await rateSig(who, templateId, stars, review)),
  });
}

const violated = (err: unknown) => fieldViolations(err).map((v) => v.field);

beforeAll(async () => {
  await stack.start();
  const r = createServiceClient(TemplateRatingService, stack.templates.url, stack.creds.gateway);
  const c = createServiceClient(StoreCurationService, stack.templates.url, stack.creds.gateway);
  closers.push(r, c);
  ratings = r.client;
  curation = c.client;
});

afterAll(async () => {
  for (const c of closers) c.close();
  await stack.close();
});

describe("who may rate", () => {
  it("refuses a non-owner, an owner of less than a day, and the creator, naming rater_id; an owner of days whose agent others used rates", async () => {
    const creator = newIdentity();
    const t = await template(creator);

    const stranger = newIdentity();
    const e1 = await expectCode(rate(stranger, t.id, 5), Code.PermissionDenied);
    expect(violated(e1)).toEqual(["rater_id"]);

    const fresh = await owner(t.id, 23, []);
    const e2 = await expectCode(rate(fresh.who, t.id, 5), Code.FailedPrecondition);
    expect(violated(e2)).toEqual(["rater_id"]);
    const mine = await ratings.getMyRating({ templateId: t.id }, as(fresh.who));
    expect(mine.canRate).toBe(false);
    expect(mine.reason).toMatch(/after a day/);
    expect(mine.canRateFrom).toBeDefined();

    // The creator holding an agent of their own template for days still may not.
    const own = await claim(creator, t.id);
    await heldFor(own, 72);
    const e3 = await expectCode(rate(creator, t.id, 5), Code.PermissionDenied);
    expect(violated(e3)).toEqual(["rater_id"]);
    expect((await ratings.getMyRating({ templateId: t.id }, as(creator))).reason).toMatch(/creator/);

    const held = await owner(t.id);
    expect((await ratings.getMyRating({ templateId: t.id }, as(held.who))).canRate).toBe(true);
    const res = await rate(held.who, t.id, 4, "Plans trips well.");
    expect(res.review?.stars).toBe(4);
    expect(res.review?.text).toBe("Plans trips well.");
    // One rating is no badge.
    expect(res.ratings).toBeUndefined();
  });

  it("counts a transfer's acceptance as the new owner's start, for the day held and the days with others, and a removed agent not at all", async () => {
    const t = await template(newIdentity());
    const first = await owner(t.id);
    const next = newIdentity();
    // The owner changes (as AcceptAgent's completion writes it): the database restarts the clock.
    await stack.sql.query(`update instances set owner_id = $2 where id = $1`, [first.instanceId, next.inboxId]);
    await expectCode(rate(next, t.id, 3), Code.FailedPrecondition);
    await expectCode(rate(first.who, t.id, 3), Code.PermissionDenied);
    // A day later by the claims service's clock, the agent's days with others are still the giver's (lineage, fed the change).
    await heldFor(first.instanceId, 30);
    await stack.claims.lineage?.drained();
    const borrowed = await expectCode(rate(next, t.id, 3), Code.FailedPrecondition);
    expect(borrowed.rawMessage).toMatch(/two other people on three days; yours has not yet$/);

    const gone = await owner(t.id);
    await stack.sql.query(`update instances set state = 'dead' where id = $1`, [gone.instanceId]);
    await expectCode(rate(gone.who, t.id, 3), Code.PermissionDenied);
  });

  it("refuses an owner of days whose agent answered two other people on fewer than three days, naming rater_id and how far they are; takes the third", async () => {
    const t = await template(newIdentity());
    const quiet = await owner(t.id, 100, []);
    const none = await expectCode(rate(quiet.who, t.id, 4, "Nice."), Code.FailedPrecondition);
    expect(violated(none)).toEqual(["rater_id"]);
    expect(none.rawMessage).toBe(
      "rater_id: owners rate once their agent has answered at least two other people on three days; yours has not yet",
    );
    // Two days with others: not yet, and nothing is kept.
    await stack.answeredOthersOn(quiet.instanceId, [3, 4]);
    const two = await ratings.getMyRating({ templateId: t.id }, as(quiet.who));
    expect([two.canRate, two.reason, two.canRateFrom]).toEqual([
      false,
      "owners rate once their agent has answered at least two other people on three days; yours has on two",
      undefined,
    ]);
    await expectCode(rate(quiet.who, t.id, 4, "Nice."), Code.FailedPrecondition);
    expect((await ratings.listReviews({ templateId: t.id })).reviews).toEqual([]);
    await stack.answeredOthersOn(quiet.instanceId, [1]);
    expect((await ratings.getMyRating({ templateId: t.id }, as(quiet.who))).canRate).toBe(true);
    expect((await rate(quiet.who, t.id, 4, "Nice.")).review?.stars).toBe(4);
  });

  it("lets only the templates service ask the claims service who owns what", async () => {
    const gateway = createServiceClient(TemplateOwnershipService, stack.claims.url, stack.creds.gateway);
    closers.push(gateway);
    await expectCode(
      gateway.client.getTemplateOwnership({ templateId: "tmpl_0000000000000000", ownerId: operator.inboxId }),
      Code.PermissionDenied,
    );
  });
});

describe("what a rating may say", () => {
  it("refuses stars outside 1 to 5, a review over 500 characters or with control characters, naming the field", async () => {
    const t = await template(newIdentity());
    const { who } = await owner(t.id);
    for (const stars of [0, 6])
      expect(violated(await expectCode(rate(who, t.id, stars), Code.InvalidArgument))).toEqual(["stars"]);
    const long = "é".repeat(501);
    expect(violated(await expectCode(rate(who, t.id, 5, long), Code.InvalidArgument))).toEqual(["review"]);
    expect(violated(await expectCode(rate(who, t.id, 5, "nice\u0007"), Code.InvalidArgument))).toEqual(["review"]);
    // 500 characters, lines and markup are fine, and kept exactly as signed.
    const fine = `${"é".repeat(480)}\n<b>bold</b>`;
    expect((await rate(who, t.id, 5, fine)).review?.text).toBe(fine);
  });

  it("refuses a replayed signature and one over other stars", async () => {
    const t = await template(newIdentity());
    const { who } = await owner(t.id);
    const sig = await rateSig(who, t.id, 5, "great");
    await rate(who, t.id, 5, "great", sig);
    const replay = await expectCode(rate(who, t.id, 5, "great", sig), Code.Unauthenticated);
    expect(replay.rawMessage).toMatch(/^signature\.nonce/);
    const altered = await expectCode(
      rate(who, t.id, 1, "great", await rateSig(who, t.id, 5, "great")),
      Code.PermissionDenied,
    );
    expect(altered.rawMessage).toMatch(/^signature/);
    expect((await ratings.getMyRating({ templateId: t.id }, as(who))).review?.stars).toBe(5);
  });
});

describe("one rating per owner, shown from three", () => {
  it("replaces an owner's rating when they rate again, and shows the average and count from the third owner on", async () => {
    const t = await template(newIdentity());
    const a = await owner(t.id);
    // Two agents of the same owner: still one rating.
    const second = await claim(a.who, t.id);
    await heldFor(second, 30);
    await rate(a.who, t.id, 2, "meh");
    const changed = await rate(a.who, t.id, 5, "better now");
    expect(changed.ratings).toBeUndefined();
    const b = await owner(t.id);
    expect((await rate(b.who, t.id, 4)).ratings).toBeUndefined();
    const c = await owner(t.id);
    const third = await rate(c.who, t.id, 3, "fine");
    expect(third.ratings?.count).toBe(3n);
    expect(third.ratings?.average).toBeCloseTo(4);

    const got = await stack.templatesClient.getTemplate({ templateId: t.id });
    expect(got.template?.ratings?.count).toBe(3n);
    // Newest first; a rating without words is no review.
    const list = await ratings.listReviews({ templateId: t.id });
    expect(list.reviews.map((r) => [r.reviewerId, r.text])).toEqual([
      [c.who.inboxId, "fine"],
      [a.who.inboxId, "better now"],
    ]);
    expect(list.ratings?.count).toBe(3n);
    const p1 = await ratings.listReviews({ templateId: t.id, pageSize: 1 });
    const p2 = await ratings.listReviews({ templateId: t.id, pageSize: 1, pageToken: p1.nextPageToken });
    expect([...p1.reviews, ...p2.reviews].map((r) => r.reviewerId)).toEqual([c.who.inboxId, a.who.inboxId]);
    expect(p2.nextPageToken).toBe("");
  });
});

describe("the creator's answer, reports and removal", () => {
  it("lets the creator answer a review once; new words from the owner clear the answer", async () => {
    const creator = newIdentity();
    const t = await template(creator);
    const { who } = await owner(t.id);
    await rate(who, t.id, 2, "slow to answer");
    const answer = (text: string, signer = creator) =>
      signOperation(signer.account, "AnswerTemplateReview", {
        inboxId: signer.inboxId,
        templateId: t.id,
        reviewerId: who.inboxId,
        answer: text,
      }).then((signature) =>
        ratings.answerReview({
          templateId: t.id,
          reviewerId: who.inboxId,
          creatorId: signer.inboxId,
          answer: text,
          signature,
        }),
      );
    const other = newIdentity();
    await expectCode(answer("I made it", other), Code.PermissionDenied);
    expect((await answer("Fixed in version 2.")).review?.answer).toBe("Fixed in version 2.");
    await expectCode(answer("and again"), Code.AlreadyExists);
    // Other stars, same words: the answer stays.
    await rate(who, t.id, 3, "slow to answer");
    expect((await ratings.listReviews({ templateId: t.id })).reviews[0]?.answer).toBe("Fixed in version 2.");
    // New words are a new review: answered again.
    await rate(who, t.id, 4, "faster now");
    expect((await ratings.listReviews({ templateId: t.id })).reviews[0]?.answer).toBe("");
    expect((await answer("Thanks!")).review?.answer).toBe("Thanks!");
  });

  it("takes one report per person; operators list reported reviews and remove one, logged with who and why; its stars still count", async () => {
    const t = await template(newIdentity());
    const owners = [await owner(t.id), await owner(t.id), await owner(t.id)];
    await rate(owners[0]!.who, t.id, 1, "spam spam buy coins");
    await rate(owners[1]!.who, t.id, 5, "lovely");
    await rate(owners[2]!.who, t.id, 5);
    const [r1, r2] = [newIdentity(), newIdentity()];
    const report = (by: TestIdentity, reason: string) =>
      ratings.reportReview({ templateId: t.id, reviewerId: owners[0]!.who.inboxId, reason }, as(by));
    await expectCode(
      ratings.reportReview({ templateId: t.id, reviewerId: owners[0]!.who.inboxId, reason: "x" }),
      Code.Unauthenticated,
    );
    await report(r1, "spam");
    await expectCode(report(r1, "spam again"), Code.AlreadyExists);
    await report(r2, "an ad");

    await expectCode(curation.listReviewReports({}, as(r1)), Code.PermissionDenied);
    const reported = await curation.listReviewReports({ templateId: t.id }, as(operator));
    expect(reported.reviews).toHaveLength(1);
    expect(reported.reviews[0]?.reportCount).toBe(2n);
    expect(reported.reviews[0]?.reasons).toEqual(["an ad", "spam"]);

    const reason = "advertising";
    const removeSig = await signOperation(operator.account, "RemoveTemplateReview", {
      inboxId: operator.inboxId,
      templateId: t.id,
      reviewerId: owners[0]!.who.inboxId,
      reason,
    });
    const removed = await curation.removeReview({
      operatorId: operator.inboxId,
      templateId: t.id,
      reviewerId: owners[0]!.who.inboxId,
      reason,
      signature: removeSig,
    });
    expect(removed.review?.removed).toBe(true);
    // Hidden from everyone, its stars still counted; its reviewer still sees it, marked removed.
    const list = await ratings.listReviews({ templateId: t.id });
    expect(list.reviews.map((r) => r.text)).toEqual(["lovely"]);
    expect(list.ratings?.count).toBe(3n);
    expect(list.ratings?.average).toBeCloseTo(11 / 3);
    const mine = await ratings.getMyRating({ templateId: t.id }, as(owners[0]!.who));
    expect(mine.review?.removed).toBe(true);
    expect((await curation.listReviewReports({ templateId: t.id }, as(operator))).reviews).toHaveLength(0);

    const log = (await curation.listCurationLog({ templateId: t.id }, as(operator))).entries;
    expect(log[0]?.action).toBe("RemoveTemplateReview");
    expect(log[0]?.actorId).toBe(operator.inboxId);
    expect(JSON.parse(log[0]!.fieldsJson)).toEqual({ reviewerId: owners[0]!.who.inboxId, reason });
    // The entry checks out again as signed.
    const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
    await verifier.verify(
      "RemoveTemplateReview",
      { inboxId: operator.inboxId, templateId: t.id, reviewerId: owners[0]!.who.inboxId, reason },
      log[0]?.signature,
      "signature",
      { anyAge: true },
    );
  });
});

describe("top rated", () => {
  it("orders the store by the prior-weighted mean: many good ratings above few perfect ones, and shows no figures below three", async () => {
    const creator = newIdentity();
    const tag = randomBytes(4).toString("hex");
    const few = await template(creator, `Few ${tag}`);
    const many = await template(creator, `Many ${tag}`);
    const twoFives = await template(creator, `Two fives ${tag}`);
    const poor = await template(creator, `Poor ${tag}`);
    for (let i = 0; i < 3; i++) await rate((await owner(few.id)).who, few.id, 5);
    for (let i = 0; i < 8; i++) await rate((await owner(many.id)).who, many.id, i < 6 ? 5 : 4);
    for (let i = 0; i < 3; i++) await rate((await owner(poor.id)).who, poor.id, 1);
    // Two 5s lift it a little, and show no figures.
    for (let i = 0; i < 2; i++) await rate((await owner(twoFives.id)).who, twoFives.id, 5);

    const ours = new Set([few.id, many.id, twoFives.id, poor.id]);
    const order: string[] = [];
    let pageToken = "";
    do {
      const page = await stack.templatesClient.browseStore({ sort: StoreSort.TOP_RATED, pageSize: 2, pageToken });
      order.push(...page.templates.filter((x) => ours.has(x.id)).map((x) => x.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    // many: (15 + 38) / 13 ≈ 4.08; few: (15 + 15) / 8 = 3.75; two 5s: 25 / 7 ≈ 3.57; poor: (15 + 3) / 8 = 2.25.
    expect(order).toEqual([many.id, few.id, twoFives.id, poor.id]);
    const listed = await stack.templatesClient.browseStore({ sort: StoreSort.TOP_RATED, query: tag });
    const byId = new Map(listed.templates.map((x) => [x.id, x]));
    expect(byId.get(twoFives.id)?.ratings).toBeUndefined();
    expect(byId.get(few.id)?.ratings?.score).toBeCloseTo(3.75);
  });
});
