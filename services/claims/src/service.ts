import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { INBOX_ID_PATTERN, callerHeaders, callerInboxId, invalidArgument, notFound, pageSize, permissionDenied, unauthenticated, type ServiceClient } from "@convos-pool/kit";
import type { ClaimFlow, TemplateSource } from "./claim-flow.js";
import { getInstance, instanceToProto, listOwnerAgents } from "./queries.js";

export interface ClaimServiceDeps {
  em: EntityManager;
  flow: ClaimFlow;
}

export function createClaimService(deps: ClaimServiceDeps): ServiceImpl<typeof ClaimService> {
  return {
    async claim(req, ctx) {
      return deps.flow.claim(req, callerInboxId(ctx));
    },

    async listOwnerAgents(req, ctx) {
      if (!INBOX_ID_PATTERN.test(req.ownerId)) throw invalidArgument("owner_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
      // "My agents" is private data: only its owner, signed in, lists it.
      const caller = callerInboxId(ctx);
      if (caller === undefined) throw unauthenticated("sign in to list your agents");
      if (caller !== req.ownerId) throw permissionDenied("only the owner lists their agents");
      const page = await listOwnerAgents(deps.em.fork(), req.ownerId, { limit: pageSize(req.pageSize), pageToken: req.pageToken });
      return { instances: page.instances.map(instanceToProto), nextPageToken: page.nextPageToken };
    },

    async getInstance(req, ctx) {
      const instance = await getInstance(deps.em.fork(), req.instanceId);
      // Its owner's only: anyone else is told it does not exist (as for private templates).
      if (!instance || instance.ownerId === null || instance.ownerId !== callerInboxId(ctx)) throw notFound(`instance ${req.instanceId}`);
      return { instance: instanceToProto(instance) };
    },

    async setInstancePin() {
      throw new ConnectError("SetInstancePin comes with instruction sync and is not implemented yet", Code.Unimplemented);
    },
  };
}

/** TemplateSource over gRPC: TemplateService.GetTemplate as the requester (`x-pool-caller`). */
export function grpcTemplateSource(client: ServiceClient<typeof TemplateService>["client"], timeoutMs = 10_000): TemplateSource {
  return {
    async getTemplate(templateId: string, requester: string): Promise<Template> {
      let res;
      try {
        res = await client.getTemplate({ templateId }, { headers: callerHeaders(requester), timeoutMs });
      } catch (err) {
        const e = ConnectError.from(err);
        // NOT_FOUND (missing, or private and not the requester's) and bad ids are the requester's to know.
        if (e.code === Code.NotFound || e.code === Code.InvalidArgument) throw e;
        throw new ConnectError(`the template service did not answer (${e.rawMessage}); try again`, Code.Unavailable);
      }
      if (!res.template) throw notFound(`template ${templateId}`);
      return res.template;
    },
  };
}
