// mutate(), the one path of every change to an existing template
// (validation, signature, version check, write, outbox, nonce, in one
// transaction), and the write of a new content version it ends with, which a
// rollout's fallback takes too (rollout/fallback.ts). TemplateService
// (service.ts) and RolloutService (rollout/service.ts) change templates
// through it alone.
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  conflict,
  failedPrecondition,
  nonceUsed,
  notFound,
  refuseViolations,
  type TemplateContentJson,
} from "@convos-pool/kit/content";
import { type Rate, RateLimit } from "@convos-pool/kit/server";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import { consumeNonce, postgresRates } from "@convos-pool/kit/service";
import { checkBase, templatesAbove } from "../release/bases.js";
import { changeViolations } from "./policy.js";
import { delistingsOf } from "../catalog/standing.js";
import { liveRollout, rolloutIsLive } from "../catalog/rollout.js";
import { createLookAlikeHold } from "../curation/hold.js";
import { TemplateRow, type TemplateRowType } from "../db/entities.js";
import { enqueueTemplateSync } from "../sync/outbox.js";
import { rowContent, rowToProto } from "../catalog/proto.js";
import { recordVersion, type ContentChange } from "./versions.js";
import { checkWalletRemoval, templatesLosingWallet } from "./wallet-removal.js";
import { checkServedModel, DEFAULT_SERVED_MODELS } from "../models/policy.js";

export interface TemplateServiceDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  /** Template writes per creator (docs/limits.md); absent: none. */
  writesPerCreator?: Rate | undefined;
  /** Publishes per creator (docs/limits.md); absent: none. */
  publishesPerCreator?: Rate | undefined;
  /** The operators' inbox ids (POOL_OPERATORS): they read delisted templates (docs/store.md). */
  operators?: ReadonlySet<string> | undefined;
  /** The models a template may name (POOL_MODELS; models/policy.ts); default DEFAULT_SERVED_MODELS. */
  models?: readonly string[] | undefined;
  now?: (() => Date) | undefined;
  /** Called after a content change to an existing template committed (it is in the sync outbox). */
  onContentChange?: (() => void) | undefined;
}

/** What a mutation does to a locked row; returning false means "no change, no new version". */
export type Change = (row: TemplateRowType, tx: EntityManager) => Promise<string | false> | string | false;

export interface MutateOptions {
  allowArchived?: boolean;
  content?: ContentChange;
  publish?: boolean;
  /** A change that writes no version (a delete) may pass while a rollout is live. */
  duringRollout?: boolean;
  /** Runs in the transaction once the new version is written: the rest of the same change (a rollout's row). */
  alsoWrite?: (tx: EntityManager, row: TemplateRowType, at: Date) => Promise<void>;
}

export type Mutate = (
  templateId: string,
  expected: bigint,
  operation: SignedOperation,
  fields: OperationFields,
  signature: Signature | undefined,
  change: Change,
  opts?: MutateOptions,
) => Promise<TemplateRowType>;

export interface TemplateWrites {
  mutate: Mutate;
  /** Every write counts against its creator's allowance, once the signature checked out (docs/limits.md). */
  writes: RateLimit;
  now: () => Date;
  /** A changed model must be served; the one the row has may stay (models/policy.ts). */
  checkModelOf: (row: TemplateRowType, field: string, model: Parameters<typeof checkServedModel>[1]) => void;
  /** A write's answer, with the template's delisting: a creator whose change was held sees why at once. */
  answer: (row: TemplateRowType) => Promise<Template>;
}

/** Spends a signature's nonce in `tx`, or refuses it as a replay naming `field`. */
export async function spendNonce(
  tx: EntityManager,
  nonce: string,
  inboxId: string,
  purpose: SignedOperation,
  field = "signature.nonce",
): Promise<void> {
  if (!(await consumeNonce(tx, { nonce, inboxId, purpose }))) throw nonceUsed(field);
}

/**
 * What new content must pass on the locked row before it is assigned, in
 * every change that sets content (update, patch, rollback, a rollout's
 * start): the base it names is one it may have (release/bases.ts), and
 * taking the pool's wallet away from agents carries its creator's signed
 * acknowledgment (wallet-removal.ts).
 */
export async function checkNewContent(
  tx: EntityManager,
  row: TemplateRowType,
  next: TemplateContentJson,
  acknowledged: boolean,
): Promise<void> {
  await checkBase(tx, row, next);
  checkWalletRemoval(await templatesLosingWallet(tx, { id: row.id, content: rowContent(row) }, next), acknowledged);
}

/**
 * Inside the change's transaction, on the locked row whose content is
 * already the new one: the row's next version as a content version, with
 * the creator's signed change, into the sync outbox with every template
 * built on it (their agents run on its content too).
 */
export async function writeContentVersion(
  tx: EntityManager,
  row: TemplateRowType,
  summary: string,
  at: Date,
  signed: ContentChange & { signature: Signature },
): Promise<void> {
  row.version += 1;
  row.updatedAt = at;
  row.contentVersion = row.version;
  recordVersion(tx, row, row.creatorId, summary, at, signed);
  await enqueueTemplateSync(tx, row.id, row.version);
  for (const above of await templatesAbove(tx, row.id)) await enqueueTemplateSync(tx, above.id, above.contentVersion);
}

export function createTemplateWrites(deps: TemplateServiceDeps): TemplateWrites {
  const now = deps.now ?? (() => new Date());
  // Counted in the service's database, which every replica opens (docs/limits.md).
  const rates = postgresRates(deps.em);
  const writes = new RateLimit("template writes per creator", deps.writesPerCreator, rates);
  const publishes = new RateLimit("template publishes per creator", deps.publishesPerCreator, rates);
  const served = deps.models ?? DEFAULT_SERVED_MODELS;
  const holdLookAlike = createLookAlikeHold();

  /**
   * Verify the creator's signature (outside the transaction: it is CPU
   * work), then lock the row, check the expected version and that no rollout
   * is live, spend the nonce, apply the change and write the new version's
   * snapshot, all in one transaction. A content change also keeps the signed
   * change with its version and enters the sync outbox in that transaction;
   * a publish, or a new name or instructions of a public template, may be
   * held there as a look-alike.
   */
  const mutate: Mutate = async (templateId, expected, operation, fields, signature, change, opts = {}) => {
    // The id and the version together, every fault at once (policy.ts).
    refuseViolations(changeViolations({ templateId, expectedVersion: expected }));
    const version = Number(expected);
    const current = await deps.em.fork().findOne(TemplateRow, { id: templateId });
    if (!current) throw notFound(`template ${templateId}`);
    const verified = await deps.verifier.verify(
      operation,
      { inboxId: current.creatorId, templateId, version: BigInt(version), ...fields },
      signature,
    );
    // Counted once the creator is proven, before anything is spent or written.
    await writes.take(current.creatorId);
    if (opts.publish) await publishes.take(current.creatorId);
    let contentChanged = false;
    const updated = await deps.em.fork().transactional(async (tx) => {
      const row = await tx.findOne(TemplateRow, { id: templateId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) throw notFound(`template ${templateId}`);
      if (row.version !== version) {
        throw conflict(
          `template ${templateId} is at version ${row.version}, not ${version}: fetch it, reapply your change and sign again`,
        );
      }
      if (row.status === "archived" && !opts.allowArchived) {
        throw failedPrecondition(`template ${templateId} is archived`);
      }
      // A live rollout's fallback is signed for the version after its candidate: nothing may come between.
      const live = opts.duringRollout ? undefined : await liveRollout(tx, row.id);
      if (live) throw rolloutIsLive(live);
      await spendNonce(tx, verified.nonce, row.creatorId, operation);
      const was = { visibility: row.visibility, name: row.agentName, instructions: row.instructions };
      const summary = await change(row, tx);
      if (summary === false) return row;
      const at = now();
      if (opts.content) {
        await writeContentVersion(tx, row, summary, at, { ...opts.content, signature: verified.signature });
        contentChanged = true;
      } else {
        row.version += 1;
        row.updatedAt = at;
        recordVersion(tx, row, row.creatorId, summary, at);
      }
      // What the store would show anew (docs/store.md, "Look-alike templates").
      const shownAnew =
        was.visibility !== "public" || was.name !== row.agentName || was.instructions !== row.instructions;
      if (row.visibility === "public" && row.status === "active" && shownAnew) await holdLookAlike(tx, row, at);
      await opts.alsoWrite?.(tx, row, at);
      return row;
    });
    if (contentChanged) deps.onContentChange?.();
    return updated;
  };

  return {
    mutate,
    writes,
    now,
    checkModelOf: (row, field, model) => checkServedModel(field, model, served, row.model?.default),
    answer: async (row) => {
      const template = rowToProto(row);
      template.delisting = (await delistingsOf(deps.em.fork(), [row.id])).get(row.id);
      return template;
    },
  };
}
