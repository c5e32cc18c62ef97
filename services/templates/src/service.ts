import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import { TrustLevel, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  TemplateDelistingSchema,
  TemplateSchema,
  TemplateStatus,
  TemplateVersionSchema,
  Visibility,
  type Template,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  type StoreSort,
  type TemplateReleaseService,
  type TemplateService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  applyPatch,
  callerInboxId,
  conflict,
  consumeNonce,
  contentFromJson,
  contentToJson,
  decodePageToken,
  encodePageToken,
  failedPrecondition,
  INBOX_ID_PATTERN,
  invalidArgument,
  jsonHash,
  nonceUsed,
  notFound,
  type OperationFields,
  pageSize,
  parseTrustLevel,
  patchToJson,
  type Rate,
  RateLimit,
  requireString,
  type SignatureVerifier,
  type SignedOperation,
  type SoulJson,
  TEMPLATE_ID_PATTERN,
  type TemplateContentJson,
  templateIdFor,
  trustLevelName,
  validateContent,
  validatePatch,
} from "@convos-pool/kit";
import {
  TemplateRow,
  TemplateVersionRow,
  type ContentChangeKind,
  type TemplateRowType,
  type TemplateSnapshot,
} from "./entities.js";
import { delistingsOf, isDelisted, withStandings } from "./curation-sql.js";
import { checkBase, dependents, releaseWithBases, resolvedView, templatesAbove } from "./bases.js";
import { enqueueTemplateSync } from "./outbox.js";
import { createReleaseNotesHandlers } from "./release-notes.js";
import { browseStore, listCreatorTemplates, type ListedRow } from "./store.js";

export interface TemplateServiceDeps {
  em: EntityManager;
  verifier: SignatureVerifier;
  /** Template writes per creator (docs/limits.md); absent: none. */
  writesPerCreator?: Rate;
  /** Publishes per creator (docs/limits.md); absent: none. */
  publishesPerCreator?: Rate;
  /** The operators' inbox ids (POOL_OPERATORS): they read delisted templates (docs/store.md). */
  operators?: ReadonlySet<string>;
  now?: () => Date;
  /** Called after a content change to an existing template committed (it is in the sync outbox). */
  onContentChange?: () => void;
}

function checkTemplateId(id: string, field = "template_id"): void {
  if (!TEMPLATE_ID_PATTERN.test(id))
    throw invalidArgument(field, 'must be a template id such as "tmpl_" followed by 16 letters or digits');
}

function checkInboxId(id: string, field: string): void {
  if (!INBOX_ID_PATTERN.test(id))
    throw invalidArgument(field, "must be an XMTP inbox ID (64 lower-case hex characters)");
}

/** Release notes: display text beside a content change (docs/store.md). */
const checkReleaseNotes = (notes: string) => requireString("release_notes", notes, { min: 0, max: 2_000 });

function checkExpectedVersion(v: bigint): number {
  if (v < 1n || v > 2_000_000_000n) {
    throw invalidArgument("expected_version", "is required: the version your change is based on (If-Match on REST)");
  }
  return Number(v);
}

const visibilityName = (v: Visibility) => (v === Visibility.PUBLIC ? "public" : "private");

function toProto(r: {
  id: string;
  creatorId: string;
  content: TemplateContentJson;
  visibility: string;
  status: string;
  version: number;
  contentVersion: number;
  usageCount: number | string;
  recentOwners: number;
  createdAt: Date | string;
  updatedAt: Date | string;
}): Template {
  return create(TemplateSchema, {
    id: r.id,
    creatorId: r.creatorId,
    content: contentFromJson(r.content),
    visibility: r.visibility === "public" ? Visibility.PUBLIC : Visibility.PRIVATE,
    status: r.status === "archived" ? TemplateStatus.ARCHIVED : TemplateStatus.ACTIVE,
    version: BigInt(r.version),
    contentVersion: BigInt(r.contentVersion),
    usageCount: BigInt(r.usageCount),
    recentOwners: BigInt(r.recentOwners),
    createdAt: timestampFromDate(new Date(r.createdAt)),
    updatedAt: timestampFromDate(new Date(r.updatedAt)),
  });
}

function rowContent(r: TemplateRowType): TemplateContentJson {
  const level = trustLevelName(r.maxTrustLevel);
  return {
    agent_name: r.agentName,
    instructions: r.instructions,
    ...(r.model ? { model: r.model } : {}),
    tools: r.tools,
    description: r.description,
    category: r.category,
    tags: r.tags,
    // Absent when empty or unspecified, as content is hashed (kit template-content.ts).
    ...(r.cloneDirective ? { clone_directive: r.cloneDirective } : {}),
    ...(level ? { max_trust_level: level } : {}),
    ...(r.soul ? { soul: r.soul } : {}),
    ...(r.base ? { base: r.base } : {}),
  };
}

/** The column's value for content's max_trust_level (validated already): TrustLevel's number, 0 when absent. */
const maxTrustLevelColumn = (c: TemplateContentJson): number =>
  (c.max_trust_level && parseTrustLevel(c.max_trust_level)) || TrustLevel.UNSPECIFIED;

export const rowToProto = (r: TemplateRowType) => toProto({ ...r, content: rowContent(r) });

export const listedToProto = (r: ListedRow) =>
  toProto({
    id: r.id,
    creatorId: r.creator_id,
    content: {
      agent_name: r.agent_name,
      instructions: "",
      ...(r.model ? { model: r.model as TemplateContentJson["model"] } : {}),
      tools: r.tools as TemplateContentJson["tools"],
      description: r.description,
      category: r.category,
      tags: r.tags,
      // Its identity only, which the store's cards show (store.ts).
      ...(r.soul ? { soul: r.soul as SoulJson } : {}),
    },
    visibility: r.visibility,
    status: r.status,
    version: r.version,
    contentVersion: r.content_version,
    usageCount: r.usage_count,
    recentOwners: r.recent_owners,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

function assignContent(row: TemplateRowType, c: TemplateContentJson): void {
  row.agentName = c.agent_name;
  row.instructions = c.instructions;
  row.model = c.model ?? null;
  row.base = c.base ?? null;
  row.tools = c.tools;
  row.description = c.description;
  row.category = c.category;
  row.tags = c.tags;
  row.cloneDirective = c.clone_directive ?? "";
  row.maxTrustLevel = maxTrustLevelColumn(c);
  row.soul = c.soul ?? null;
}

function snapshotOf(row: TemplateRowType): TemplateSnapshot {
  return {
    content: rowContent(row),
    visibility: row.visibility as TemplateSnapshot["visibility"],
    status: row.status as TemplateSnapshot["status"],
  };
}

/** What a mutation does to a locked row; returning false means "no change, no new version". */
type Change = (row: TemplateRowType, tx: EntityManager) => Promise<string | false> | string | false;

/** A change to the content, kept with its version as the creator signed it (release.ts). */
interface ContentChange {
  kind: ContentChangeKind;
  patchHash?: string;
  rollbackTarget?: number;
  /** The creator's words on it (docs/store.md); "" for none. */
  releaseNotes?: string;
}

export function createTemplateService(deps: TemplateServiceDeps): ServiceImpl<typeof TemplateService> {
  const now = deps.now ?? (() => new Date());
  const writes = new RateLimit("template writes per creator", deps.writesPerCreator);
  const publishes = new RateLimit("template publishes per creator", deps.publishesPerCreator);
  const operators = deps.operators ?? new Set<string>();

  async function spendNonce(tx: EntityManager, nonce: string, inboxId: string, purpose: SignedOperation) {
    if (!(await consumeNonce(tx, { nonce, inboxId, purpose }))) {
      throw nonceUsed("signature.nonce");
    }
  }

  function recordVersion(
    tx: EntityManager,
    row: TemplateRowType,
    changedBy: string,
    summary: string,
    at: Date,
    signed?: ContentChange & { signature: Signature },
  ) {
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
      releaseNotes: signed?.releaseNotes ?? "",
    });
  }

  /** The content a change based on `version` starts from: that version's snapshot. */
  async function contentAt(templateId: string, version: number): Promise<TemplateContentJson> {
    const em = deps.em.fork();
    const v = await em.findOne(TemplateVersionRow, { template: templateId, version });
    if (v) return v.snapshot.content;
    if (!(await em.findOne(TemplateRow, { id: templateId }))) throw notFound(`template ${templateId}`);
    // The signature is not checked yet: say no more than that the version is not there.
    throw conflict(`template ${templateId} has no version ${version}: fetch it, reapply your change and sign again`);
  }

  /**
   * Loads a template the caller may see: private and archived ones only for
   * their creator, delisted ones for their creator and the operators.
   */
  async function visibleTemplate(id: string, ctx: HandlerContext): Promise<TemplateRowType> {
    checkTemplateId(id);
    const em = deps.em.fork();
    const row = await em.findOne(TemplateRow, { id });
    const caller = callerInboxId(ctx);
    if (row && caller === row.creatorId) return row;
    const inStore = row?.visibility === "public" && row.status === "active";
    const operator = caller !== undefined && operators.has(caller);
    // Operators read a delisted template whatever its creator did with it since.
    if (row && (inStore || operator) && ((await isDelisted(em, id)) ? operator : inStore)) return row;
    throw notFound(`template ${id}`);
  }

  /**
   * The one path of every change to an existing template: verify the
   * creator's signature (outside the transaction: it is CPU work), then lock
   * the row, check the expected version, spend the nonce, apply the change and
   * write the new version's snapshot, all in one transaction. A content
   * change also keeps the signed change with its version and enters the
   * sync outbox in that transaction.
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
      const summary = await change(row, tx);
      if (summary === false) return row;
      const at = now();
      row.version += 1;
      row.updatedAt = at;
      if (opts.content) {
        row.contentVersion = row.version;
        // signature! : verify() refused a change without one.
        recordVersion(tx, row, row.creatorId, summary, at, { ...opts.content, signature: signature! });
        await enqueueTemplateSync(tx, row.id, row.version);
        // Templates built on this one run on its content too: their agents get it.
        for (const above of await templatesAbove(tx, row.id))
          await enqueueTemplateSync(tx, above.id, above.contentVersion);
        contentChanged = true;
      } else {
        recordVersion(tx, row, row.creatorId, summary, at);
      }
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
        const row = tx.create(TemplateRow, {
          id,
          creatorId: req.creatorId,
          agentName: content.agent_name,
          instructions: content.instructions,
          model: content.model ?? null,
          base: content.base ?? null,
          tools: content.tools,
          description: content.description,
          category: content.category,
          tags: content.tags,
          cloneDirective: content.clone_directive ?? "",
          maxTrustLevel: maxTrustLevelColumn(content),
          soul: content.soul ?? null,
          visibility: "private",
          status: "active",
          version: 1,
          contentVersion: 1,
          usageCount: 0,
          recentOwners: 0,
          createdAt: at,
          updatedAt: at,
        });
        // Kept like every content change; not synced: a new template has no instances yet.
        recordVersion(tx, row, req.creatorId, "create", at, { kind: "create", signature: req.signature! });
        return row;
      });
      return { template: rowToProto(row) };
    },

    async getTemplate(req, ctx) {
      const row = await visibleTemplate(req.templateId, ctx);
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
        { contentHash: jsonHash(content) },
        req.signature,
        async (row, tx) => {
          await checkBase(tx, row, content);
          assignContent(row, content);
          return "update";
        },
        { content: { kind: "update", releaseNotes } },
      );
      return { template: rowToProto(row) };
    },

    async patchTemplate(req) {
      if (!req.patch) throw invalidArgument("patch", "is required");
      const patch = patchToJson(req.patch);
      validatePatch(patch);
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      checkTemplateId(req.templateId);
      // The creator signs the resulting content too: the patch applied to the version it is based on.
      const result = applyPatch(await contentAt(req.templateId, checkExpectedVersion(req.expectedVersion)), patch);
      const patchHash = jsonHash(patch);
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "PatchTemplate",
        { patchHash, contentHash: jsonHash(result) },
        req.signature,
        async (row, tx) => {
          await checkBase(tx, row, result);
          // The row is at the expected version, so its content is what `result` was built from.
          assignContent(row, result);
          return `patch ${Object.keys(patch).sort().join(", ")}`;
        },
        { content: { kind: "patch", patchHash, releaseNotes } },
      );
      return { template: rowToProto(row) };
    },

    async setTemplateVisibility(req) {
      if (req.visibility !== Visibility.PUBLIC && req.visibility !== Visibility.PRIVATE) {
        throw invalidArgument("visibility", 'must be "public" or "private"');
      }
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
      return { template: rowToProto(row) };
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
      const row = await visibleTemplate(req.templateId, ctx);
      // History can hold instructions the creator has since replaced: theirs only.
      if (callerInboxId(ctx) !== row.creatorId) throw notFound(`version history of template ${req.templateId}`);
      const limit = pageSize(req.pageSize);
      const cursor = decodePageToken(req.pageToken, 1, "page_token", (v) => Number.isInteger(v[0]));
      const rows = await deps.em
        .fork()
        .find(
          TemplateVersionRow,
          { template: row.id, ...(cursor ? { version: { $lt: Number(cursor[0]) } } : {}) },
          { orderBy: { version: "desc" }, limit: limit + 1 },
        );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        versions: page.map((v) =>
          create(TemplateVersionSchema, {
            templateId: row.id,
            version: BigInt(v.version),
            snapshot: toProto({
              ...row,
              ...v.snapshot,
              version: v.version,
              contentVersion: v.contentVersion,
              updatedAt: v.changedAt,
            }),
            changedBy: v.changedBy,
            changedAt: timestampFromDate(v.changedAt),
            changeSummary: v.changeSummary,
          }),
        ),
        nextPageToken: rows.length > limit && last ? encodePageToken([last.version]) : "",
      };
    },

    async rollbackTemplate(req) {
      const target = Number(req.targetVersion);
      if (!Number.isInteger(target) || target < 1)
        throw invalidArgument("target_version", "must be a version number, 1 or more");
      const releaseNotes = checkReleaseNotes(req.releaseNotes);
      checkTemplateId(req.templateId);
      const base = checkExpectedVersion(req.expectedVersion);
      if (target >= base)
        throw invalidArgument(
          "target_version",
          `must be an earlier version than ${base}, the one the rollback is based on`,
        );
      // Versions never change once written: the creator signs the content restored from this one.
      const old = await deps.em.fork().findOne(TemplateVersionRow, { template: req.templateId, version: target });
      if (!old) throw notFound(`version ${target} of template ${req.templateId}`);
      const restored = old.snapshot.content;
      const row = await mutate(
        req.templateId,
        req.expectedVersion,
        "RollbackTemplate",
        { targetVersion: BigInt(target), contentHash: jsonHash(restored) },
        req.signature,
        async (row, tx) => {
          // The base it had then must still be one it may have.
          await checkBase(tx, row, restored);
          // Content only: visibility and status stay as they are (publishing is a deliberate act).
          assignContent(row, restored);
          return `rollback to v${target}`;
        },
        { content: { kind: "rollback", rollbackTarget: target, releaseNotes } },
      );
      return { template: rowToProto(row) };
    },

    async browseStore(req) {
      if (req.category.length > 40) throw invalidArgument("category", "must be at most 40 characters");
      const page = await browseStore(deps.em.fork(), {
        query: req.query,
        category: req.category,
        sort: req.sort as StoreSort,
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

    ...createReleaseNotesHandlers({ em: deps.em, visibleTemplate }),
  };
}

/**
 * Internal: a template with its content version as the creator signed it,
 * whatever its visibility (the claims service decides who may instantiate
 * it; the agent checks the signature). Versions never change once written,
 * so the release read after the row is that row's.
 */
export function createTemplateReleaseService(em: EntityManager): ServiceImpl<typeof TemplateReleaseService> {
  return {
    async getTemplateRelease(req) {
      checkTemplateId(req.templateId);
      const row = await em.fork().findOne(TemplateRow, { id: req.templateId });
      const release = row && (await releaseWithBases(em.fork(), row.id, row.contentVersion));
      if (!row || !release) throw notFound(`template ${req.templateId}`);
      // With its delisting: the claims service refuses new agents of a delisted template,
      // and of one built on a delisted base (its agents would run the base's instructions).
      const [template] = await withStandings(em.fork(), [rowToProto(row)]);
      if (!template!.delisting && release.bases.length > 0) {
        const delisted = await delistingsOf(
          em.fork(),
          release.bases.map((b) => b.templateId),
        );
        const [baseId, d] = [...delisted][0] ?? [];
        if (d)
          template!.delisting = create(TemplateDelistingSchema, {
            ...d,
            reason: `its base ${baseId} was delisted: ${d.reason}`,
          });
      }
      return { template, release: release.template, bases: release.bases };
    },
  };
}
