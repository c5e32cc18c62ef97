// A template's staged rollout as every feature reads it (docs/rollouts.md):
// the shapes the rollouts table keeps, and the one rollout of a template that
// runs or is paused. That one keeps every other change of the template out
// (template/mutate.ts) and rides on each push of its candidate
// (sync/relay.ts). The rollout's own flow is rollout/.
import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { RolloutPushSchema, type RolloutPush } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { failedPrecondition, type TemplateContentJson } from "@convos-pool/kit/content";
import { rolloutBoundsHash, type RolloutBoundsJson } from "@convos-pool/kit/signing";
import { TemplateVersionRow } from "../db/entities.js";

export type RolloutStateName = "running" | "paused" | "promoted" | "rolled_back" | "halted";
export type RolloutActionName = "start" | "widen" | "pause" | "resume" | "promote" | "roll_back" | "halt";

/** The states in which a rollout is live: the template takes no other change. */
export const LIVE_STATES: readonly RolloutStateName[] = ["running", "paused"];

/** A signature as the rollouts table keeps it. */
export interface SignatureJson {
  signature: string;
  issued_at: string;
  nonce: string;
}

/** One step as it happened; the pool's HALT has no signature. */
export interface StepJson {
  action: RolloutActionName;
  share_basis_points: number;
  at: string;
  signature: SignatureJson | null;
}

/** The creator's pre-signed RollbackTemplate to the baseline, and the content it restores. */
export interface FallbackJson {
  signature: SignatureJson;
  content: TemplateContentJson;
  content_hash: string;
  acknowledge_wallet_removal: boolean;
}

export const signatureJson = (s: Signature): SignatureJson => ({
  signature: s.signature,
  issued_at: String(s.issuedAt),
  nonce: s.nonce,
});

export const signatureOf = (s: SignatureJson): Signature =>
  create(SignatureSchema, { signature: s.signature, issuedAt: BigInt(s.issued_at), nonce: s.nonce });

/** What a template's live rollout is while it runs or is paused. */
export interface LiveRollout {
  id: string;
  baselineVersion: number;
  candidateVersion: number;
  state: RolloutStateName;
  shareBasisPoints: number;
  bounds: RolloutBoundsJson;
  steps: StepJson[];
}

/** A step's action as the contract numbers it (RolloutAction). */
export const ACTION_NUMBERS: Record<RolloutActionName, RolloutAction> = {
  start: RolloutAction.START,
  widen: RolloutAction.WIDEN,
  pause: RolloutAction.PAUSE,
  resume: RolloutAction.RESUME,
  promote: RolloutAction.PROMOTE,
  roll_back: RolloutAction.ROLL_BACK,
  halt: RolloutAction.HALT,
};

/** The template's running or paused rollout, if any (at most one: the rollouts_live index). */
export async function liveRollout(em: EntityManager, templateId: string): Promise<LiveRollout | undefined> {
  const [r] = await em.execute<
    {
      id: string;
      baseline_version: number;
      candidate_version: number;
      state: RolloutStateName;
      share_basis_points: number;
      bounds: RolloutBoundsJson;
      steps: StepJson[];
    }[]
  >(
    `select id, baseline_version, candidate_version, state, share_basis_points, bounds, steps from rollouts
     where template_id = ? and state in ('running', 'paused')`,
    [templateId],
  );
  return (
    r && {
      id: r.id,
      baselineVersion: r.baseline_version,
      candidateVersion: r.candidate_version,
      state: r.state,
      shareBasisPoints: r.share_basis_points,
      bounds: r.bounds,
      steps: r.steps,
    }
  );
}

/** The refusal of any other change while a rollout is live. */
export const rolloutIsLive = (live: LiveRollout) =>
  failedPrecondition(
    `a rollout of version ${live.candidateVersion} is ${live.state}: promote it or roll it back first (rollout ${live.id})`,
  );

/**
 * What a push of the candidate carries (TemplateSyncService, `rollout`): the
 * share and whether it is paused, the number of steps so far, and the
 * latest signed step (what set that share): its action, the creator's
 * signature and the bounds' hash it covers, so that the claims service can
 * check it was the creator's.
 */
export function rolloutPushOf(live: LiveRollout): RolloutPush {
  const signed = live.steps.filter((s) => s.signature).at(-1);
  return create(RolloutPushSchema, {
    rolloutId: live.id,
    baselineVersion: BigInt(live.baselineVersion),
    shareBasisPoints: live.shareBasisPoints,
    paused: live.state === "paused",
    step: live.steps.length,
    boundsHash: rolloutBoundsHash(live.bounds),
    ...(signed?.signature
      ? { stepSignature: signatureOf(signed.signature), action: ACTION_NUMBERS[signed.action] }
      : {}),
  });
}

/**
 * The content version a new agent of the template starts on, and that a
 * template built on it follows: while a rollout is live, the current one
 * (the content in effect at its baseline). The claims service moves a new
 * agent whose conversation is in the share to the new version (its fan-out's
 * target); every other agent, and every template built on this one, stays on
 * the current version until the rollout is promoted.
 */
export async function servedVersion(em: EntityManager, row: { id: string; contentVersion: number }): Promise<number> {
  const live = await liveRollout(em, row.id);
  return live ? contentVersionAt(em, row.id, live.baselineVersion) : row.contentVersion;
}

/**
 * What anyone but the creator reads of the template's content while a
 * rollout is live: the content a new agent starts on (the store must show
 * what adding it gives), at its content version; undefined when no rollout
 * is live. The creator reads the new version, which they are shipping.
 */
export async function servedContent(
  em: EntityManager,
  row: { id: string },
): Promise<{ content: TemplateContentJson; contentVersion: number } | undefined> {
  const live = await liveRollout(em, row.id);
  if (!live) return undefined;
  const contentVersion = await contentVersionAt(em, row.id, live.baselineVersion);
  const at = await em.findOne(TemplateVersionRow, { template: row.id, version: contentVersion });
  return at ? { content: at.snapshot.content, contentVersion } : undefined;
}

/**
 * The content version in effect at the template's `version`: a publish, an
 * unpublish or an archive makes a version that changes no content (and has
 * no signed release of its own), and a rollout's baseline is often one.
 */
export async function contentVersionAt(em: EntityManager, templateId: string, version: number): Promise<number> {
  const at = await em.findOne(TemplateVersionRow, { template: templateId, version });
  if (!at) throw new Error(`template ${templateId} has no version ${version}`);
  return at.contentVersion;
}
