// Owners of agents see that a template was delisted from the store, and why
// (docs/store.md): the templates service knows (TemplateStandingService); the
// claims service asks it for the templates of the agents it lists.
import { create } from "@bufbuild/protobuf";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { TemplateStandingService } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { TemplateDelistingSchema, type TemplateDelisting } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { Logger, ServiceClient } from "@convos-pool/kit/server";

/** The delistings among these templates; empty when the templates service cannot say. */
export type TemplateStandings = (templateIds: string[]) => Promise<Map<string, TemplateDelisting>>;

/**
 * Over gRPC. Best effort: a listing of agents still answers when the
 * templates service is away, without the delistings (logged).
 */
export function grpcTemplateStandings(
  client: ServiceClient<typeof TemplateStandingService>["client"],
  log: Logger,
  timeoutMs = 5_000,
): TemplateStandings {
  return async (templateIds) => {
    const ids = [...new Set(templateIds.filter(Boolean))];
    if (ids.length === 0) return new Map();
    try {
      const res = await client.getTemplateStandings({ templateIds: ids }, { timeoutMs });
      return new Map(res.standings.flatMap((s) => (s.delisting ? [[s.templateId, s.delisting] as const] : [])));
    } catch (err) {
      log.warn("template delistings not read: agents listed without them", { err });
      return new Map();
    }
  };
}

/** Marks each agent whose template is delisted: its reason and when, not the operators' review. */
export async function withTemplateDelistings(
  standings: TemplateStandings | undefined,
  instances: Instance[],
): Promise<Instance[]> {
  if (!standings) return instances;
  const delisted = await standings(instances.map((i) => i.templateId));
  for (const i of instances) {
    const d = delisted.get(i.templateId);
    if (d)
      i.templateDelisting = create(TemplateDelistingSchema, {
        reason: d.reason,
        ...(d.delistedAt ? { delistedAt: d.delistedAt } : {}),
      });
  }
  return instances;
}
