// TemplateService's handlers and mutate(), the one path of every change to
// an existing template (validation, signature, version check, write,
// outbox, nonce, in one transaction). Beside it: versions.ts (the version
// history), release-notes.ts (diffs and release notes), wallet-removal.ts (a
// version without the wallet). Below it, in catalog/: checks.ts (what a
// request must hold), proto.ts (a template's shapes), visible.ts (who may
// read a template), listings.ts (the store's listings). A template entering
// the store, or changing its name or instructions there, is compared with
// the popular ones of other creators and may be held (curation/hold.ts).
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { Template } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  applyPatch,
  conflict,
  contentToJson,
  failedPrecondition,
  invalidArgument,
  jsonHash,
  nonceUsed,
  notFound,
  patchToJson,
  templateIdFor,
  validateContent,
  validatePatch,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize, type Rate, RateLimit } from "@convos-pool/kit/server";
import type { OperationFields, SignatureVerifier, SignedOperation } from "@convos-pool/kit/signing";
import { consumeNonce, postgresRates } from "@convos-pool/kit/service";
import { checkBase, dependents, resolvedView, templatesAbove } from "../release/bases.js";
import {
  checkCategory,
  checkExpectedVersion,
  checkInboxId,
  checkReleaseNotes,
  checkRollsBack,
  checkTargetVersion,
  checkTemplateId,
  checkVisibility,
} from "../catalog/checks.js";
import { withStandings } from "../ratings/sql.js";
import { delistingsOf } from "../catalog/standing.js";
import { createLookAlikeHold } from "../curation/hold.js";
import { TemplateRow, TemplateVersionRow, type TemplateRowType } from "../db/entities.js";
import { enqueueTemplateSync } from "../sync/outbox.js";
import { createReleaseNotesHandlers } from "./release-notes.js";
import { browseStore, listCreatorTemplates } from "../catalog/listings.js";
import {
  assignContent,
  listedToProto,
  newTemplateRow,
  rowContent,
  rowToProto,
  visibilityName,
} from "../catalog/proto.js";
import { contentAt, recordVersion, versionsPage, type ContentChange } from "./versions.js";
import { visibleTemplate } from "../catalog/visible.js";
import { checkWalletRemoval, templatesLosingWallet } from "./wallet-removal.js";
import { checkServedModel, DEFAULT_SERVED_MODELS } from "../models/policy.js";
import { createModelHandlers } from "../models/service.js";

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

/**
 * A content change that takes the pool's wallet away from agents needs its
 * creator's signed acknowledgment (wallet-removal.ts); run on the locked row
 * before its content changes.
 */
async function checkWallet(
  tx: EntityManager,
  row: TemplateRowType,
  next: Parameters<typeof templatesLosingWallet>[2],
  acknowledged: boolean,
): Promise<void> {
  checkWalletRemoval(await templatesLosingWallet(tx, { id: row.id, content: rowContent(row) }, next), acknowledged);
}

/** What a mutation does to a locked row; returning false means "no change, no new version". */
type Change = (row: TemplateRowType, tx: EntityManager) => Promise<string | false> | string | false;

export function createTemplateService(deps: TemplateServiceDeps): ServiceImpl<typeof TemplateService> {
  const now = deps.now ?? (() => new Date());
  // Counted in the service's database, which every replica opens (docs/limits.md).
  const rates = postgresRates(deps.em);
  const writes = new RateLimit("template writes per creator", deps.writesPerCreator, rates);
  const publishes = new RateLimit("template publishes per creator", deps.publishesPerCreator, rates);
  const operators = deps.operators ?? new Set<string>();
  const served = deps.models ?? DEFAULT_SERVED_MODELS;
  /** A changed model must be served; the one the row has may stay (models/policy.ts). */
  const checkModelOf = (row: TemplateRowType, field: string, model: Parameters<typeof checkServedModel>[1]) =>
    checkServedModel(field, model, served, row.model?.default);
  const holdLookAlike = createLookAlikeHold();

  /** A write's answer, with the template's delisting: a creator whose change was held sees why at once. */
  async function answer(row: TemplateRowType): Promise<Template> {
    const template = rowToProto(row);
    template.delisting = (await delistingsOf(deps.em.fork(), [row.id])).get(row.id);
    return template;
  }

  async function spendNonce(tx: EntityManager, nonce: string, inboxId: string, purpose: SignedOperation) {
    if (!(await consumeNonce(tx, { nonce, inboxId, purpose }))) {
      throw nonceUsed("signature.nonce");
    }
  }

  /** The template `id` if the caller may see it (catalog/visible.ts). */
  const visible = (id: string, ctx: HandlerContext) =>
    visibleTemplate(deps.em.fork(), operators, id, callerInboxId(ctx));

  /**
   * The one path of every change to an existing template: verify the
   * creator's signature (outside the transaction: it is CPU work), then lock
   * the row, check the expected version, spend the nonce, apply the change and
   * write the new version's snapshot, all in one transaction. A content
   * change also keeps the signed change with its version and enters the
   * sync outbox in that transaction; a publish, or a new name or
   * instructions of a public template, may be held there as a look-alike.
   */
  async function mutate(
    templateId: string,
    expected: bigint,
    operation: SignedOperation,
    fields: OperationFields,
    signature: Signature | undefined,
    change: Change,
    opts: { allowArchived?: boolean; content?: ContentChange; publish?: boolean } = {},
  ): Promise<TemplateRowType> {
    checkTemplateId(templateId);
    const version = checkExpectedVersion(expected);
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
      await spendNonce(tx, verified.nonce, row.creatorId, operation);
      const was = { visibility: row.visibility, name: row.agentName, instructions: row.instructions };
      const summary = await change(row, tx);
      if (summary === false) return row;
      const at = now();
      row.version += 1;
      row.updatedAt = at;
      if (opts.content) {
        row.contentVersion = row.version;
        recordVersion(tx, row, row.creatorId, summary, at, { ...opts.content, signature: verified.signature });
        await enqueueTemplateSync(tx, row.id, row.version);
        // Templates built on this one run on its content too: their agents get it.
        for (const above of await templatesAbove(tx, row.id))
          await enqueueTemplateSync(tx, above.id, above.contentVersion);
        contentChanged = true;
      } else {
        recordVersion(tx, row, row.creatorId, summary, at);
      }
      // What the store would show anew (docs/store.md, "Look-alike templates").
      const shownAnew =
        was.visibility !== "public" || was.name !== row.agentName || was.instructions !== row.instructions;
      if (row.visibility === "public" && row.status === "active" && shownAnew) await holdLookAlike(tx, row, at);
      return row;
    });
    if (contentChanged) deps.onContentChange?.();
    return updated;
  }

  return {
    async createTemplate(req) {
      checkInboxId(req.creatorId, "creator_id");
      if (!req.content) throw invalidArgument("content", "is required");
      const content = contentToJson(req.content);
      validateContent(content);
      checkServedModel("content.model", content.model, served);
      const verified = await deps.verifier.verify(
        "CreateTemplate",
        { inboxId: req.creatorId, contentHash: jsonHash(content) },
        req.signature,
      );
      await writes.take(req.creatorId);
      const row = await deps.em.fork().transactional(async (tx) => {
        await spendNonce(tx, verified.nonce, req.creatorId, "CreateTemplate");
        // Derived from what the creator signed, so that version 1 names its template (ids.ts).
        const id = templateIdFor(req.creatorId, verified.nonce);
        await checkBase(tx, { id, creatorId: req.creatorId }, content);
        const at = now();
        const row = tx.create(TemplateRow, newTemplateRow(id, req.creatorId, content, at));
        // Kept like every content change; not synced: a new template has no instances yet.
        recordVersion(tx, row, req.creatorId, "create", at, { kind: "create", signature: verified.signature });
        return row;
      });
      return { template: rowToProto(row) };
    },

    async getTemplate(req, ctx) {
      const row = await visible(req.templateId, ctx);
      const resolved = req.resolve
        ? await resolvedView(deps.em.fork(), {
            templateId: row.id,
            creatorId: row.creatorId,
            version: row.contentVersion,
            content: rowContent(row),
          })
        : undefined;
      const [template] = await withStandings(deps.em.fork(), [rowToProto(row)]);
      return { template, resolved };
    },

    async updateTemplate(req) {
      if (!req.content) throw invalidArgument("content", "is required");
      const content = contentToJson(req.content);
      validateContent(content);
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "UpdateTemplate",
        { contentHash: jsonHash(content), acknowledgeWalletRemoval: req.acknowledgeWalletRemoval },
        req.signature,
        async (row, tx) => {
          checkModelOf(row, "content.model", content.model);
          await checkBase(tx, row, content);
          await checkWallet(tx, row, content, req.acknowledgeWalletRemoval);
          assignContent(row, content);
          return "update";
        },
        { content: { kind: "update", releaseNotes, acknowledgedWalletRemoval: req.acknowledgeWalletRemoval } },
      );
      return { template: await answer(row) };
    },

    async patchTemplate(req) {
      if (!req.patch) throw invalidArgument("patch", "is required");
      const patch = patchToJson(req.patch);
      validatePatch(patch);
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      checkTemplateId(req.templateId);
      // The creator signs the resulting content too: the patch applied to the version it is based on.
      const result = applyPatch(
        await contentAt(deps.em.fork(), req.templateId, checkExpectedVersion(req.expectedVersion)),
        patch,
      );
      const patchHash = jsonHash(patch);
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "PatchTemplate",
        { patchHash, contentHash: jsonHash(result), acknowledgeWalletRemoval: req.acknowledgeWalletRemoval },
        req.signature,
        async (row, tx) => {
          checkModelOf(row, "patch.model", patch.model);
          await checkBase(tx, row, result);
          await checkWallet(tx, row, result, req.acknowledgeWalletRemoval);
          // The row is at the expected version, so its content is what `result` was built from.
          assignContent(row, result);
          return `patch ${Object.keys(patch).sort().join(", ")}`;
        },
        {
          content: { kind: "patch", patchHash, releaseNotes, acknowledgedWalletRemoval: req.acknowledgeWalletRemoval },
        },
      );
      return { template: await answer(row) };
    },

    async setTemplateVisibility(req) {
      checkVisibility(req.visibility);
      const target = visibilityName(req.visibility);
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "SetTemplateVisibility",
        { visibility: target },
        req.signature,
        (row) => {
          if (row.visibility === target) return false;
          row.visibility = target;
          return target === "public" ? "publish" : "unpublish";
        },
        { publish: target === "public" },
      );
      return { template: await answer(row) };
    },

    async archiveTemplate(req) {
      const row = await mutate(req.templateId, req.expectedVersion, "ArchiveTemplate", {}, req.signature, (row) => {
        row.status = "archived";
        return "archive";
      });
      return { template: rowToProto(row) };
    },

    async deleteTemplate(req) {
      await mutate(
        req.templateId,
        req.expectedVersion,
        "DeleteTemplate",
        {},
        req.signature,
        async (row, tx) => {
          const above = await dependents(tx, row.id);
          if (above.length > 0) {
            throw failedPrecondition(
              `template ${row.id} is the base of ${above.join(", ")}${above.length === 5 ? " and more" : ""}: archive it instead (they keep running on it)`,
            );
          }
          tx.remove(row); // its versions go with it (on delete cascade)
          return false as const;
        },
        { allowArchived: true },
      );
      return {};
    },

    async listTemplateVersions(req, ctx) {
      const row = await visible(req.templateId, ctx);
      // History can hold instructions the creator has since replaced: theirs only.
      if (callerInboxId(ctx) !== row.creatorId) throw notFound(`version history of template ${req.templateId}`);
      return versionsPage(deps.em.fork(), row, req);
    },

    async rollbackTemplate(req) {
      const target = checkTargetVersion(req.targetVersion);
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      checkTemplateId(req.templateId);
      const base = checkExpectedVersion(req.expectedVersion);
      checkRollsBack(target, base);
      // Versions never change once written: the creator signs the content restored from this one.
      const old = await deps.em.fork().findOne(TemplateVersionRow, { template: req.templateId, version: target });
      if (!old) throw notFound(`version ${target} of template ${req.templateId}`);
      const restored = old.snapshot.content;
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "RollbackTemplate",
        {
          targetVersion: BigInt(target),
          contentHash: jsonHash(restored),
          acknowledgeWalletRemoval: req.acknowledgeWalletRemoval,
        },
        req.signature,
        async (row, tx) => {
          // The base it had then must still be one it may have.
          await checkBase(tx, row, restored);
          await checkWallet(tx, row, restored, req.acknowledgeWalletRemoval);
          // Content only: visibility and status stay as they are (publishing is a deliberate act).
          assignContent(row, restored);
          return `rollback to v${target}`;
        },
        {
          content: {
            kind: "rollback",
            rollbackTarget: target,
            releaseNotes,
            acknowledgedWalletRemoval: req.acknowledgeWalletRemoval,
          },
        },
      );
      return { template: await answer(row) };
    },

    async browseStore(req) {
      checkCategory(req.category);
      const page = await browseStore(deps.em.fork(), {
        query: req.query,
        category: req.category,
        sort: req.sort,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
      return {
        templates: await withStandings(deps.em.fork(), page.rows.map(listedToProto)),
        nextPageToken: page.nextPageToken,
      };
    },

    async listCreatorTemplates(req, ctx) {
      checkInboxId(req.creatorId, "creator_id");
      const own = callerInboxId(ctx) === req.creatorId;
      const page = await listCreatorTemplates(deps.em.fork(), req.creatorId, {
        includePrivate: own,
        includeArchived: own && req.includeArchived,
        limit: pageSize(req.pageSize),
        pageToken: req.pageToken,
      });
      return {
        templates: await withStandings(deps.em.fork(), page.rows.map(listedToProto)),
        nextPageToken: page.nextPageToken,
      };
    },

    ...createReleaseNotesHandlers({ em: deps.em, visibleTemplate: visible }),
    ...createModelHandlers(served),
  };
}
