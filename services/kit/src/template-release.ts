import { create } from "@bufbuild/protobuf";
import type { Hex, LocalAccount } from "viem";
import { SignedTemplateSchema, TemplateChange, type SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { invalidArgument, permissionDenied } from "./errors.js";
import { templateIdFor } from "./ids.js";
import type { SignatureVerifier } from "./signatures.js";
import { signOperation, type OperationFields, type SignedOperation } from "./signing.js";
import { contentFromJson, contentToJson, jsonHash, validateContent, type TemplateContentJson } from "./template-content.js";

/**
 * A template release is a template version as its creator signed it
 * (`SignedTemplate`): the content plus the signature of the operation that
 * produced it. Anyone holding one can rebuild that operation's EIP-712 typed
 * data and check the signature without trusting who passed it on; this is
 * how an instance knows an instruction update comes from the creator and not
 * from the pool (docs/signatures.md, "Template releases").
 */

const HASH_HEX = /^0x[0-9a-fA-F]{64}$/;

/** The signed operation behind a release and its fields, rebuilt from the release alone. */
export function releaseOperation(t: SignedTemplate): { operation: SignedOperation; fields: OperationFields & { inboxId: string } } {
  if (!t.content) throw invalidArgument("template.content", "is required");
  const content = contentToJson(t.content);
  validateContent(content, "template.content");
  const contentHash = jsonHash(content);
  const version = t.version;
  if (t.change === TemplateChange.CREATE) {
    if (version !== 1n) throw invalidArgument("template.version", "a created template is version 1");
    return { operation: "CreateTemplate", fields: { inboxId: t.creatorId, contentHash } };
  }
  if (version < 2n) throw invalidArgument("template.version", "a changed template is version 2 or later");
  // The signature names the version the change was based on: the one before.
  const base = { inboxId: t.creatorId, templateId: t.templateId, version: version - 1n };
  switch (t.change) {
    case TemplateChange.UPDATE:
      return { operation: "UpdateTemplate", fields: { ...base, contentHash } };
    case TemplateChange.PATCH:
      if (!HASH_HEX.test(t.patchHash)) throw invalidArgument("template.patch_hash", "must be 0x-prefixed 32 bytes of hex");
      return { operation: "PatchTemplate", fields: { ...base, patchHash: t.patchHash, contentHash } };
    case TemplateChange.ROLLBACK:
      if (t.rollbackTargetVersion < 1n || t.rollbackTargetVersion >= version) {
        throw invalidArgument("template.rollback_target_version", `must be an earlier version than ${version}`);
      }
      return { operation: "RollbackTemplate", fields: { ...base, targetVersion: t.rollbackTargetVersion, contentHash } };
    default:
      throw invalidArgument("template.change", "must name the signed operation: create, update, patch or rollback");
  }
}

/**
 * Checks a release against the template and creator the receiver already
 * knows (never the ones the release claims), and that the creator's inbox
 * signed it. Any age is accepted: the version is the replay guard.
 * Returns the signing wallet.
 */
export async function verifyTemplateRelease(
  verifier: SignatureVerifier,
  t: SignedTemplate,
  expected: { templateId: string; creatorId: string },
): Promise<Hex> {
  if (t.templateId !== expected.templateId) {
    throw permissionDenied(`template.template_id: this instance runs template ${expected.templateId}, not ${t.templateId}`);
  }
  if (t.creatorId !== expected.creatorId) {
    throw permissionDenied("template.creator_id: not the creator of this instance's template");
  }
  const { operation, fields } = releaseOperation(t);
  // A create's signature names no template: the id is derived from what it signs (ids.ts).
  if (t.change === TemplateChange.CREATE && t.templateId !== templateIdFor(t.creatorId, t.creatorSignature?.nonce ?? "")) {
    throw permissionDenied(`template.template_id: the creator's signature of version 1 is not for template ${t.templateId}`);
  }
  const verified = await verifier.verify(operation, fields, t.creatorSignature, "template.creator_signature", { anyAge: true });
  return verified.address;
}

/** Signs a full update (PUT) of `version - 1` into `version`, as a creator's client does: for tests and benchmarks. */
export async function signUpdateRelease(
  account: LocalAccount,
  t: { templateId: string; creatorId: string; version: bigint; content: TemplateContentJson },
): Promise<SignedTemplate> {
  const content = contentFromJson(t.content);
  const creatorSignature = await signOperation(account, "UpdateTemplate", {
    inboxId: t.creatorId,
    templateId: t.templateId,
    version: t.version - 1n,
    contentHash: jsonHash(contentToJson(content)),
  });
  return create(SignedTemplateSchema, {
    templateId: t.templateId,
    creatorId: t.creatorId,
    version: t.version,
    content,
    creatorSignature,
    change: TemplateChange.UPDATE,
  });
}
