import { create } from "@bufbuild/protobuf";
import { toHex, type Hex, type LocalAccount } from "viem";
import {
  SignedTemplateSchema,
  TemplateChange,
  type SignedTemplate,
  type TemplateContent,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { invalidArgument, permissionDenied } from "../content/errors.js";
import { templateIdFor } from "../content/ids.js";
import { signOperation } from "./sign.js";
import type { OperationFields, SignedOperation } from "./operations.js";
import {
  contentFromJson,
  contentToJson,
  jsonHash,
  validateContent,
  type TemplateContentJson,
} from "../content/template.js";
import { MAX_TEMPLATE_LAYERS, releaseKey, resolveContent } from "../content/template-resolve.js";
import type { ReleaseVerifier } from "./verified-releases.js";

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
export function releaseOperation(
  t: SignedTemplate,
  field = "template",
): { operation: SignedOperation; fields: OperationFields & { inboxId: string } } {
  if (!t.content) throw invalidArgument(`${field}.content`, "is required");
  const content = contentToJson(t.content);
  validateContent(content, `${field}.content`);
  return signedReleaseOperation(t, jsonHash(content), field);
}

/** What a release's signature covers besides its content, which it signs as `contentHash`. */
export type ReleaseSignedFields = Pick<
  SignedTemplate,
  "templateId" | "creatorId" | "version" | "change" | "patchHash" | "rollbackTargetVersion" | "acknowledgeWalletRemoval"
>;

/**
 * The signed operation of a release whose content is known by its hash
 * alone: a birth certificate carries a release so (certificate.ts).
 */
export function signedReleaseOperation(
  t: ReleaseSignedFields,
  contentHash: Hex,
  field = "template",
): { operation: SignedOperation; fields: OperationFields & { inboxId: string } } {
  const version = t.version;
  if (t.change === TemplateChange.CREATE) {
    if (version !== 1n) throw invalidArgument(`${field}.version`, "a created template is version 1");
    return { operation: "CreateTemplate", fields: { inboxId: t.creatorId, contentHash } };
  }
  if (version < 2n) throw invalidArgument(`${field}.version`, "a changed template is version 2 or later");
  // The signature names the version the change was based on: the one before.
  const base = {
    inboxId: t.creatorId,
    templateId: t.templateId,
    version: version - 1n,
    // Signed only when given (operations.ts OPTIONAL_SIGNED_FIELDS).
    ...(t.acknowledgeWalletRemoval ? { acknowledgeWalletRemoval: true } : {}),
  };
  switch (t.change) {
    case TemplateChange.UPDATE:
      return { operation: "UpdateTemplate", fields: { ...base, contentHash } };
    case TemplateChange.PATCH:
      if (!HASH_HEX.test(t.patchHash))
        throw invalidArgument(`${field}.patch_hash`, "must be 0x-prefixed 32 bytes of hex");
      return { operation: "PatchTemplate", fields: { ...base, patchHash: t.patchHash, contentHash } };
    case TemplateChange.ROLLBACK:
      if (t.rollbackTargetVersion < 1n || t.rollbackTargetVersion >= version) {
        throw invalidArgument(`${field}.rollback_target_version`, `must be an earlier version than ${version}`);
      }
      return {
        operation: "RollbackTemplate",
        fields: { ...base, targetVersion: t.rollbackTargetVersion, contentHash },
      };
    default:
      throw invalidArgument(`${field}.change`, "must name the signed operation: create, update, patch or rollback");
  }
}

/**
 * Checks a release against the template and creator the receiver already
 * knows (never the ones the release claims), and that the creator's inbox
 * signed it. Any age is accepted: the version is the replay guard.
 * Returns the signing wallet.
 */
export async function verifyTemplateRelease(
  verifier: ReleaseVerifier,
  t: SignedTemplate,
  expected: { templateId: string; creatorId: string },
  field = "template",
): Promise<Hex> {
  if (t.templateId !== expected.templateId) {
    throw permissionDenied(
      `${field}.template_id: ${field === "template" ? "this instance runs" : "the layer above builds on"} template ${expected.templateId}, not ${t.templateId}`,
    );
  }
  if (t.creatorId !== expected.creatorId) {
    throw permissionDenied(
      `${field}.creator_id: not the creator of ${field === "template" ? "this instance's template" : `the base its template names`}`,
    );
  }
  const { operation, fields } = releaseOperation(t, field);
  checkCreator(t, field);
  const verified = await verifier.verify(operation, fields, t.creatorSignature, `${field}.creator_signature`, {
    anyAge: true,
  });
  return verified.address;
}

/**
 * The release's creator is the one who created its template, at any
 * version: the id derives from the creator and the nonce of the signed
 * create (ids.ts), which version 1 signs and every later release carries as
 * `creation_nonce`. So a release another inbox signed, naming itself the
 * creator of someone else's template, is refused: only the creator's own
 * create makes that id (docs/signatures.md, "Template ids").
 */
export function checkCreator(
  t: Pick<SignedTemplate, "templateId" | "creatorId" | "change" | "creationNonce" | "creatorSignature">,
  field = "template",
): void {
  const signed = t.creatorSignature?.nonce ?? "";
  if (t.change === TemplateChange.CREATE) {
    if (t.creationNonce && t.creationNonce.toLowerCase() !== signed.toLowerCase()) {
      throw permissionDenied(`${field}.creation_nonce: version 1 is created by its own signature's nonce`);
    }
    if (t.templateId !== templateIdFor(t.creatorId, signed)) {
      throw permissionDenied(
        `${field}.template_id: the creator's signature of version 1 is not for template ${t.templateId}`,
      );
    }
    return;
  }
  if (!t.creationNonce) {
    throw permissionDenied(
      `${field}.creation_nonce: required: the nonce of version 1's create, which ties template ${t.templateId} to its creator`,
    );
  }
  if (t.templateId !== templateIdFor(t.creatorId, t.creationNonce)) {
    throw permissionDenied(`${field}.creator_id: ${t.creatorId} did not create template ${t.templateId}`);
  }
}

/** A new template's id and its creation nonce, as the templates service derives them (ids.ts): for tests and benchmarks. */
export function newTemplateIdentity(creatorId: string): {
  templateId: string;
  creatorId: string;
  creationNonce: string;
} {
  const creationNonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
  return { templateId: templateIdFor(creatorId, creationNonce), creatorId, creationNonce };
}

/**
 * A release with its bases, its base first, checked layer by layer: the
 * template against what the receiver knows (as verifyTemplateRelease), each
 * base against the layer above it, which names the base's template and
 * creator (and version, when it stays on one) in what its own creator
 * signed. So the pool can neither forge a layer nor put another template in
 * its place. Returns the content resolved from the checked layers and the
 * release's key (template-resolve.ts).
 */
export async function verifyReleaseChain(
  verifier: ReleaseVerifier,
  t: SignedTemplate,
  bases: readonly SignedTemplate[],
  expected: { templateId: string; creatorId: string },
): Promise<{ content: TemplateContent; key: bigint[] }> {
  if (bases.length >= MAX_TEMPLATE_LAYERS) {
    throw invalidArgument(
      "bases",
      `a template has at most ${MAX_TEMPLATE_LAYERS - 1} bases below it; ${bases.length} were given`,
    );
  }
  await verifyTemplateRelease(verifier, t, expected);
  const seen = new Set([t.templateId]);
  let above = t;
  let aboveContent = verifiedContent(t, "template");
  const contents = [aboveContent];
  for (const [i, b] of bases.entries()) {
    const ref = aboveContent.base;
    if (!ref)
      throw invalidArgument(`bases[${i}]`, `template ${above.templateId} has no base, so none may be given below it`);
    const field = `bases[${i}]`;
    await verifyTemplateRelease(verifier, b, { templateId: ref.templateId, creatorId: ref.creatorId }, field);
    if (ref.version !== 0n && b.version !== ref.version) {
      throw permissionDenied(
        `${field}.version: template ${above.templateId} stays on version ${ref.version} of its base, not ${b.version}`,
      );
    }
    if (seen.has(b.templateId)) throw invalidArgument(field, `template ${b.templateId} is its own base (a cycle)`);
    seen.add(b.templateId);
    above = b;
    aboveContent = verifiedContent(b, field);
    contents.push(aboveContent);
  }
  if (aboveContent.base) {
    throw invalidArgument(
      "bases",
      `template ${above.templateId} builds on ${aboveContent.base.templateId}, whose release was not given`,
    );
  }
  return { content: resolveContent(contents), key: releaseKey(t, bases) };
}

/** The content of a release verifyTemplateRelease accepted, which refuses one without. */
function verifiedContent(t: SignedTemplate, field: string): TemplateContent {
  if (!t.content) throw invalidArgument(`${field}.content`, "is required");
  return t.content;
}

/** Signs a full update (PUT) of `version - 1` into `version`, as a creator's client does: for tests and benchmarks. */
export async function signUpdateRelease(
  account: LocalAccount,
  t: {
    templateId: string;
    creatorId: string;
    version: bigint;
    content: TemplateContentJson;
    creationNonce?: string;
    acknowledgeWalletRemoval?: boolean;
  },
): Promise<SignedTemplate> {
  const content = contentFromJson(t.content);
  const acknowledgeWalletRemoval = t.acknowledgeWalletRemoval ?? false;
  const creatorSignature = await signOperation(account, "UpdateTemplate", {
    inboxId: t.creatorId,
    templateId: t.templateId,
    version: t.version - 1n,
    contentHash: jsonHash(contentToJson(content)),
    acknowledgeWalletRemoval,
  });
  return create(SignedTemplateSchema, {
    templateId: t.templateId,
    creatorId: t.creatorId,
    version: t.version,
    content,
    creatorSignature,
    change: TemplateChange.UPDATE,
    creationNonce: t.creationNonce ?? "",
    acknowledgeWalletRemoval,
  });
}
