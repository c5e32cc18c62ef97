// TemplateService's DiffTemplateVersions and ListReleaseNotes (docs/store.md):
// what changed between two versions, field by field with the instructions as
// a unified diff, and the creator's release notes of each content version.
// The creator reads every version; anyone else, of a template in the store,
// only versions made while it was public, since a version made in private can
// hold instructions the creator never published.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  FieldChangeSchema,
  ReleaseNoteSchema,
  type ReleaseNote,
  type TemplateService,
} from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { callerInboxId, decodePageToken, encodePageToken, pageSize } from "@convos-pool/kit/server";
import { canonicalJson, invalidArgument, notFound, unifiedDiff } from "@convos-pool/kit/content";
import { TemplateVersionRow, type TemplateRowType } from "../db/entities.js";

type VersionRow = InstanceType<typeof TemplateVersionRow.class>;

/** The REST JSON's order; fields added later come after, by name. */
const FIELD_ORDER = [
  "agent_name",
  "instructions",
  "model",
  "tools",
  "description",
  "category",
  "tags",
  "clone_directive",
  "max_trust_level",
];

export interface ReleaseNotesDeps {
  em: EntityManager;
  /** The template, if the caller may see it (catalog/visible.ts: private ones their creator's only). */
  visibleTemplate(id: string, ctx: HandlerContext): Promise<TemplateRowType>;
}

function noteOf(v: VersionRow): ReleaseNote {
  return create(ReleaseNoteSchema, {
    version: BigInt(v.version),
    changeSummary: v.changeSummary,
    releaseNotes: v.releaseNotes,
    releasedAt: timestampFromDate(v.changedAt),
  });
}

function checkVersion(field: string, v: bigint): number {
  if (v < 1n || v > 2_000_000_000n) throw invalidArgument(field, "must be a version number, 1 or more");
  return Number(v);
}

export function createReleaseNotesHandlers(
  deps: ReleaseNotesDeps,
): Pick<ServiceImpl<typeof TemplateService>, "diffTemplateVersions" | "listReleaseNotes"> {
  /** Whether the caller sees only the versions made while the template was public. */
  async function reader(
    templateId: string,
    ctx: HandlerContext,
  ): Promise<{ row: TemplateRowType; publicOnly: boolean }> {
    const row = await deps.visibleTemplate(templateId, ctx);
    return { row, publicOnly: callerInboxId(ctx) !== row.creatorId };
  }

  return {
    async diffTemplateVersions(req, ctx) {
      const from = checkVersion("from_version", req.fromVersion);
      const to = checkVersion("to_version", req.toVersion);
      const { row, publicOnly } = await reader(req.templateId, ctx);
      const em = deps.em.fork();
      const versionRow = (version: number) => em.findOne(TemplateVersionRow, { template: row.id, version });
      const [a, b] = await Promise.all([versionRow(from), versionRow(to)]);
      const shown = <V extends { snapshot: { visibility: string } }>(v: V | null): v is V =>
        v !== null && (!publicOnly || v.snapshot.visibility === "public");
      if (!shown(a)) throw notFound(`version ${from} of template ${row.id}`);
      if (!shown(b)) throw notFound(`version ${to} of template ${row.id}`);
      const before = a.snapshot.content as unknown as Record<string, unknown>;
      const after = b.snapshot.content as unknown as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(
        (x, y) => (FIELD_ORDER.indexOf(x) + 1 || 99) - (FIELD_ORDER.indexOf(y) + 1 || 99) || x.localeCompare(y),
      );
      const json = (v: unknown) => (v === undefined ? "" : canonicalJson(v));
      const changes = keys
        .filter((k) => json(before[k]) !== json(after[k]))
        .map((field) =>
          create(
            FieldChangeSchema,
            field === "instructions" ? { field } : { field, from: json(before[field]), to: json(after[field]) },
          ),
        );
      const [lo, hi] = from < to ? [from, to] : [to, from];
      const between = await em.find(
        TemplateVersionRow,
        { template: row.id, version: { $gt: lo, $lte: hi }, changeKind: { $ne: null } },
        { orderBy: { version: "desc" } },
      );
      return {
        fromVersion: BigInt(from),
        toVersion: BigInt(to),
        changes,
        instructionsDiff: unifiedDiff(a.snapshot.content.instructions, b.snapshot.content.instructions, {
          from: `v${from}`,
          to: `v${to}`,
        }),
        notes: between.filter((v) => !publicOnly || v.snapshot.visibility === "public").map(noteOf),
      };
    },

    async listReleaseNotes(req, ctx) {
      const limit = pageSize(req.pageSize);
      const { row, publicOnly } = await reader(req.templateId, ctx);
      const cursor = decodePageToken(req.pageToken, 1, "page_token", (v) => Number.isInteger(v[0]));
      // Content versions are those with the creator's signed change (db/entities.ts).
      const rows = await deps.em.fork().find(
        TemplateVersionRow,
        {
          template: row.id,
          changeKind: { $ne: null },
          ...(publicOnly ? { snapshot: { visibility: "public" } } : {}),
          ...(cursor ? { version: { $lt: Number(cursor[0]) } } : {}),
        },
        { orderBy: { version: "desc" }, limit: limit + 1 },
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        notes: page.map(noteOf),
        nextPageToken: rows.length > limit && last ? encodePageToken([last.version]) : "",
      };
    },
  };
}
