import { create } from "@bufbuild/protobuf";
import type { EntityManager } from "@mikro-orm/postgresql";
import { SignatureSchema } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  SignedTemplateSchema,
  TemplateChange,
  type SignedTemplate,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { contentFromJson } from "@convos-pool/kit/content";
import { TemplateVersionRow, type ContentChangeKind, type TemplateVersionRowType } from "../db/entities.js";

const CHANGE: Record<ContentChangeKind, TemplateChange> = {
  create: TemplateChange.CREATE,
  update: TemplateChange.UPDATE,
  patch: TemplateChange.PATCH,
  rollback: TemplateChange.ROLLBACK,
};

/**
 * A content version exactly as its creator signed it (SignedTemplate), from
 * the version row that keeps the signed change. Undefined when the template
 * or the version is gone; throws for a version that is no content version or
 * was made before signed changes were kept (nothing an instance could verify).
 */
export async function signedTemplateAt(
  em: EntityManager,
  templateId: string,
  version: number,
): Promise<SignedTemplate | undefined> {
  const v = await em.findOne(TemplateVersionRow, { template: templateId, version }, { populate: ["template"] });
  return v ? signedTemplateOf(v, v.template.creatorId, await creationNonceOf(em, templateId)) : undefined;
}

/**
 * The nonce of a template's signed create (its version 1), which every
 * release carries so that whoever holds it can check who created the
 * template ("" when version 1 kept no signature).
 */
export async function creationNonceOf(em: EntityManager, templateId: string): Promise<string> {
  const first = await em.findOne(TemplateVersionRow, { template: templateId, version: 1 });
  return first?.signatureNonce ?? "";
}

/** The SignedTemplate of a version row already read (signedTemplateAt), with its template's creation nonce. */
export function signedTemplateOf(v: TemplateVersionRowType, creatorId: string, creationNonce: string): SignedTemplate {
  const templateId = v.template.id;
  if (!v.changeKind || !v.signature || v.signatureIssuedAt == null || !v.signatureNonce) {
    throw new Error(`version ${v.version} of template ${templateId} has no signed content change`);
  }
  return create(SignedTemplateSchema, {
    templateId,
    creatorId,
    version: BigInt(v.version),
    content: contentFromJson(v.snapshot.content),
    creatorSignature: create(SignatureSchema, {
      signature: v.signature,
      issuedAt: BigInt(v.signatureIssuedAt),
      nonce: v.signatureNonce,
    }),
    change: CHANGE[v.changeKind],
    patchHash: v.patchHash ?? "",
    rollbackTargetVersion: BigInt(v.rollbackTarget ?? 0),
    creationNonce,
    acknowledgeWalletRemoval: v.acknowledgedWalletRemoval,
  });
}
