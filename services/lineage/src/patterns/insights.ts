// PatternInsightsService: people's view of the pattern pool, through the
// gateway (docs/patterns.md). The pool's health is anyone's to read (counts
// only); a template's patterns, its hold and the decisions on lessons are its
// creator's, and anyone else is told the template does not exist, exactly as
// a missing one. The hold and each decision are signed by the creator
// (SetPatternHold, ReviewPattern), checked here, their nonces spent in the
// transaction that records them.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  HeldPatternSchema,
  PatternDecision,
  type PatternInsightsService,
} from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { create } from "@bufbuild/protobuf";
import { nonceUsed, notFound, refuseViolations, unauthenticated } from "@convos-pool/kit/content";
import { callerInboxId, pageSize, type Logger } from "@convos-pool/kit/server";
import type { OperationFields, SignatureVerifier, SignedOperation, VerifiedSignature } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import {
  DEFAULT_MIN_SIMILARITY,
  checkTemplateId,
  reviewPatternViolations,
  interestSimilarity,
  interestsOf,
  reviewPageSize,
  type Quorum,
} from "./policy.js";
import {
  holdOf,
  patternToProto,
  poolHealth,
  refusalCounts,
  reviewCandidates,
  reviewPattern,
  setHold,
  templatePatterns,
} from "./sql.js";
import type { TemplateLookup } from "../lineage/service.js";

export interface PatternInsightsDeps {
  em: EntityManager;
  templates: TemplateLookup;
  verifier: SignatureVerifier;
  quorum: Quorum;
  log: Logger;
}

export function createPatternInsightsService(deps: PatternInsightsDeps): ServiceImpl<typeof PatternInsightsService> {
  /** The template, for its creator signed in; anyone else NOT_FOUND, as for a missing one. */
  async function creatorsTemplate(templateId: string, ctx: HandlerContext, what: string): Promise<Template> {
    checkTemplateId(templateId);
    const caller = callerInboxId(ctx);
    if (caller === undefined) throw unauthenticated(`sign in to ${what}`);
    const template = await deps.templates.get(templateId);
    if (!template || template.creatorId !== caller) throw notFound(`template ${templateId}`);
    return template;
  }

  /**
   * A creator's signed change: the signature must be the template's
   * creator's over exactly these fields (else NOT_FOUND, as for anyone
   * else), its nonce spent with the change.
   */
  async function signedByCreator(
    template: Template,
    operation: SignedOperation,
    fields: OperationFields,
    signature: Signature | undefined,
    change: (em: EntityManager, signature: Signature) => Promise<void>,
  ): Promise<void> {
    const inboxId = template.creatorId;
    let verified: VerifiedSignature;
    try {
      verified = await deps.verifier.verify(operation, { inboxId, templateId: template.id, ...fields }, signature);
    } catch (err) {
      if (ConnectError.from(err).code === Code.PermissionDenied) throw notFound(`template ${template.id}`);
      throw err;
    }
    await deps.em.fork().transactional(async (tx) => {
      if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId, purpose: operation })))
        throw nonceUsed("signature.nonce");
      await change(tx, verified.signature);
    });
  }

  return {
    async getPatternPoolHealth() {
      const em = deps.em.fork();
      const [health, refusals] = await Promise.all([poolHealth(em, deps.quorum), refusalCounts(em.fork())]);
      return {
        liveCount: health.live,
        expiredCount: health.expired,
        refusedCount: refusals.reduce((sum, r) => sum + r.count, 0n),
        refusals,
        adoptionCount: health.adoptions,
        quorumOwners: deps.quorum.owners,
        quorumTemplates: deps.quorum.templates,
        quorumCount: health.withQuorum,
      };
    },

    async listTemplatePatterns(req, ctx) {
      checkTemplateId(req.templateId);
      const limit = pageSize(req.pageSize);
      const template = await creatorsTemplate(req.templateId, ctx, "read your template's patterns");
      const em = deps.em.fork();
      const [page, refusals, hold] = await Promise.all([
        templatePatterns(em, template.id, {
          includeExpired: req.includeExpired,
          limit,
          pageToken: req.pageToken,
          quorum: deps.quorum,
        }),
        refusalCounts(em.fork(), template.id),
        holdOf(em.fork(), template.id),
      ]);
      return { patterns: page.patterns, nextPageToken: page.nextPageToken, refusals, hold };
    },

    async setPatternHold(req, ctx) {
      const template = await creatorsTemplate(req.templateId, ctx, "hold your template's lessons");
      await signedByCreator(template, "SetPatternHold", { hold: req.hold }, req.signature, (tx, signature) =>
        setHold(tx, {
          templateId: template.id,
          hold: req.hold,
          creatorId: template.creatorId,
          signature,
        }),
      );
      deps.log.info("pattern hold set", { templateId: template.id, hold: req.hold });
      return { hold: req.hold };
    },

    async listHeldPatterns(req, ctx) {
      checkTemplateId(req.templateId);
      const limit = reviewPageSize(req.pageSize);
      const template = await creatorsTemplate(req.templateId, ctx, "review your template's lessons");
      const interests = interestsOf(template);
      const em = deps.em.fork();
      const [hold, candidates] = await Promise.all([
        holdOf(em, template.id),
        reviewCandidates(em.fork(), template.id, interests, deps.quorum),
      ]);
      const patterns = candidates
        .filter((c) => req.includeDecided || c.decision === PatternDecision.UNSPECIFIED)
        .map((c) => ({ ...c, similarity: interestSimilarity(interests, c.row.interests) }))
        .filter((c) => c.similarity >= DEFAULT_MIN_SIMILARITY)
        .sort((a, b) => b.similarity - a.similarity || a.row.pattern_id.localeCompare(b.row.pattern_id))
        .slice(0, limit)
        .map((c) =>
          create(HeldPatternSchema, {
            pattern: patternToProto(c.row, deps.quorum, c.similarity),
            decision: c.decision,
          }),
        );
      return { hold, patterns };
    },

    async reviewPattern(req, ctx) {
      refuseViolations(reviewPatternViolations(req));
      const template = await creatorsTemplate(req.templateId, ctx, "review your template's lessons");
      const approve = req.decision === PatternDecision.APPROVED;
      await signedByCreator(
        template,
        "ReviewPattern",
        { patternId: req.patternId, approve },
        req.signature,
        async (tx, signature) => {
          const found = await reviewPattern(tx, {
            templateId: template.id,
            patternId: req.patternId,
            approve,
            creatorId: template.creatorId,
            signature,
          });
          // Rolled back with the nonce: the same signed request may be sent again once the id is right.
          if (!found) throw new ConnectError(`pattern_id: no pattern ${req.patternId}`, Code.NotFound);
        },
      );
      deps.log.info("pattern reviewed", { templateId: template.id, patternId: req.patternId, approve });
      return { decision: req.decision };
    },
  };
}
