// Ratings in the store, the pure part (docs/store.md, "Ratings"): the
// constants, the "top rated" score, what a review may say, and whether an
// inbox may rate. No I/O here: service.ts asks the database, the claims
// service and the lineage service, then decides with these.
import { Code, type ConnectError } from "@connectrpc/connect";
import {
  errorOn,
  failedPreconditionOn,
  invalidArgument,
  requireString,
  violationsOf,
  type FieldViolationInfo,
} from "@convos-pool/kit/content";
import { checkInboxId, checkTemplateId } from "../catalog/checks.js";

/** The store shows a template's average and count from this many ratings on: one friend's 5 is no badge. */
export const RATINGS_SHOWN_FROM = 3;
/** "Top rated": the prior's mean, in stars, that every template starts from. */
export const PRIOR_MEAN = 3;
/** "Top rated": how many ratings of PRIOR_MEAN the prior weighs as. */
export const PRIOR_WEIGHT = 5;
/** An owner rates after holding a live agent of the template this long. */
export const MIN_OWNERSHIP_SECONDS = 86_400;
/**
 * ... and once one of their agents of it answered at least two people
 * besides them on this many UTC days (days with others: the lineage
 * service's rule, services/lineage/src/activity/policy.ts, from the agent's
 * own signed counts).
 */
export const MIN_DAYS_ANSWERING_OTHERS = 3;
/** A review, and the creator's answer: at most this many characters. */
export const MAX_REVIEW_CHARS = 500;
export const MIN_STARS = 1;
export const MAX_STARS = 5;

/**
 * The prior-weighted (Bayesian) mean that orders "top rated":
 * (PRIOR_WEIGHT × PRIOR_MEAN + sum of stars) / (PRIOR_WEIGHT + count). Every
 * rating counts, so that another 5 never lowers it and another 1 never
 * raises it (a threshold inside the score would break both); the prior is
 * what keeps a few ratings from moving it far. Worked example
 * (docs/store.md): no rating scores 3; one 5 scores 20 / 6 ≈ 3.33; three 5s
 * (15 + 15) / 8 = 3.75; forty ratings averaging 4.5 (15 + 180) / 45 ≈ 4.33,
 * above the three 5s.
 */
export function ratingScore(count: number, sum: number): number {
  return (PRIOR_WEIGHT * PRIOR_MEAN + sum) / (PRIOR_WEIGHT + count);
}

/** What the store shows: the plain mean, the count and the score; undefined below the threshold. */
export function shownRatings(
  count: number,
  sum: number,
): { average: number; count: bigint; score: number } | undefined {
  if (count < RATINGS_SHOWN_FROM) return undefined;
  return { average: sum / count, count: BigInt(count), score: ratingScore(count, sum) };
}

export function checkStars(stars: number): number {
  if (!Number.isInteger(stars) || stars < MIN_STARS || stars > MAX_STARS)
    throw invalidArgument("stars", `must be a whole number from ${MIN_STARS} to ${MAX_STARS}`);
  return stars;
}

// Control characters other than line breaks (LF, CR: a review may have lines), and
// the bidirectional overrides that make shown text read otherwise than stored.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it refuses
const FORBIDDEN = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/**
 * A review or an answer as signed: plain text, kept exactly (the signature
 * covers it, so nothing is trimmed or rewritten), at most MAX_REVIEW_CHARS
 * characters (code points), no control characters but line breaks. Markup is
 * not interpreted anywhere: clients show it as the characters it is.
 */
export function checkReviewText(field: string, text: string, required: boolean): string {
  if (required && text.trim() === "") throw invalidArgument(field, "is required");
  if ([...text].length > MAX_REVIEW_CHARS)
    throw invalidArgument(field, `must be at most ${MAX_REVIEW_CHARS} characters`);
  if (FORBIDDEN.test(text)) throw invalidArgument(field, "must not contain control characters (line breaks are fine)");
  if (text !== "" && text.trim() === "") throw invalidArgument(field, "must not be blank: leave it empty for none");
  return text;
}

/** A report's or a removal's reason: said, at most 1,000 characters once trimmed. */
const checkReason = (reason: string) => requireString("reason", reason.trim(), { min: 1, max: 1_000 });

/** What is wrong with a rating (RateTemplate), every field at once. */
export function rateViolations(req: {
  templateId: string;
  raterId: string;
  stars: number;
  review: string;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkTemplateId(req.templateId),
    () => checkInboxId(req.raterId, "rater_id"),
    () => checkStars(req.stars),
    () => checkReviewText("review", req.review, false),
  );
}

/** What is wrong with a creator's answer to a review (AnswerReview), every field at once. */
export function answerViolations(req: {
  templateId: string;
  reviewerId: string;
  creatorId: string;
  answer: string;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkTemplateId(req.templateId),
    () => checkInboxId(req.reviewerId, "reviewer_id"),
    () => checkInboxId(req.creatorId, "creator_id"),
    () => checkReviewText("answer", req.answer, true),
  );
}

/** What is wrong with a report of a review (ReportReview), every field at once. */
export function reportReviewViolations(req: { reviewerId: string; reason: string }): FieldViolationInfo[] {
  return violationsOf(
    () => checkInboxId(req.reviewerId, "reviewer_id"),
    () => checkReason(req.reason),
  );
}

/** What is wrong with an operator's removal of a review (RemoveReview), every field at once. */
export function removeReviewViolations(req: {
  operatorId: string;
  templateId: string;
  reviewerId: string;
  reason: string;
}): FieldViolationInfo[] {
  return violationsOf(
    () => checkInboxId(req.operatorId, "operator_id"),
    () => checkTemplateId(req.templateId),
    () => checkInboxId(req.reviewerId, "reviewer_id"),
    () => checkReason(req.reason),
  );
}

/** What the claims service says of the rater: since when they hold a live agent of it, on its clock. */
export interface Ownership {
  since: Date | undefined;
  now: Date;
}

/** PERMISSION_DENIED about one field, with a BadRequest detail as INVALID_ARGUMENT has. */
function deniedOn(field: string, description: string): ConnectError {
  return errorOn(Code.PermissionDenied, field, description);
}

export type Eligibility = { ok: true } | { ok: false; error: ConnectError; reason: string; canRateFrom?: Date };

/** Whether `raterId` may rate a template of `creatorId`, given what the claims service says. */
export function eligibility(raterId: string, creatorId: string, ownership: Ownership | undefined): Eligibility {
  if (raterId === creatorId) {
    const reason = "you made this template: its creator cannot rate it";
    return { ok: false, reason, error: deniedOn("rater_id", reason) };
  }
  if (!ownership?.since) {
    const reason = "only owners of a live agent of this template rate it: add one to a conversation first";
    return { ok: false, reason, error: deniedOn("rater_id", reason) };
  }
  const from = new Date(ownership.since.getTime() + MIN_OWNERSHIP_SECONDS * 1000);
  if (ownership.now < from) {
    const reason = `owners rate after a day with their agent: you may rate from ${from.toISOString()}`;
    return { ok: false, reason, canRateFrom: from, error: failedPreconditionOn("rater_id", reason) };
  }
  return { ok: true };
}

const COUNT_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
const inWords = (n: number) => COUNT_WORDS[n] ?? String(n);

/**
 * Whether an owner whom `eligibility` lets through may rate, given what the
 * lineage service says: on how many days their agent of the template
 * answered at least two people besides them (OwnerActivityService).
 * FAILED_PRECONDITION on `rater_id` below MIN_DAYS_ANSWERING_OTHERS, as for
 * an owner of less than a day: use, not a permission, is what is missing.
 */
export function usedWithOthers(daysAnsweringOthers: number): Eligibility {
  if (daysAnsweringOthers >= MIN_DAYS_ANSWERING_OTHERS) return { ok: true };
  const has = daysAnsweringOthers === 0 ? "has not yet" : `has on ${inWords(daysAnsweringOthers)}`;
  const reason = `owners rate once their agent has answered at least two other people on ${inWords(MIN_DAYS_ANSWERING_OTHERS)} days; yours ${has}`;
  return { ok: false, reason, error: failedPreconditionOn("rater_id", reason) };
}
