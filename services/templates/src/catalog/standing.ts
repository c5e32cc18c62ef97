// A template's standing in the store, read: whether it is delisted (and its
// request for review), and whether it is featured (docs/store.md). The
// curation flow that writes them is curation/sql.ts.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  TemplateDelistingSchema,
  type ReviewState,
  type Template,
  type TemplateDelisting,
} from "@convos-pool/gen/convos/pool/v1/template_pb.js";

interface DelistingRow {
  template_id: string;
  reason: string;
  operator_id: string;
  delisted_at: Date | string;
  review_state: number;
  review_message: string;
  review_version: number;
  review_requested_at: Date | string | null;
  review_note: string;
}

const ts = (d: Date | string) => timestampFromDate(new Date(d));

function delistingToProto(r: DelistingRow): TemplateDelisting {
  return create(TemplateDelistingSchema, {
    reason: r.reason,
    operatorId: r.operator_id,
    delistedAt: ts(r.delisted_at),
    reviewState: r.review_state as ReviewState,
    reviewMessage: r.review_message,
    reviewVersion: BigInt(r.review_version),
    ...(r.review_requested_at ? { reviewRequestedAt: ts(r.review_requested_at) } : {}),
    reviewNote: r.review_note,
  });
}

/** The delistings of these templates (the others are listed). */
export async function delistingsOf(em: EntityManager, ids: readonly string[]): Promise<Map<string, TemplateDelisting>> {
  if (ids.length === 0) return new Map();
  const rows = await em.execute<DelistingRow[]>(`select * from template_delistings where template_id in (?)`, [
    [...ids],
  ]);
  return new Map(rows.map((r) => [r.template_id, delistingToProto(r)]));
}

/** Sets each template's `delisting` and `featured` from the curation tables (its `ratings`: ratings/sql.ts, withStandings). */
export async function withDelistingAndFeatured(em: EntityManager, templates: Template[]): Promise<Template[]> {
  if (templates.length === 0) return templates;
  const ids = templates.map((t) => t.id);
  const delisted = await delistingsOf(em, ids);
  const featured = new Set(
    (
      await em.execute<{ template_id: string }[]>(
        `select template_id from template_featured where template_id in (?)`,
        [ids],
      )
    ).map((r) => r.template_id),
  );
  for (const t of templates) {
    t.delisting = delisted.get(t.id);
    t.featured = featured.has(t.id);
  }
  return templates;
}

export async function isDelisted(em: EntityManager, id: string): Promise<boolean> {
  return (await em.execute(`select 1 from template_delistings where template_id = ?`, [id])).length > 0;
}
