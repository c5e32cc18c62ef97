/**
 * TemplateSyncService (internal: the template service's outbox calls it).
 * Stores the release if it is newer than the one held and, in the same
 * transaction, makes the template's live unpinned instances below it due;
 * then wakes the fan-out. The pool is a courier: it passes the release on
 * unchanged and each instance checks the creator's signature itself.
 *
 * A push with a rollout (docs/claims.md, "Staged rollouts") keeps its
 * release beside the held one, as the template's rollout's candidate, and
 * makes due only the instances in its share; the creator's signature of the
 * step is checked here, since the share is the pool's to apply. A push
 * without one, at the candidate's version or later, ends the rollout.
 */
import { toBinary } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { SignedTemplateSchema, type SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { RolloutPush, TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { compareReleaseKeys } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { SignatureVerifier } from "@convos-pool/kit/signing";
import { describeRelease, type Release } from "../templates/release.js";
import { checkPush, checkRollout, rolloutStepFields } from "./policy.js";
import { countBehind, endRollout, lockHeld, markTemplateDue, rolloutOf, storeRelease, storeRollout } from "./sql.js";
import type { SyncWorker } from "./worker.js";

export interface TemplateSyncServiceDeps {
  em: EntityManager;
  sync: Pick<SyncWorker, "kick" | "offer">;
  /** Checks a rollout step's creator signature (any age: pushes repeat; no nonce: the step orders them). */
  verifier: Pick<SignatureVerifier, "verify">;
  log: Logger;
}

export function createTemplateSyncService(deps: TemplateSyncServiceDeps): ServiceImpl<typeof TemplateSyncService> {
  return {
    async pushTemplateVersion(req) {
      const { release: t, bases } = checkPush(req);
      const release = describeRelease(t, bases);
      if (req.rollout) return pushRollout(deps, t, release, req.rollout);
      const out = await deps.em.fork().transactional(async (tx) => {
        const { held, stored } = await storeRelease(tx, {
          templateId: t.templateId,
          key: release.key,
          release: toBinary(SignedTemplateSchema, t),
          bases: bases.map((b) => toBinary(SignedTemplateSchema, b)),
          defaultModel: release.defaultModel,
        });
        // A promotion, a roll back or a later update: everyone follows the held release again.
        const ended = await endRollout(tx, t.templateId, Number(t.version));
        const instances =
          stored || ended ? await markTemplateDue(tx, t.templateId) : await countBehind(tx, t.templateId);
        return { held, stored, ended, instances };
      });
      if (out.stored) deps.sync.offer(release);
      deps.sync.kick();
      deps.log.info("template release received", {
        templateId: t.templateId,
        version: release.key.join("."),
        held: out.held.join("."),
        instances: out.instances,
        ...(out.ended ? { rolloutEnded: true } : {}),
      });
      return { version: BigInt(out.held[0]), instances: out.instances };
    },
  };
}

/**
 * A rollout's candidate with its step: checked and its signature verified
 * (nothing written before), then kept unless the held release is as new
 * (the rollout ended meanwhile) or the step is not later than the one kept;
 * the instances in the share behind it made due. Answers the newest version
 * held (the candidate while kept) and how many in the share are behind it.
 */
async function pushRollout(
  deps: TemplateSyncServiceDeps,
  t: SignedTemplate,
  release: Release,
  push: RolloutPush,
): Promise<{ version: bigint; instances: number }> {
  const r = checkRollout(push);
  await deps.verifier.verify("RolloutStep", rolloutStepFields(t, r), r.stepSignature, "rollout.step_signature", {
    anyAge: true,
  });
  const out = await deps.em.fork().transactional(async (tx) => {
    // Locked first, as a push of a release is: a claim completing meanwhile waits, then sees the rollout (completeClaims).
    const held = await lockHeld(tx, t.templateId);
    const current = !held || compareReleaseKeys(release.key, held) > 0;
    const stored =
      current &&
      (await storeRollout(tx, {
        templateId: t.templateId,
        rolloutId: r.rolloutId,
        key: release.key,
        release: toBinary(SignedTemplateSchema, t),
        bases: release.bases.map((b) => toBinary(SignedTemplateSchema, b)),
        defaultModel: release.defaultModel,
        baselineVersion: Number(r.baselineVersion),
        shareBasisPoints: r.shareBasisPoints,
        paused: r.paused,
        step: r.step,
        action: r.action,
        boundsHash: r.boundsHash,
        stepSignature: {
          signature: r.stepSignature.signature,
          issuedAt: String(r.stepSignature.issuedAt),
          nonce: r.stepSignature.nonce,
        },
      }));
    const kept = await rolloutOf(tx, t.templateId);
    const instances = stored
      ? await markTemplateDue(tx, t.templateId, { inShare: true })
      : await countBehind(tx, t.templateId, { inShare: true });
    return { held, stored, kept, instances };
  });
  if (out.stored) deps.sync.offer(release, { rollout: true });
  deps.sync.kick();
  deps.log.info("template rollout received", {
    templateId: t.templateId,
    rolloutId: r.rolloutId,
    version: release.key.join("."),
    step: r.step,
    shareBasisPoints: r.shareBasisPoints,
    paused: r.paused,
    stored: out.stored,
    instances: out.instances,
  });
  const newest = Math.max(out.kept?.version ?? 0, out.held?.[0] ?? 0);
  return { version: BigInt(newest), instances: out.instances };
}
