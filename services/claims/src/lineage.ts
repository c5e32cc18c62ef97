// LineageService, served by the claims service for now: it owns the instance
// table the answers come from. Lineage gets its own service later (clone
// edges); until then GetLineage is UNIMPLEMENTED and ListTemplateInstances,
// the creator's dashboard data (seed 000, C7), is answered here.

import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { LineageService } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { callerInboxId, notFound, pageSize, permissionDenied, unauthenticated } from "@convos-pool/kit";
import { visibleTo, type TemplateSource } from "./claim-flow.js";
import { instanceToProto, listTemplateInstances } from "./queries.js";

export interface LineageServiceDeps {
  em: EntityManager;
  /** TemplateReleaseService (grpcTemplateSource). */
  templates: TemplateSource;
}

export function createLineageService(deps: LineageServiceDeps): ServiceImpl<typeof LineageService> {
  return {
    async getLineage() {
      throw new ConnectError(
        "GetLineage comes with clone with context (instance sharing) and is not implemented yet; ListTemplateInstances is",
        Code.Unimplemented,
      );
    },

    /**
     * The template's creator only. A private (or archived) template of
     * someone else is NOT_FOUND, exactly as a missing one; a public template
     * is visible to anyone, so a caller who is not its creator is told
     * PERMISSION_DENIED.
     */
    async listTemplateInstances(req, ctx) {
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to list the instances of your template");
      const limit = pageSize(req.pageSize);
      const { template } = await deps.templates.getTemplate(req.templateId);
      if (!visibleTo(template, caller)) throw notFound(`template ${req.templateId}`);
      if (template.creatorId !== caller) throw permissionDenied("only the template's creator lists its instances");
      const page = await listTemplateInstances(deps.em.fork(), template.id, {
        liveOnly: req.liveOnly,
        limit,
        pageToken: req.pageToken,
      });
      return {
        instances: page.instances.map(instanceToProto),
        totalCount: BigInt(page.totalCount),
        nextPageToken: page.nextPageToken,
      };
    },
  };
}
