/**
 * TemplateSyncService (internal: the template service's outbox calls it).
 * Stores the release if it is newer than the one held and, in the same
 * transaction, makes the template's live unpinned instances below it due;
 * then wakes the fan-out. The pool is a courier: it passes the release on
 * unchanged and each instance checks the creator's signature itself.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { SignedTemplateSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import type { Logger } from "@convos-pool/kit/server";
import { describeRelease } from "../templates/release.js";
import { checkPush } from "./policy.js";
import { countBehind, markTemplateDue, storeRelease } from "./sql.js";
import type { SyncWorker } from "./worker.js";

export interface TemplateSyncServiceDeps {
  em: EntityManager;
  sync: Pick<SyncWorker, "kick" | "offer">;
  log: Logger;
}

export function createTemplateSyncService(deps: TemplateSyncServiceDeps): ServiceImpl<typeof TemplateSyncService> {
  return {
    async pushTemplateVersion(req) {
      const { release: t, bases } = checkPush(req);
      const release = describeRelease(t, bases);
      const out = await deps.em.fork().transactional(async (tx) => {
        const { held, stored } = await storeRelease(tx, {
          templateId: t.templateId,
          key: release.key,
          release: toBinary(SignedTemplateSchema, t),
          bases: bases.map((b) => toBinary(SignedTemplateSchema, b)),
          defaultModel: release.defaultModel,
        });
        const instances = stored
          ? await markTemplateDue(tx, t.templateId, held)
          : await countBehind(tx, t.templateId, held);
        return { held, stored, instances };
      });
      if (out.stored) deps.sync.offer(release);
      deps.sync.kick();
      deps.log.info("template release received", {
        templateId: t.templateId,
        version: release.key.join("."),
        held: out.held.join("."),
        instances: out.instances,
      });
      return { version: BigInt(out.held[0]), instances: out.instances };
    },
  };
}
