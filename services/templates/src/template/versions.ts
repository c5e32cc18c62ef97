// A template's version history: each change writes a version with the
// template's snapshot (a content change also keeps the creator's signed
// change, release/signed.ts reads it back), a change is based on a version's
// content, and the creator lists the versions newest first.
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { TemplateVersion } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { conflict, notFound, type TemplateContentJson } from "@convos-pool/kit/content";
import { decodePageToken, encodePageToken, pageSize } from "@convos-pool/kit/server";
import { TemplateRow, TemplateVersionRow, type ContentChangeKind, type TemplateRowType } from "../db/entities.js";
import { snapshotOf, versionProto } from "../catalog/proto.js";

/** A change to the content, kept with its version as the creator signed it (release/signed.ts). */
export interface ContentChange {
  kind: ContentChangeKind;
  patchHash?: string;
  rollbackTarget?: number;
  /** The creator signed that it takes the pool's wallet away from agents (wallet-removal.ts). */
  acknowledgedWalletRemoval?: boolean;
  /** The creator's words on it (docs/store.md); "" for none. */
  releaseNotes?: string;
}

/** Writes the row's current version (its number already set) in `tx`, with the signed change for a content change. */
export function recordVersion(
  tx: EntityManager,
  row: TemplateRowType,
  changedBy: string,
  summary: string,
  at: Date,
  signed?: ContentChange & { signature: Signature },
): void {
  tx.create(TemplateVersionRow, {
    template: row,
    version: row.version,
    snapshot: snapshotOf(row),
    changedBy,
    changedAt: at,
    changeSummary: summary,
    contentVersion: row.contentVersion,
    changeKind: signed?.kind ?? null,
    signature: signed?.signature.signature ?? null,
    signatureIssuedAt: signed ? Number(signed.signature.issuedAt) : null,
    signatureNonce: signed?.signature.nonce ?? null,
    patchHash: signed?.patchHash ?? null,
    rollbackTarget: signed?.rollbackTarget ?? null,
    acknowledgedWalletRemoval: signed?.acknowledgedWalletRemoval ?? false,
    releaseNotes: signed?.releaseNotes ?? "",
  });
}

/** The content a change based on `version` starts from: that version's snapshot. */
export async function contentAt(em: EntityManager, templateId: string, version: number): Promise<TemplateContentJson> {
  const v = await em.findOne(TemplateVersionRow, { template: templateId, version });
  if (v) return v.snapshot.content;
  if (!(await em.findOne(TemplateRow, { id: templateId }))) throw notFound(`template ${templateId}`);
  // The signature is not checked yet: say no more than that the version is not there.
  throw conflict(`template ${templateId} has no version ${version}: fetch it, reapply your change and sign again`);
}

/** One page of the row's versions, newest first; the page token names the version the next page starts below. */
export async function versionsPage(
  em: EntityManager,
  row: TemplateRowType,
  request: { pageSize: number; pageToken: string },
): Promise<{ versions: TemplateVersion[]; nextPageToken: string }> {
  const limit = pageSize(request.pageSize);
  const cursor = decodePageToken(request.pageToken, 1, "page_token", (v) => Number.isInteger(v[0]));
  const rows = await em.find(
    TemplateVersionRow,
    { template: row.id, ...(cursor ? { version: { $lt: Number(cursor[0]) } } : {}) },
    { orderBy: { version: "desc" }, limit: limit + 1 },
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    versions: page.map((v) => versionProto(row, v)),
    nextPageToken: rows.length > limit && last ? encodePageToken([last.version]) : "",
  };
}
