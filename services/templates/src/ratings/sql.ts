// The SQL of ratings in the store (docs/store.md, "Ratings"): ratings with
// their reviews and answers, the totals kept on each template, and reports
// of reviews. service.ts decides who may do what.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ReviewSchema, type Review } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import {
  ReportedReviewSchema,
  type ReportedReview,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import {
  TemplateRatingsSchema,
  type Template,
  type TemplateRatings,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import { withDelistingAndFeatured } from "../catalog/standing.js";
import { ratingScore, shownRatings } from "./policy.js";

export interface RatingRow {
  template_id: string;
  reviewer_id: string;
  stars: number;
  review: string;
  created_at: Date | string;
  updated_at: Date | string;
  answer: string;
  answered_at: Date | string | null;
  removed_at: Date | string | null;
  removed_by: string | null;
}

const ts = (d: Date | string) => timestampFromDate(new Date(d));

/**
 * A rating as a Review. `whole`: with a removed review's words (its reviewer
 * and the operators); anyone else gets a removed review without them.
 */
export function reviewToProto(r: RatingRow, whole = false): Review {
  const hidden = r.removed_at !== null && !whole;
  return create(ReviewSchema, {
    templateId: r.template_id,
    reviewerId: r.reviewer_id,
    stars: r.stars,
    text: hidden ? "" : r.review,
    createdAt: ts(r.created_at),
    updatedAt: ts(r.updated_at),
    answer: hidden ? "" : r.answer,
    ...(r.answered_at && !hidden ? { answeredAt: ts(r.answered_at) } : {}),
    removed: r.removed_at !== null,
  });
}

export function ratingsProto(count: number, sum: number): TemplateRatings | undefined {
  const shown = shownRatings(count, sum);
  return shown && create(TemplateRatingsSchema, shown);
}

export async function ratingOf(
  em: EntityManager,
  templateId: string,
  reviewerId: string,
): Promise<RatingRow | undefined> {
  const [row] = await em.execute<RatingRow[]>(
    `select * from template_ratings where template_id = ? and reviewer_id = ?`,
    [templateId, reviewerId],
  );
  return row;
}

/**
 * Writes the owner's rating, replacing theirs (call under the template row's
 * lock). New words are a new review: its answer, its removal and its reports
 * go with the old words; the same words with other stars keep them.
 * Updates the template's totals and score.
 */
export async function putRating(
  em: EntityManager,
  r: { templateId: string; reviewerId: string; stars: number; review: string; at: Date },
): Promise<{ rating: RatingRow; ratings: TemplateRatings | undefined }> {
  const old = await ratingOf(em, r.templateId, r.reviewerId);
  const newWords = old !== undefined && old.review !== r.review;
  const [rating] = await em.execute<RatingRow[]>(
    `insert into template_ratings (template_id, reviewer_id, stars, review, created_at, updated_at) values (?, ?, ?, ?, ?, ?)
      on conflict (template_id, reviewer_id) do update set stars = excluded.stars, review = excluded.review, updated_at = excluded.updated_at,
        answer = case when ? then '' else template_ratings.answer end,
        answered_at = case when ? then null else template_ratings.answered_at end,
        removed_at = case when ? then null else template_ratings.removed_at end,
        removed_by = case when ? then null else template_ratings.removed_by end
      returning *`,
    [r.templateId, r.reviewerId, r.stars, r.review, r.at, r.at, newWords, newWords, newWords, newWords],
  );
  if (newWords)
    await em.execute(`delete from template_review_reports where template_id = ? and reviewer_id = ?`, [
      r.templateId,
      r.reviewerId,
    ]);
  const [totals] = await em.execute<{ rating_count: number; rating_sum: number }[]>(
    `update templates set rating_count = rating_count + ?, rating_sum = rating_sum + ? where id = ? returning rating_count, rating_sum`,
    [old ? 0 : 1, r.stars - (old?.stars ?? 0), r.templateId],
  );
  const count = totals?.rating_count ?? 0;
  const sum = totals?.rating_sum ?? 0;
  await em.execute(`update templates set rating_score = ? where id = ?`, [ratingScore(count, sum), r.templateId]);
  if (!rating) throw new Error("a rating upsert returns its row");
  return { rating, ratings: ratingsProto(count, sum) };
}

/** A template's shown ratings; undefined below the threshold. */
export async function templateRatings(em: EntityManager, templateId: string): Promise<TemplateRatings | undefined> {
  const [t] = await em.execute<{ rating_count: number; rating_sum: number }[]>(
    `select rating_count, rating_sum from templates where id = ?`,
    [templateId],
  );
  return t && ratingsProto(t.rating_count, t.rating_sum);
}

/**
 * A template as the store shows it: its standing (delisting and featured,
 * catalog/standing.ts) and its shown ratings. Here rather than in the
 * catalog because ratings stand above it.
 */
export async function withStandings(em: EntityManager, templates: Template[]): Promise<Template[]> {
  return withRatings(em, await withDelistingAndFeatured(em, templates));
}

/** Sets each template's `ratings` (left unset below the threshold). */
export async function withRatings(em: EntityManager, templates: Template[]): Promise<Template[]> {
  if (templates.length === 0) return templates;
  const rows = await em.execute<{ id: string; rating_count: number; rating_sum: number }[]>(
    `select id, rating_count, rating_sum from templates where id in (?)`,
    [templates.map((t) => t.id)],
  );
  const by = new Map(rows.map((r) => [r.id, r]));
  for (const t of templates) {
    const r = by.get(t.id);
    t.ratings = r && ratingsProto(r.rating_count, r.rating_sum);
  }
  return templates;
}

/** Reviews anyone reads: with words, not removed, newest (last changed) first. */
export async function listShownReviews(
  em: EntityManager,
  q: { templateId: string; limit: number; pageToken: string },
): Promise<{ reviews: Review[]; nextPageToken: string }> {
  const where = [`template_id = ?`, `review <> ''`, `removed_at is null`];
  const params: unknown[] = [q.templateId];
  const cursor = decodePageToken(q.pageToken, 2, "page_token", isDateAndId);
  if (cursor) {
    where.push(`(updated_at, reviewer_id) < (?::timestamptz, ?)`);
    params.push(String(cursor[0]), String(cursor[1]));
  }
  const rows = await em.execute<RatingRow[]>(
    `select * from template_ratings where ${where.join(" and ")} order by updated_at desc, reviewer_id desc limit ${q.limit + 1}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    reviews: page.map((r) => reviewToProto(r)),
    nextPageToken:
      rows.length > q.limit && last ? encodePageToken([new Date(last.updated_at).toISOString(), last.reviewer_id]) : "",
  };
}

/** The creator's answer; false when the review has one already. */
export async function putAnswer(
  em: EntityManager,
  a: { templateId: string; reviewerId: string; answer: string; at: Date },
): Promise<RatingRow | undefined> {
  const [row] = await em.execute<RatingRow[]>(
    `update template_ratings set answer = ?, answered_at = ? where template_id = ? and reviewer_id = ? and answer = '' returning *`,
    [a.answer, a.at, a.templateId, a.reviewerId],
  );
  return row;
}

/** A report of a review; false when this person reported it already. */
export async function fileReviewReport(
  em: EntityManager,
  r: { templateId: string; reviewerId: string; reporterId: string; reason: string; at: Date },
): Promise<boolean> {
  const rows = await em.execute(
    `insert into template_review_reports (template_id, reviewer_id, reporter_id, reason, reported_at) values (?, ?, ?, ?, ?)
      on conflict do nothing returning 1`,
    [r.templateId, r.reviewerId, r.reporterId, r.reason, r.at],
  );
  return rows.length > 0;
}

/** Takes a review's words out; its reports are settled by it (the curation log keeps why). */
export async function removeReview(
  em: EntityManager,
  r: { templateId: string; reviewerId: string; operatorId: string; at: Date },
): Promise<RatingRow | undefined> {
  const [row] = await em.execute<RatingRow[]>(
    `update template_ratings set removed_at = ?, removed_by = ? where template_id = ? and reviewer_id = ? and removed_at is null returning *`,
    [r.at, r.operatorId, r.templateId, r.reviewerId],
  );
  if (row)
    await em.execute(`delete from template_review_reports where template_id = ? and reviewer_id = ?`, [
      r.templateId,
      r.reviewerId,
    ]);
  return row;
}

/** Reported reviews, most recently reported first, with their latest reasons. */
export async function listReportedReviews(
  em: EntityManager,
  q: { templateId: string; limit: number; pageToken: string },
): Promise<{ reviews: ReportedReview[]; nextPageToken: string }> {
  const where = ["true"];
  const params: unknown[] = [];
  if (q.templateId) {
    where.push(`template_id = ?`);
    params.push(q.templateId);
  }
  const cursor = decodePageToken(q.pageToken, 3, "page_token", (v) => isDateAndId(v) && typeof v[2] === "string");
  const having: string[] = [];
  if (cursor) {
    having.push(`(max(reported_at), template_id, reviewer_id) < (?::timestamptz, ?, ?)`);
    params.push(...cursor);
  }
  const rows = await em.execute<
    (RatingRow & { report_count: string | number; reasons: string[]; last_reported_at: Date | string })[]
  >(
    `select r.*, g.report_count, g.reasons, g.last_reported_at from (
        select template_id, reviewer_id, count(*) as report_count, max(reported_at) as last_reported_at,
          (array_agg(reason order by reported_at desc))[1:5] as reasons
        from template_review_reports where ${where.join(" and ")}
        group by template_id, reviewer_id ${having.length ? `having ${having.join(" and ")}` : ""}
      ) g join template_ratings r using (template_id, reviewer_id)
      where r.removed_at is null
      order by g.last_reported_at desc, g.template_id desc, g.reviewer_id desc limit ${q.limit + 1}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    reviews: page.map((r) =>
      create(ReportedReviewSchema, {
        review: reviewToProto(r, true),
        reportCount: BigInt(r.report_count),
        reasons: r.reasons,
        lastReportedAt: ts(r.last_reported_at),
      }),
    ),
    nextPageToken:
      rows.length > q.limit && last
        ? encodePageToken([new Date(last.last_reported_at).toISOString(), last.template_id, last.reviewer_id])
        : "",
  };
}
