// The end of a rollout that goes back (docs/rollouts.md): the creator's
// ROLL_BACK and the pool's HALT make the fallback the template's next
// content version, the baseline's content under the creator's RollbackTemplate
// signed at the start, so the pool moves every agent back with no key of the
// creator's, and only to what the creator signed. That version is
// candidate + 1, as the fallback was signed for: nothing else changes the
// template while the rollout is live (template/mutate.ts).
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { failedPrecondition, notFound } from "@convos-pool/kit/content";
import { signatureOf, type StepJson } from "../catalog/rollout.js";
import { assignContent } from "../catalog/proto.js";
import { TemplateRow, type TemplateRowType } from "../db/entities.js";
import { writeContentVersion } from "../template/mutate.js";
import { planStep } from "./policy.js";
import { recordStep, rolloutOf, type RolloutRow, type WatchJson } from "./sql.js";

/**
 * Inside the step's transaction, the template row and the rollout locked:
 * the fallback written as the next content version, the rollout ended with
 * `step`. The base check a RollbackTemplate runs is not run again: the
 * baseline's content passed it when it was made, and a halt cannot be refused.
 */
export async function endWithFallback(
  tx: EntityManager,
  row: TemplateRowType,
  rollout: RolloutRow,
  end: { state: "rolled_back" | "halted"; step: StepJson; watch?: WatchJson },
): Promise<void> {
  if (row.version !== rollout.candidate_version)
    throw failedPrecondition(
      `template ${row.id} is at version ${row.version}, not the rollout's ${rollout.candidate_version}: its fallback was signed for the version after that one`,
    );
  const f = rollout.fallback;
  // Content only: visibility and status stay as they are, as for any rollback.
  assignContent(row, f.content);
  await writeContentVersion(tx, row, `rollback to v${rollout.baseline_version}`, new Date(end.step.at), {
    kind: "rollback",
    rollbackTarget: rollout.baseline_version,
    acknowledgedWalletRemoval: f.acknowledge_wallet_removal,
    releaseNotes: "",
    signature: signatureOf(f.signature),
  });
  await recordStep(tx, rollout.id, { ...end, share: rollout.share_basis_points });
}

export interface HaltDeps {
  em: EntityManager;
  now?: (() => Date) | undefined;
  /** Called once the fallback committed (it is in the sync outbox): the relay's kick. */
  onContentChange?: (() => void) | undefined;
}

/**
 * The pool's own HALT (docs/rollouts.md, "It watches and stops itself"): a
 * roll back without the creator, `reason` the signal in the words the
 * creator reads (Rollout.watch.halted_on), the rest of the watch as the
 * pool last recorded it. FAILED_PRECONDITION when the rollout already
 * ended. The watch calls it (watch.ts).
 */
export async function haltRollout(
  deps: HaltDeps,
  h: { templateId: string; rolloutId: string; reason: string },
): Promise<RolloutRow> {
  const at = (deps.now ?? (() => new Date()))();
  await deps.em.fork().transactional(async (tx) => {
    const row = await tx.findOne(TemplateRow, { id: h.templateId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const rollout = row && (await rolloutOf(tx, row.id, h.rolloutId, true));
    if (!row || !rollout) throw notFound(`rollout ${h.rolloutId} of template ${h.templateId}`);
    const after = planStep({ state: rollout.state, share: rollout.share_basis_points }, "halt");
    await endWithFallback(tx, row, rollout, {
      state: "halted",
      step: { action: "halt", share_basis_points: after.share, at: at.toISOString(), signature: null },
      watch: { ...rollout.watch, halted_on: h.reason },
    });
  });
  deps.onContentChange?.();
  const ended = await rolloutOf(deps.em.fork(), h.templateId, h.rolloutId);
  if (!ended) throw notFound(`rollout ${h.rolloutId} of template ${h.templateId}`);
  return ended;
}
