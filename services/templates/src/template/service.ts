// TemplateService's handlers. Every change to an existing template goes
// through mutate() (mutate.ts: validation, signature, version check, write,
// outbox, nonce, in one transaction). Beside it: versions.ts (the version
// history), release-notes.ts (diffs and release notes), wallet-removal.ts (a
// version without the wallet). Below it, in catalog/: checks.ts (what a
// request must hold), proto.ts (a template's shapes), visible.ts (who may
// read a template), listings.ts (the store's listings). A template entering
// the store, or changing its name or instructions there, is compared with
// the popular ones of other creators and may be held (curation/hold.ts).
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  applyPatch,
  checkAll,
  contentToJson,
  failedPrecondition,
  invalidArgument,
  jsonHash,
  notFound,
  patchToJson,
  refuseViolations,
  templateIdFor,
} from "@convos-pool/kit/content";
import { callerInboxId, pageSize, storeQueryViolations } from "@convos-pool/kit/server";
import { checkBase, dependents, resolvedView } from "../release/bases.js";
import { checkExpectedVersion, checkInboxId, checkTemplateId, checkVisibility } from "../catalog/checks.js";
import { withStandings } from "../ratings/sql.js";
import { TemplateRow, TemplateVersionRow } from "../db/entities.js";
import { createReleaseNotesHandlers } from "./release-notes.js";
import { newTemplateContent, patchViolations, rollbackViolations, updateViolations } from "./policy.js";
import { browseStore, listCreatorTemplates } from "../catalog/listings.js";
import {
  assignContent,
  listedToProto,
  newTemplateRow,
  rowContent,
  rowToProto,
  templateProto,
  visibilityName,
} from "../catalog/proto.js";
import { servedContent } from "../catalog/rollout.js";
import { contentAt, recordVersion, versionsPage } from "./versions.js";
import { visibleTemplate } from "../catalog/visible.js";
import { checkNewContent, createTemplateWrites, spendNonce, type TemplateServiceDeps } from "./mutate.js";
import { DEFAULT_SERVED_MODELS } from "../models/policy.js";
import { createModelHandlers } from "../models/service.js";

export type { TemplateServiceDeps } from "./mutate.js";

export function createTemplateService(deps: TemplateServiceDeps): ServiceImpl<typeof TemplateService> {
  const { mutate, writes, now, checkModelOf, answer } = createTemplateWrites(deps);
  const operators = deps.operators ?? new Set<string>();
  const served = deps.models ?? DEFAULT_SERVED_MODELS;

  /** The template `id` if the caller may see it (catalog/visible.ts). */
  const visible = (id: string, ctx: HandlerContext) =>
    visibleTemplate(deps.em.fork(), operators, id, callerInboxId(ctx));

  return {
    async createTemplate(req) {
      const content = newTemplateContent(req, served);
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
      // During a rollout, others read what adding it gives them; the creator, what they ship.
      const served = callerInboxId(ctx) === row.creatorId ? undefined : await servedContent(deps.em.fork(), row);
      const shown = served ?? { content: rowContent(row), contentVersion: row.contentVersion };
      const resolved = req.resolve
        ? await resolvedView(deps.em.fork(), {
            templateId: row.id,
            creatorId: row.creatorId,
            version: shown.contentVersion,
            content: shown.content,
          })
        : undefined;
      const [template] = await withStandings(deps.em.fork(), [templateProto({ ...row, ...shown })]);
      return { template, resolved };
    },

    async updateTemplate(req) {
      // Every bad field at once (mutate checks the id and version again, then the signature).
      refuseViolations(updateViolations(req));
      if (!req.content) throw invalidArgument("content", "is required");
      const content = contentToJson(req.content);
      const releaseNotes = req.releaseNotes;
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "UpdateTemplate",
        { contentHash: jsonHash(content), acknowledgeWalletRemoval: req.acknowledgeWalletRemoval },
        req.signature,
        async (row, tx) => {
          checkModelOf(row, "content.model", content.model);
          await checkNewContent(tx, row, content, req.acknowledgeWalletRemoval);
          assignContent(row, content);
          return "update";
        },
        { content: { kind: "update", releaseNotes, acknowledgedWalletRemoval: req.acknowledgeWalletRemoval } },
      );
      return { template: await answer(row) };
    },

    async patchTemplate(req) {
      refuseViolations(patchViolations(req));
      if (!req.patch) throw invalidArgument("patch", "is required");
      const patch = patchToJson(req.patch);
      const releaseNotes = req.releaseNotes;
      // The creator signs the resulting content too: the patch applied to the version it is based on.
      const result = applyPatch(await contentAt(deps.em.fork(), req.templateId, Number(req.expectedVersion)), patch);
      const patchHash = jsonHash(patch);
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "PatchTemplate",
        { patchHash, contentHash: jsonHash(result), acknowledgeWalletRemoval: req.acknowledgeWalletRemoval },
        req.signature,
        async (row, tx) => {
          checkModelOf(row, "patch.model", patch.model);
          await checkNewContent(tx, row, result, req.acknowledgeWalletRemoval);
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
      // Every bad field at once (mutate checks the id and version again, then the signature).
      checkAll(
        () => checkTemplateId(req.templateId),
        () => checkExpectedVersion(req.expectedVersion),
        () => checkVisibility(req.visibility),
      );
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
        { allowArchived: true, duringRollout: true },
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
      refuseViolations(rollbackViolations(req));
      const target = Number(req.targetVersion);
      const releaseNotes = req.releaseNotes;
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
          await checkNewContent(tx, row, restored, req.acknowledgeWalletRemoval);
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
      // Every fault of the query at once, the kit's rules (REST runs them beside a sort word it has no value for).
      refuseViolations(storeQueryViolations(req));
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
