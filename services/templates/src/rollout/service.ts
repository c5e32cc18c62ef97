// RolloutService's handlers (docs/rollouts.md). A start is an update made
// through mutate() (template/mutate.ts: the same checks, the same content
// version, in the same transaction as the rollout's row) with two more
// signatures of the creator's, each checked and its nonce spent there: the
// fallback (RollbackTemplate from the candidate back to the baseline) and
// the start step (RolloutStep). Every other step is one RolloutStep under
// the template row's lock; ROLL_BACK writes the fallback (fallback.ts). Each
// change enters the sync outbox, so the claims service gets the candidate
// with the rollout as it now stands, or without it once it ended
// (sync/relay.ts). Reads are the creator's, signed in; anyone else NOT_FOUND.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { LockMode } from "@mikro-orm/core";
import { RolloutAction, type RolloutService } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import {
  conflict,
  contentToJson,
  jsonHash,
  notFound,
  refuseViolations,
  requirePresent,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize } from "@convos-pool/kit/server";
import { rolloutBoundsHash } from "@convos-pool/kit/signing";
import { checkExpectedVersion, checkReleaseNotes, checkTemplateId } from "../catalog/checks.js";
import { assignContent, rowContent } from "../catalog/proto.js";
import { signatureJson } from "../catalog/rollout.js";
import { TemplateRow } from "../db/entities.js";
import { enqueueTemplateSync } from "../sync/outbox.js";
import { templatesAbove } from "../release/bases.js";
import { checkNewContent, createTemplateWrites, spendNonce, type TemplateServiceDeps } from "../template/mutate.js";
import { contentAt } from "../template/versions.js";
import { checkWalletRemoval, templatesLosingWallet } from "../template/wallet-removal.js";
import { endWithFallback } from "./fallback.js";
import {
  actionNumber,
  checkBounds,
  checkRolloutId,
  checkStartShare,
  creatorStep,
  planStep,
  startRolloutViolations,
  stepRolloutViolations,
} from "./policy.js";
import { insertRollout, newRolloutId, rolloutOf, rolloutsPage, rolloutToProto, recordStep } from "./sql.js";

export function createRolloutService(deps: TemplateServiceDeps): ServiceImpl<typeof RolloutService> {
  const { mutate, writes, now, checkModelOf, answer } = createTemplateWrites(deps);

  /**
   * The template, if the caller may act on its rollouts: its creator, or a
   * caller with no session (a signed change, whose signature proves the
   * creator). Anyone else signed in is told it is not there.
   */
  async function creatorsTemplate(templateId: string, ctx: HandlerContext, what: string, signedIn: boolean) {
    checkTemplateId(templateId);
    const row = await deps.em.fork().findOne(TemplateRow, { id: templateId });
    const caller = callerInboxId(ctx);
    if (!row || (signedIn ? caller !== row.creatorId : caller !== undefined && caller !== row.creatorId))
      throw notFound(what);
    return row;
  }

  async function rolloutAnswer(templateId: string, rolloutId: string) {
    const r = await rolloutOf(deps.em.fork(), templateId, rolloutId);
    if (!r) throw notFound(`rollout ${rolloutId} of template ${templateId}`);
    return rolloutToProto(r);
  }

  return {
    async startRollout(req, ctx) {
      refuseViolations(startRolloutViolations(req));
      const content = contentToJson(requirePresent("content", req.content));
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      const baselineVersion = checkExpectedVersion(req.expectedVersion);
      const share = checkStartShare(req.shareBasisPoints);
      const bounds = checkBounds(req.bounds);
      const ack = req.acknowledgeWalletRemoval;
      const template = await creatorsTemplate(req.templateId, ctx, `template ${req.templateId}`, false);
      const creatorId = template.creatorId;
      // What the fallback restores: the baseline's content (versions never change once written).
      const baseline = await contentAt(deps.em.fork(), req.templateId, baselineVersion);
      const candidateVersion = baselineVersion + 1;
      const common = { inboxId: creatorId, templateId: req.templateId, version: BigInt(candidateVersion) };
      const fallback = await deps.verifier.verify(
        "RollbackTemplate",
        {
          ...common,
          targetVersion: BigInt(baselineVersion),
          contentHash: jsonHash(baseline),
          acknowledgeWalletRemoval: ack,
        },
        req.fallbackSignature,
        "fallback_signature",
      );
      const started = await deps.verifier.verify(
        "RolloutStep",
        { ...common, action: RolloutAction.START, shareBasisPoints: share, boundsHash: rolloutBoundsHash(bounds) },
        req.stepSignature,
        "step_signature",
      );
      const rolloutId = newRolloutId();
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "UpdateTemplate",
        { contentHash: jsonHash(content), acknowledgeWalletRemoval: ack },
        req.signature,
        async (row, tx) => {
          checkModelOf(row, "content.model", content.model);
          await checkNewContent(tx, row, content, ack);
          // The fallback takes the candidate's wallet away as surely: one acknowledgment covers both ways.
          checkWalletRemoval(await templatesLosingWallet(tx, { id: row.id, content }, rowContent(row)), ack);
          await spendNonce(tx, fallback.nonce, creatorId, "RollbackTemplate", "fallback_signature.nonce");
          await spendNonce(tx, started.nonce, creatorId, "RolloutStep", "step_signature.nonce");
          assignContent(row, content);
          return "update";
        },
        {
          content: { kind: "update", releaseNotes, acknowledgedWalletRemoval: ack },
          alsoWrite: (tx, row, at) =>
            insertRollout(tx, {
              id: rolloutId,
              template_id: row.id,
              baseline_version: baselineVersion,
              candidate_version: row.version,
              fallback: {
                signature: signatureJson(fallback.signature),
                content: baseline,
                content_hash: jsonHash(baseline),
                acknowledge_wallet_removal: ack,
              },
              state: "running",
              share_basis_points: share,
              bounds,
              steps: [
                {
                  action: "start",
                  share_basis_points: share,
                  at: at.toISOString(),
                  signature: signatureJson(started.signature),
                },
              ],
              started_at: at,
            }),
        },
      );
      return { rollout: await rolloutAnswer(row.id, rolloutId), template: await answer(row) };
    },

    async stepRollout(req, ctx) {
      refuseViolations(stepRolloutViolations(req));
      const step = creatorStep(req.action);
      const what = `rollout ${req.rolloutId} of template ${req.templateId}`;
      const template = await creatorsTemplate(req.templateId, ctx, what, false);
      const seen = await rolloutOf(deps.em.fork(), template.id, req.rolloutId);
      if (!seen) throw notFound(what);
      // The share the creator signs: WIDEN's new one, or the current one (policy.ts).
      const planned = planStep(
        { state: seen.state, share: seen.share_basis_points, pausedOn: seen.watch?.paused_on },
        step,
        req.shareBasisPoints,
      );
      const verified = await deps.verifier.verify(
        "RolloutStep",
        {
          inboxId: template.creatorId,
          templateId: template.id,
          version: BigInt(seen.candidate_version),
          action: actionNumber(step),
          shareBasisPoints: planned.share,
          boundsHash: rolloutBoundsHash(seen.bounds),
        },
        req.signature,
      );
      await writes.take(template.creatorId);
      await deps.em.fork().transactional(async (tx) => {
        const row = await tx.findOne(TemplateRow, { id: template.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        const rollout = row && (await rolloutOf(tx, row.id, req.rolloutId, true));
        if (!row || !rollout) throw notFound(what);
        const after = planStep(
          { state: rollout.state, share: rollout.share_basis_points, pausedOn: rollout.watch?.paused_on },
          step,
          req.shareBasisPoints,
        );
        if (after.share !== planned.share)
          throw conflict(`${what} moved to a share of ${rollout.share_basis_points} meanwhile: read it and sign again`);
        await spendNonce(tx, verified.nonce, row.creatorId, "RolloutStep");
        const done = {
          action: step,
          share_basis_points: after.share,
          at: now().toISOString(),
          signature: signatureJson(verified.signature),
        };
        if (step === "roll_back") {
          await endWithFallback(tx, row, rollout, { state: "rolled_back", step: done });
          return;
        }
        await recordStep(tx, rollout.id, { state: after.state, share: after.share, step: done });
        // The candidate again, with the rollout as it now stands (or none, promoted): a new revision of its outbox row.
        await enqueueTemplateSync(tx, row.id, rollout.candidate_version);
        // Promoted, the templates built on this one follow the new version too (they stayed on the current one).
        if (after.state === "promoted")
          for (const above of await templatesAbove(tx, row.id))
            await enqueueTemplateSync(tx, above.id, above.contentVersion);
      });
      deps.onContentChange?.();
      return { rollout: await rolloutAnswer(template.id, req.rolloutId) };
    },

    async getRollout(req, ctx) {
      checkRolloutId(req.rolloutId);
      const what = `rollout ${req.rolloutId} of template ${req.templateId}`;
      const template = await creatorsTemplate(req.templateId, ctx, what, true);
      return { rollout: await rolloutAnswer(template.id, req.rolloutId) };
    },

    async listRollouts(req, ctx) {
      const template = await creatorsTemplate(req.templateId, ctx, `rollouts of template ${req.templateId}`, true);
      const page = await rolloutsPage(deps.em.fork(), template.id, pageSize(req.pageSize), req.pageToken);
      return { rollouts: page.rows.map(rolloutToProto), nextPageToken: page.nextPageToken };
    },
  };
}
