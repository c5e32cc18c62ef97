// TemplateOwnershipService (internal, the templates service's): since when an
// inbox has held a live agent of a template, for ratings in the store
// (docs/store.md, "Ratings"). The claims service owns agents and their
// owners, so the answer is its own, on its own clock; the caller's word
// about ownership or time counts for nothing.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  GetTemplateOwnershipResponseSchema,
  type TemplateOwnershipService,
} from "@convos-pool/gen/convos/pool/v1/rating_service_pb.js";
import { INBOX_ID_PATTERN, invalidArgument, TEMPLATE_ID_PATTERN } from "@convos-pool/kit/content";

/**
 * The earliest start among the owner's live (claimed) agents of the template:
 * each agent's start is its claim or the acceptance of its transfer to this
 * owner (`owner_since`, set by the database when the owner changes), never
 * before its claim completed. A removed, dead or crashed agent does not count.
 */
export async function ownedSince(
  em: EntityManager,
  templateId: string,
  ownerId: string,
): Promise<{ since: Date | undefined; now: Date }> {
  const [row] = await em.execute<{ since: Date | string | null; now: Date | string }[]>(
    `select min(greatest(owner_since, claimed_at)) as since, now() as now
       from instances where owner_id = ? and template_id = ? and state = 'claimed'`,
    [ownerId, templateId],
  );
  return { since: row?.since ? new Date(row.since) : undefined, now: new Date(row?.now ?? Date.now()) };
}

export function createTemplateOwnershipService(em: EntityManager): ServiceImpl<typeof TemplateOwnershipService> {
  return {
    async getTemplateOwnership(req) {
      if (!TEMPLATE_ID_PATTERN.test(req.templateId)) throw invalidArgument("template_id", "must be a template id");
      if (!INBOX_ID_PATTERN.test(req.ownerId)) throw invalidArgument("owner_id", "must be an XMTP inbox ID");
      const { since, now } = await ownedSince(em.fork(), req.templateId, req.ownerId);
      return create(GetTemplateOwnershipResponseSchema, {
        ...(since ? { ownedSince: timestampFromDate(since) } : {}),
        now: timestampFromDate(now),
      });
    },
  };
}
