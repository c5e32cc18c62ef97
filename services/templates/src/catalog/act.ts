// One signed act on a template by someone other than its creator's releases
// (an operator's curation, an owner's rating, a creator's answer): the
// signature is checked before anything is spent; then, under the template
// row's lock, the nonce is spent, `apply` writes, and the act is kept in the
// curation log when it is one, all in one transaction. The log's write is
// here too (logAction), since every logged act passes through.
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { nonceUsed, notFound } from "@convos-pool/kit/content";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import { consumeNonce } from "@convos-pool/kit/service";
import { TemplateRow, type TemplateRowType } from "../db/entities.js";

export interface SignedActDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  now: () => Date;
}

export interface SignedAct {
  actorId: string;
  templateId: string;
  action: SignedOperation;
  fields: OperationFields;
  signature: Signature | undefined;
  /** Kept in the curation log (docs/store.md), with its signature. */
  logged: boolean;
}

export async function signedTemplateAct<T>(
  deps: SignedActDeps,
  act: SignedAct,
  apply: (tx: EntityManager, row: TemplateRowType, at: Date) => Promise<T>,
): Promise<T> {
  const { actorId, templateId, action, fields } = act;
  const verified = await deps.verifier.verify(action, { inboxId: actorId, templateId, ...fields }, act.signature);
  return deps.em.fork().transactional(async (tx) => {
    const row = await tx.findOne(TemplateRow, { id: templateId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!row) throw notFound(`template ${templateId}`);
    if (!(await consumeNonce(tx, { nonce: verified.nonce, inboxId: actorId, purpose: action })))
      throw nonceUsed("signature.nonce");
    const at = deps.now();
    const out = await apply(tx, row, at);
    if (act.logged) await logAction(tx, { actorId, action, templateId, fields, signature: verified.signature, at });
    return out;
  });
}

/**
 * signedTemplateAct for one service: its deps bound, the act's parts in
 * order, and `logged` saying which of its acts the curation log keeps.
 */
export function signedTemplateActs(deps: SignedActDeps, logged: (action: SignedOperation) => boolean) {
  return <T>(
    actorId: string,
    templateId: string,
    action: SignedOperation,
    fields: OperationFields,
    signature: Signature | undefined,
    apply: (tx: EntityManager, row: TemplateRowType, at: Date) => Promise<T>,
  ): Promise<T> =>
    signedTemplateAct(deps, { actorId, templateId, action, fields, signature, logged: logged(action) }, apply);
}

export interface LoggedAction {
  actorId: string;
  action: string;
  templateId: string;
  /** The signed fields but inboxId (the actor), issuedAt and nonce. */
  fields: OperationFields;
  signature: Signature;
  at: Date;
}

export async function logAction(em: EntityManager, a: LoggedAction): Promise<void> {
  const fields = Object.fromEntries(
    Object.entries(a.fields).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
  );
  await em.execute(
    `insert into curation_log (at, actor_id, action, template_id, fields, signature, signature_issued_at, signature_nonce) values (?, ?, ?, ?, ?::jsonb, ?, ?, ?)`,
    [
      a.at,
      a.actorId,
      a.action,
      a.templateId,
      JSON.stringify(fields),
      a.signature.signature,
      String(a.signature.issuedAt),
      a.signature.nonce.toLowerCase(),
    ],
  );
}
