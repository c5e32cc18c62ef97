/**
 * What a pushed release must carry before the pool stores it
 * (TemplateSyncService, service.ts), pure. The pool checks the fields it
 * reads and that the signed operation can be rebuilt; the creator's
 * signature is the instances' to check, never the pool's.
 */
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  type FieldViolationInfo,
  INBOX_ID_PATTERN,
  invalidArgument,
  invalidArguments,
  MAX_TEMPLATE_LAYERS,
  TEMPLATE_ID_PATTERN,
} from "@convos-pool/kit/content";
import { releaseOperation } from "@convos-pool/kit/signing";

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
