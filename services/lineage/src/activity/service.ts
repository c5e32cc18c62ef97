// OwnerActivityService (rating_service.proto; internal, the templates
// service's): on how many days an owner's agent of a template answered at
// least two people besides its owner, before the owner rates it
// (docs/store.md, "Ratings"). The answer is lineage's own: the agents'
// signed day counts (docs/signals.md) and whose each agent is, from the
// claims feed; the caller's word counts for nothing. Counts only: no day,
// agent or person is named in the answer.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  GetOwnerActivityResponseSchema,
  type OwnerActivityService,
} from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { INBOX_ID_PATTERN, TEMPLATE_ID_PATTERN, invalidArgument } from "@convos-pool/kit/content";
import { ownerDaysWithOthers } from "./sql.js";

export function createOwnerActivityService(em: EntityManager): ServiceImpl<typeof OwnerActivityService> {
  return {
    async getOwnerActivity(req) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
      if (!INBOX_ID_PATTERN.test(req.ownerId)) throw invalidArgument("owner_id", "must be an XMTP inbox ID");
      return create(GetOwnerActivityResponseSchema, {
        daysAnsweringOthers: await ownerDaysWithOthers(em.fork(), req.templateId, req.ownerId),
      });
    },
  };
}
