/**
 * What a pushed release must carry before the pool stores it
 * (TemplateSyncService, service.ts), pure. The pool checks the fields it
 * reads and that the signed operation can be rebuilt; the creator's
 * signature of a release is the instances' to check, never the pool's. A
 * rollout's step is the pool's to check (the share it applies): its fields
 * here, its signature in service.ts.
 */
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { RolloutAction } from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import type { RolloutPush } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import {
  type FieldViolationInfo,
  INBOX_ID_PATTERN,
  invalidArgument,
  invalidArguments,
  MAX_TEMPLATE_LAYERS,
  SHARE_BUCKETS,
  TEMPLATE_ID_PATTERN,
} from "@convos-pool/kit/content";
import { releaseOperation, type OperationFields } from "@convos-pool/kit/signing";

/** The highest version a release may have: the `instances.template_version` column is a 32-bit integer. */
export const MAX_RELEASE_VERSION = 2_147_483_647n;

/** The fields a release needs before it is stored; the signature is the instances' to check. */
export function checkRelease(t: SignedTemplate | undefined, field = "template"): SignedTemplate {
  if (!t) throw invalidArgument(field, "is required: the creator-signed template version");
  const v: FieldViolationInfo[] = [];
  const bad = (name: string, description: string) => v.push({ field: `${field}.${name}`, description });
  if (!t.templateId) bad("template_id", "is required");
  else if (!TEMPLATE_ID_PATTERN.test(t.templateId))
    bad("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
  if (!INBOX_ID_PATTERN.test(t.creatorId))
    bad("creator_id", "must be the creator's XMTP inbox ID (64 lower-case hex characters)");
  if (t.version < 1n || t.version > MAX_RELEASE_VERSION) bad("version", "must be a template version from 1");
  if (!t.content) bad("content", "is required: the version's content");
  if (!t.creatorSignature) bad("creator_signature", "is required: instances check it");
  if (v.length > 0) throw invalidArguments(v);
  // The signed operation must be rebuildable (change kind, patch hash, rollback target, valid content).
  releaseOperation(t, field);
  return t;
}

/**
 * A push: the release, then its bases (a template, its base and the base's
 * base at most), each checked as a release; the first fault found is the
 * answer.
 */
export function checkPush(req: { template?: SignedTemplate | undefined; bases: SignedTemplate[] }): {
  release: SignedTemplate;
  bases: SignedTemplate[];
} {
  const release = checkRelease(req.template);
  if (req.bases.length >= MAX_TEMPLATE_LAYERS)
    throw invalidArgument("bases", `at most ${MAX_TEMPLATE_LAYERS - 1}: a template, its base and the base's base`);
  return { release, bases: req.bases.map((b, i) => checkRelease(b, `bases[${i}]`)) };
}

/** The steps a push carries a rollout for: the others end it (a push without one). */
const RUNNING_STEPS: ReadonlySet<RolloutAction> = new Set([
  RolloutAction.START,
  RolloutAction.WIDEN,
  RolloutAction.PAUSE,
  RolloutAction.RESUME,
]);
const HASH_HEX = /^0x[0-9a-fA-F]{64}$/;

/**
 * A push's rollout, before its step signature is checked: the fields the
 * typed data is rebuilt from and the share applied. `paused` is not signed,
 * so it must agree with the signed action where that says it (a PAUSE
 * pauses, a START or RESUME runs).
 */
export function checkRollout(r: RolloutPush): RolloutPush & { stepSignature: Signature } {
  const v: FieldViolationInfo[] = [];
  const bad = (name: string, description: string) => v.push({ field: `rollout.${name}`, description });
  if (!r.rolloutId) bad("rollout_id", "is required");
  if (r.shareBasisPoints > SHARE_BUCKETS) bad("share_basis_points", `must be from 0 to ${SHARE_BUCKETS}`);
  if (!RUNNING_STEPS.has(r.action))
    bad("action", "must be the step of a running or paused rollout (START, WIDEN, PAUSE, RESUME): others end it");
  else if ((r.action === RolloutAction.PAUSE) !== r.paused && r.action !== RolloutAction.WIDEN)
    bad("paused", "must agree with the signed action");
  if (!HASH_HEX.test(r.boundsHash)) bad("bounds_hash", "must be 0x-prefixed 32 bytes of hex");
  if (!r.stepSignature) bad("step_signature", "is required: the creator's RolloutStep");
  if (v.length > 0 || !r.stepSignature) throw invalidArguments(v);
  return { ...r, stepSignature: r.stepSignature };
}

/** The typed data a rollout's step signature is over (kit SIGNED_TYPES.RolloutStep): its creator's, of its candidate. */
export function rolloutStepFields(candidate: SignedTemplate, r: RolloutPush): OperationFields & { inboxId: string } {
  return {
    inboxId: candidate.creatorId,
    templateId: candidate.templateId,
    version: candidate.version,
    action: r.action,
    shareBasisPoints: r.shareBasisPoints,
    boundsHash: r.boundsHash,
  };
}
