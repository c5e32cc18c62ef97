// The REST paths of ratings in the store (docs/rest.md, "Ratings"; docs/store.md,
// "Ratings"): a template's reviews, the caller's own rating, rating, the
// creator's answer, reports, and the operators' reported reviews and removal.
// Each is an RPC of the TemplateRatingService or StoreCurationService
// forwarder, as on the Connect face.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Review } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import type { ReportedReview } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TEMPLATE_ERRORS, renaming, restField, type RestErrorMapping } from "../core/errors.js";
import { nextCursor, query, queryPage, type Handler, type Route } from "../core/request.js";
import { signatureOf } from "../core/signature-json.js";
import { ratingsToJson } from "../templates/json.js";

const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);

export function reviewToJson(r: Review) {
  return {
    template_id: r.templateId,
    reviewer_id: r.reviewerId,
    stars: r.stars,
    text: r.text,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    answer: r.answer,
    answered_at: iso(r.answeredAt),
    removed: r.removed,
  };
}

const reportedToJson = (r: ReportedReview) => ({
  review: r.review ? reviewToJson(r.review) : null,
  report_count: Number(r.reportCount),
  reasons: r.reasons,
  last_reported_at: iso(r.lastReportedAt),
});

const listReviews: Handler = async (r, { ratings }) => {
  const q = query(r, ["limit", "cursor"]);
  const res = await ratings.listReviews({ templateId: r.id, ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: {
      ratings: res.ratings ? ratingsToJson(res.ratings) : null,
      reviews: res.reviews.map(reviewToJson),
      next_cursor: nextCursor(res.nextPageToken),
    },
  };
};

/** The signed-in caller's rating, and whether they may rate now. */
const myRating: Handler = async (r, { ratings }) => {
  query(r, []);
  const res = await ratings.getMyRating({ templateId: r.id }, r.call);
  return {
    status: 200,
    body: {
      review: res.review ? reviewToJson(res.review) : null,
      can_rate: res.canRate,
      reason: res.reason,
      can_rate_from: iso(res.canRateFrom),
    },
  };
};

/** `{rater_id, stars, review?, signature}` (RateTemplate): creates or replaces the rater's rating. */
const rate: Handler = async (r, { ratings }) => {
  query(r, []);
  const body = await r.body(["rater_id", "stars", "review", "signature"]);
  const stars = body.int32("stars");
  const res = await ratings.rateTemplate(
    {
      templateId: r.id,
      raterId: body.string("rater_id", ""),
      stars,
      review: body.string("review", ""),
      signature: signatureOf(body),
    },
    r.call,
  );
  return {
    status: 200,
    body: {
      review: res.review ? reviewToJson(res.review) : null,
      ratings: res.ratings ? ratingsToJson(res.ratings) : null,
    },
  };
};

/** `{reviewer_id, creator_id, answer, signature}` (AnswerTemplateReview). */
const answer: Handler = async (r, { ratings }) => {
  query(r, []);
  const body = await r.body(["reviewer_id", "creator_id", "answer", "signature"]);
  const res = await ratings.answerReview(
    {
      templateId: r.id,
      reviewerId: body.string("reviewer_id", ""),
      creatorId: body.string("creator_id", ""),
      answer: body.string("answer", ""),
      signature: signatureOf(body),
    },
    r.call,
  );
  return { status: 200, body: { review: res.review ? reviewToJson(res.review) : null } };
};

/** `{reviewer_id, reason}`, signed in. */
const reportReview: Handler = async (r, { ratings }) => {
  query(r, []);
  const body = await r.body(["reviewer_id", "reason"]);
  await ratings.reportReview(
    { templateId: r.id, reviewerId: body.string("reviewer_id", ""), reason: body.string("reason", "") },
    r.call,
  );
  return { status: 201, body: {} };
};

/** Operators: `{operator_id, reviewer_id, reason, signature}` (RemoveTemplateReview). */
const removeReview: Handler = async (r, { curation }) => {
  query(r, []);
  const body = await r.body(["operator_id", "reviewer_id", "reason", "signature"]);
  const res = await curation.removeReview(
    {
      operatorId: body.string("operator_id", ""),
      templateId: r.id,
      reviewerId: body.string("reviewer_id", ""),
      reason: body.string("reason", ""),
      signature: signatureOf(body),
    },
    r.call,
  );
  return { status: 200, body: { review: res.review ? reviewToJson(res.review) : null } };
};

const BY_TEMPLATE_QUERY: RestErrorMapping = { field: renaming({ template_id: "template" }, restField) };

const reviewReports: Handler = async (r, { curation }) => {
  const q = query(r, ["template", "limit", "cursor"]);
  const res = await curation.listReviewReports({ templateId: q.get("template") ?? "", ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: { reviews: res.reviews.map(reportedToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

export const RATING_ROUTES: Route[] = [
  ["GET", "/templates/:id/reviews", listReviews, TEMPLATE_ERRORS],
  ["GET", "/templates/:id/rating", myRating, TEMPLATE_ERRORS],
  ["PUT", "/templates/:id/rating", rate, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/reviews/answer", answer, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/reviews/report", reportReview, TEMPLATE_ERRORS],
  ["POST", "/templates/:id/reviews/remove", removeReview, TEMPLATE_ERRORS],
  ["GET", "/review-reports", reviewReports, BY_TEMPLATE_QUERY],
];
