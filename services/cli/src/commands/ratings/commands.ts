// Ratings in the store from the command line (docs/cli.md, "Ratings";
// docs/store.md, "Ratings"): rate a template as an owner of its agent,
// read its reviews, see one's own rating and whether one may rate, answer a
// review as the creator, report one, and the operators' reported reviews
// and removal. Signed acts sign with the key.
import { loadKey } from "../../core/key-store.js";
import { request, type Context, type Page } from "../../core/http.js";
import { signRest } from "../../core/signing.js";

const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

/** Rates a template 1 to 5 (`review` "" for none), replacing the key's rating of it. */
export async function rate(ctx: Context, id: string, stars: number, review = ""): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, "RateTemplate", { templateId: id, stars, review });
  return (
    await request(ctx, "PUT", `${templatePath(id)}/rating`, {
      body: { rater_id: key.inbox_id, stars, review, signature },
    })
  ).body;
}

/** The key's rating of a template, and whether (or from when) it may rate. */
export async function myRating(ctx: Context, id: string): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(id)}/rating`, { auth: "session" })).body;
}

/** A template's reviews, newest first, with its ratings once there are three: anonymous. */
export async function reviews(ctx: Context, id: string, page: Page = {}): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(id)}/reviews`, { query: { ...page } })).body;
}

/** The creator answers a review (once). */
export async function answerReview(ctx: Context, id: string, reviewerId: string, answer: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const signature = await signRest(ctx, key, "AnswerTemplateReview", { templateId: id, reviewerId, answer });
  return (
    await request(ctx, "POST", `${templatePath(id)}/reviews/answer`, {
      body: { reviewer_id: reviewerId, creator_id: key.inbox_id, answer, signature },
    })
  ).body;
}

/** Reports a review to the operators, as the signed-in key. */
export async function reportReview(ctx: Context, id: string, reviewerId: string, reason: string): Promise<unknown> {
  return (
    await request(ctx, "POST", `${templatePath(id)}/reviews/report`, {
      auth: "session",
      body: { reviewer_id: reviewerId, reason },
    })
  ).body;
}

/** Operators: reviews someone reported, of one template or every one. */
export async function reviewReports(
  ctx: Context,
  opts: Page & { template?: string | undefined } = {},
): Promise<unknown> {
  const query = { template: opts.template, limit: opts.limit, cursor: opts.cursor };
  return (await request(ctx, "GET", "/api/pool/review-reports", { auth: "session", query })).body;
}

/** Operators: take a review's words out of the store, saying why (the curation log keeps it). */
export async function removeReview(ctx: Context, id: string, reviewerId: string, reason: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  // The service trims the reason before it checks the signature: sign it trimmed.
  const why = reason.trim();
  const signature = await signRest(ctx, key, "RemoveTemplateReview", { templateId: id, reviewerId, reason: why });
  return (
    await request(ctx, "POST", `${templatePath(id)}/reviews/remove`, {
      body: { operator_id: key.inbox_id, reviewer_id: reviewerId, reason: why, signature },
    })
  ).body;
}
