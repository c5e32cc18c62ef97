// TemplateStandingService (internal, the claims service's): which templates
// are delisted, so that the owners of their agents see it (docs/store.md).
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { TemplateStandingService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TEMPLATE_ID_PATTERN, invalidArgument } from "@convos-pool/kit/content";
import { delistingsOf } from "../catalog/standing.js";

/** Internal (the claims service): which of these templates are delisted, and why. */
export function createTemplateStandingService(em: EntityManager): ServiceImpl<typeof TemplateStandingService> {
  return {
    async getTemplateStandings(req) {
      if (req.templateIds.length > 100) throw invalidArgument("template_ids", "must be at most 100");
      req.templateIds.forEach((id, i) => {
        if (!TEMPLATE_ID_PATTERN.test(id)) throw invalidArgument(`template_ids[${i}]`, "must be a template id");
      });
      const delisted = await delistingsOf(em.fork(), [...new Set(req.templateIds)]);
      return { standings: [...delisted].map(([templateId, delisting]) => ({ templateId, delisting })) };
    },
  };
}
