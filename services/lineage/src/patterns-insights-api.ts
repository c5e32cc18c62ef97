// PatternInsightsService: people's view of the pattern pool, through the
// gateway (docs/patterns.md). The pool's health is anyone's to read (counts
// only); a template's patterns are its creator's, and anyone else is told the
// template does not exist, exactly as a missing one.
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { type PatternInsightsService } from "@convos-pool/gen/convos/pool/v1/pattern_pool_service_pb.js";
import {
  TEMPLATE_ID_PATTERN,
  callerInboxId,
  invalidArgument,
  notFound,
  pageSize,
  unauthenticated,
} from "@convos-pool/kit";
import { poolHealth, refusalCounts, templatePatterns } from "./patterns-queries.js";
import type { TemplateLookup } from "./service.js";

export interface PatternInsightsDeps {
  em: EntityManager;
  templates: TemplateLookup;
}

export function createPatternInsightsService(deps: PatternInsightsDeps): ServiceImpl<typeof PatternInsightsService> {
  return {
    async getPatternPoolHealth() {
      const em = deps.em.fork();
      const [health, refusals] = await Promise.all([poolHealth(em), refusalCounts(em.fork())]);
      return {
        liveCount: health.live,
        expiredCount: health.expired,
        refusedCount: refusals.reduce((sum, r) => sum + r.count, 0n),
        refusals,
        adoptionCount: health.adoptions,
      };
    },

    async listTemplatePatterns(req, ctx) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId))
        throw invalidArgument("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
      const limit = pageSize(req.pageSize);
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to read your template's patterns");
      const template = await deps.templates.get(req.templateId);
      if (!template || template.creatorId !== caller) throw notFound(`template ${req.templateId}`);
      const em = deps.em.fork();
      const [page, refusals] = await Promise.all([
        templatePatterns(em, template.id, { includeExpired: req.includeExpired, limit, pageToken: req.pageToken }),
        refusalCounts(em.fork(), template.id),
      ]);
      return { patterns: page.patterns, nextPageToken: page.nextPageToken, refusals };
    },
  };
}
