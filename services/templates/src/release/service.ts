// TemplateReleaseService (internal): a template with its content version as
// the creator signed it, whatever its visibility. The claims service decides
// who may instantiate it; the agent checks the signature.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { TemplateDelistingSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateReleaseService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { notFound } from "@convos-pool/kit/content";
import { releaseWithBases } from "./bases.js";
import { checkTemplateId } from "../catalog/checks.js";
import { servedVersion } from "../catalog/rollout.js";
import { delistingsOf } from "../catalog/standing.js";
import { withStandings } from "../ratings/sql.js";
import { TemplateRow } from "../db/entities.js";
import { rowToProto } from "../catalog/proto.js";
import { grantFor } from "../catalog/grants.js";
import { DEFAULT_SERVED_MODELS } from "../models/policy.js";

/**
 * Versions never change once written, so the release read after the row is that row's.
 * `models`: what the pool serves (POOL_MODELS), for the claim to check an owner's choice against.
 */
export function createTemplateReleaseService(
  em: EntityManager,
  models: readonly string[] = DEFAULT_SERVED_MODELS,
): ServiceImpl<typeof TemplateReleaseService> {
  return {
    async getTemplateRelease(req) {
      checkTemplateId(req.templateId);
      const row = await em.fork().findOne(TemplateRow, { id: req.templateId });
      // A new agent starts on the current version while a rollout runs: the claims service moves it if its
      // conversation is in the share (docs/rollouts.md).
      const release = row && (await releaseWithBases(em.fork(), row.id, await servedVersion(em.fork(), row)));
      if (!row || !release) throw notFound(`template ${req.templateId}`);
      // With its delisting: the claims service refuses new agents of a delisted template,
      // and of one built on a delisted base (its agents would run the base's instructions).
      const template = rowToProto(row);
      await withStandings(em.fork(), [template]);
      if (!template.delisting && release.bases.length > 0) {
        const delisted = await delistingsOf(
          em.fork(),
          release.bases.map((b) => b.templateId),
        );
        const [baseId, d] = [...delisted][0] ?? [];
        if (d)
          template.delisting = create(TemplateDelistingSchema, {
            ...d,
            reason: `its base ${baseId} was delisted: ${d.reason}`,
          });
      }
      // What the pool may pay for under it (docs/limits.md): its own grant, else its creator's.
      const toolGrant = await grantFor(em.fork(), row.id, row.creatorId);
      return {
        template,
        release: release.template,
        bases: release.bases,
        ...(toolGrant ? { toolGrant } : {}),
        servedModels: [...models],
      };
    },
  };
}
