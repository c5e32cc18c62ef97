// TemplateRatingService (docs/store.md, "Ratings"), and the operators' part
// of it in StoreCurationService (reported reviews, removal). Every signed
// act is checked before anything is spent, then under the template row's
// lock its nonce is spent and its change written in one transaction; a
// removal is also logged in the curation log there. Whether the rater owns
// an agent of the template, and for how long, is the claims service's
// answer (ownership.ts); on how many days their agent answered other people
// the lineage service's (activity.ts); never the request's.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { TemplateRatingService } from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import type { StoreCurationService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import {
  alreadyExists,
  failedPrecondition,
  nonceUsed,
  notFound,
  permissionDenied,
  refuseViolations,
  unauthenticated,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize } from "@convos-pool/kit/server";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import { checkTemplateId } from "../catalog/checks.js";
import { signedTemplateActs } from "../catalog/act.js";
import { TemplateRow } from "../db/entities.js";
import { visibleTemplate } from "../catalog/visible.js";
import type { ActivitySource } from "./activity.js";
import type { OwnershipSource } from "./ownership.js";
import {
  answerViolations,
  eligibility,
  rateViolations,
  removeReviewViolations,
  reportReviewViolations,
  usedWithOthers,
  type Eligibility,
  type Ownership,
} from "./policy.js";
import {
  fileReviewReport,
  listReportedReviews,
  listShownReviews,
  putAnswer,
  putRating,
  ratingOf,
  removeReview,
  reviewToProto,
  templateRatings,
} from "./sql.js";

export interface RatingDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  /** The operators' inbox ids (POOL_OPERATORS). */
  operators: ReadonlySet<string>;
  /** The claims service; absent: nobody can rate (UNAVAILABLE), everything else works. */
  ownership: OwnershipSource | undefined;
  /** The lineage service; absent: no owner can rate (UNAVAILABLE), everything else works. */
  activity: ActivitySource | undefined;
  now?: () => Date;
}

type ReviewCuration = Pick<ServiceImpl<typeof StoreCurationService>, "listReviewReports" | "removeReview">;

export function createRatingServices(deps: RatingDeps): {
  ratings: ServiceImpl<typeof TemplateRatingService>;
  curation: ReviewCuration;
} {
  const now = deps.now ?? (() => new Date());

  async function ownershipOf(templateId: string, inboxId: string): Promise<Ownership> {
    if (!deps.ownership)
      throw new ConnectError("ratings are off: no claims service configured (CLAIMS_URL)", Code.Unavailable);
    return deps.ownership.ownership(templateId, inboxId);
  }

  /**
   * Whether `raterId` may rate a template of `creatorId` now (policy.ts): the
   * claims service is asked first; the lineage service only for an owner
   * whom the claims service's answer lets through, so that the first rule
   * unmet is the one said.
   */
  async function mayRate(templateId: string, raterId: string, creatorId: string): Promise<Eligibility> {
    if (raterId === creatorId) return eligibility(raterId, creatorId, undefined);
    const held = eligibility(raterId, creatorId, await ownershipOf(templateId, raterId));
    if (!held.ok) return held;
    if (!deps.activity)
      throw new ConnectError("ratings are off: no lineage service configured (LINEAGE_URL)", Code.Unavailable);
    return usedWithOthers(await deps.activity.daysAnsweringOthers(templateId, raterId));
  }

  /** A signed act on a template's ratings (catalog/act.ts); an operator's removal is kept in the curation log. */
  const signedWrite = signedTemplateActs(
    { em: deps.em, verifier: deps.verifier, now },
    (action) => action === "RemoveTemplateReview",
  );

  const ratings: ServiceImpl<typeof TemplateRatingService> = {
    async rateTemplate(req) {
      refuseViolations(rateViolations(req));
      const { stars, review } = req;
      // What the rater can see: a template out of the store takes no ratings.
      const template = await visibleTemplate(deps.em.fork(), deps.operators, req.templateId, req.raterId);
      const fields = { stars, review };
      const verified = await deps.verifier.verify(
        "RateTemplate",
        { inboxId: req.raterId, templateId: template.id, ...fields },
        req.signature,
      );
      // Only once the signer is proven: what the claims and lineage services know of them.
      const ok = await mayRate(template.id, req.raterId, template.creatorId);
      if (!ok.ok) throw ok.error;
      const out = await deps.em.fork().transactional(async (tx) => {
        const row = await tx.findOne(TemplateRow, { id: template.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!row) throw notFound(`template ${template.id}`);
        if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: req.raterId, purpose: "RateTemplate" })))
          throw nonceUsed("signature.nonce");
        return putRating(tx, { templateId: row.id, reviewerId: req.raterId, stars, review, at: now() });
      });
      return { review: reviewToProto(out.rating, true), ratings: out.ratings };
    },

    async listReviews(req, ctx) {
      const em = deps.em.fork();
      const template = await visibleTemplate(em, deps.operators, req.templateId, callerInboxId(ctx));
      const page = await listShownReviews(em, {
        templateId: template.id,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
      return { ...page, ratings: await templateRatings(em, template.id) };
    },

    async getMyRating(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to see your rating");
      const em = deps.em.fork();
      const template = await visibleTemplate(em, deps.operators, req.templateId, caller);
      const mine = await ratingOf(em, template.id, caller);
      const ok = await mayRate(template.id, caller, template.creatorId);
      return {
        ...(mine ? { review: reviewToProto(mine, true) } : {}),
        canRate: ok.ok,
        reason: ok.ok ? "" : ok.reason,
        ...(!ok.ok && ok.canRateFrom ? { canRateFrom: timestampFromDate(ok.canRateFrom) } : {}),
      };
    },

    async answerReview(req) {
      refuseViolations(answerViolations(req));
      const { answer } = req;
      const template = await visibleTemplate(deps.em.fork(), deps.operators, req.templateId, req.creatorId);
      if (template.creatorId !== req.creatorId)
        throw permissionDenied("creator_id: only the template's creator answers its reviews");
      const row = await signedWrite(
        req.creatorId,
        template.id,
        "AnswerTemplateReview",
        { reviewerId: req.reviewerId, answer },
        req.signature,
        async (tx, _t, at) => {
          await shownReview(tx, template.id, req.reviewerId);
          const answered = await putAnswer(tx, { templateId: template.id, reviewerId: req.reviewerId, answer, at });
          if (!answered) throw alreadyExists("you answered this review already: a review is answered once");
          return answered;
        },
      );
      return { review: reviewToProto(row) };
    },

    async reportReview(req, ctx) {
      const reporter = callerInboxId(ctx);
      if (reporter === undefined) throw unauthenticated("sign in to report a review");
      refuseViolations(reportReviewViolations(req));
      const reason = req.reason.trim();
      const em = deps.em.fork();
      const template = await visibleTemplate(em, deps.operators, req.templateId, reporter);
      await shownReview(em, template.id, req.reviewerId);
      const filed = await fileReviewReport(em, {
        templateId: template.id,
        reviewerId: req.reviewerId,
        reporterId: reporter,
        reason,
        at: now(),
      });
      if (!filed) throw alreadyExists("you reported this review already");
      return {};
    },
  };

  const curation: ReviewCuration = {
    async listReviewReports(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in: this is for the pool's operators");
      if (!deps.operators.has(caller)) throw permissionDenied("only the pool's operators (POOL_OPERATORS) may do this");
      if (req.templateId) checkTemplateId(req.templateId);
      return listReportedReviews(deps.em.fork(), {
        templateId: req.templateId,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
    },

    async removeReview(req) {
      refuseViolations(removeReviewViolations(req));
      const reason = req.reason.trim();
      if (!deps.operators.has(req.operatorId))
        throw permissionDenied(`operator_id: ${req.operatorId} is not one of the pool's operators`);
      const row = await signedWrite(
        req.operatorId,
        req.templateId,
        "RemoveTemplateReview",
        { reviewerId: req.reviewerId, reason },
        req.signature,
        async (tx, t, at) => {
          const review = await ratingOf(tx, t.id, req.reviewerId);
          if (!review) throw notFound(`review of template ${t.id} by ${req.reviewerId}`);
          const removed = await removeReview(tx, {
            templateId: t.id,
            reviewerId: req.reviewerId,
            operatorId: req.operatorId,
            at,
          });
          if (!removed) throw failedPrecondition("that review was removed already");
          return removed;
        },
      );
      return { review: reviewToProto(row, true) };
    },
  };
  return { ratings, curation };
}

/** The review as the store shows it (written, not removed): what may be answered or reported; else NOT_FOUND. */
async function shownReview(em: EntityManager, templateId: string, reviewerId: string) {
  const review = await ratingOf(em, templateId, reviewerId);
  if (!review || review.removed_at !== null || review.review === "")
    throw notFound(`review of template ${templateId} by ${reviewerId}`);
  return review;
}
