// The store curation tables (docs/store.md): reports, delistings with their
// requests for review, the featured list, the curation log, and what the
// pool's hold of a look-alike template reads and writes. The SQL of the
// curation flow lives here; service.ts and hold.ts decide. What
// every feature reads of them (is it delisted, featured) is
// catalog/standing.ts; the log's write, with the signed act, catalog/act.ts.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  CurationLogEntrySchema,
  ReportState,
  TemplateReportSchema,
  type CurationLogEntry,
  type TemplateReport,
} from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { ReviewState } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import { LIST_COLUMNS, type ListedRow, type Page } from "../catalog/listings.js";
import {
  COMPARED_INSTRUCTION_CHARS,
  HOLD_ACTION,
  MIN_POPULAR_DAYS,
  MIN_POPULAR_OWNERS,
  POOL_ACTOR,
  POPULAR_COMPARED,
  type Cleared,
  type LookAlike,
  type Resemblance,
} from "./look-alike.js";

const ts = (d: Date | string) => timestampFromDate(new Date(d));

// ---------------------------------------------------------------- reports

interface ReportRow {
  template_id: string;
  reporter_id: string;
  reason: string;
  state: "open" | "upheld" | "dismissed";
  reported_at: Date | string;
  resolved_by: string | null;
  resolved_at: Date | string | null;
}

const REPORT_STATES = { open: ReportState.OPEN, upheld: ReportState.UPHELD, dismissed: ReportState.DISMISSED };

function reportToProto(r: ReportRow): TemplateReport {
  return create(TemplateReportSchema, {
    templateId: r.template_id,
    reporterId: r.reporter_id,
    reason: r.reason,
    state: REPORT_STATES[r.state],
    reportedAt: ts(r.reported_at),
    resolvedBy: r.resolved_by ?? "",
    ...(r.resolved_at ? { resolvedAt: ts(r.resolved_at) } : {}),
  });
}

/**
 * Files a report, or reopens the reporter's closed one with the new reason.
 * Undefined when the reporter's report of it is still open (one per person).
 */
export async function fileReport(
  em: EntityManager,
  r: { templateId: string; reporterId: string; reason: string; at: Date },
): Promise<TemplateReport | undefined> {
  const rows = await em.execute<ReportRow[]>(
    `insert into template_reports (template_id, reporter_id, reason, state, reported_at) values (?, ?, ?, 'open', ?)
      on conflict (template_id, reporter_id) do update set reason = excluded.reason, state = 'open', reported_at = excluded.reported_at,
        resolved_by = null, resolved_at = null
      where template_reports.state <> 'open'
      returning *`,
    [r.templateId, r.reporterId, r.reason, r.at],
  );
  return rows[0] && reportToProto(rows[0]);
}

export async function listReports(
  em: EntityManager,
  q: { templateId: string; includeResolved: boolean; limit: number; pageToken: string },
): Promise<{ reports: TemplateReport[]; nextPageToken: string }> {
  const where = ["true"];
  const params: unknown[] = [];
  if (q.templateId) {
    where.push(`template_id = ?`);
    params.push(q.templateId);
  }
  if (!q.includeResolved) where.push(`state = 'open'`);
  const cursor = decodePageToken(q.pageToken, 3, "page_token", (v) => isDateAndId(v) && typeof v[2] === "string");
  if (cursor) {
    where.push(`(reported_at, template_id, reporter_id) < (?::timestamptz, ?, ?)`);
    params.push(...cursor);
  }
  const rows = await em.execute<ReportRow[]>(
    `select * from template_reports where ${where.join(" and ")} order by reported_at desc, template_id desc, reporter_id desc limit ${q.limit + 1}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    reports: page.map(reportToProto),
    nextPageToken:
      rows.length > q.limit && last
        ? encodePageToken([new Date(last.reported_at).toISOString(), last.template_id, last.reporter_id])
        : "",
  };
}

/** Closes a template's open reports; how many. */
export async function resolveReports(
  em: EntityManager,
  templateId: string,
  state: "upheld" | "dismissed",
  by: string,
  at: Date,
): Promise<number> {
  const rows = await em.execute(
    `update template_reports set state = ?, resolved_by = ?, resolved_at = ? where template_id = ? and state = 'open' returning 1`,
    [state, by, at, templateId],
  );
  return rows.length;
}

// ---------------------------------------------------------------- delistings

/** Delists; false when it already was. Also takes it off the featured list. */
export async function delist(
  em: EntityManager,
  d: { templateId: string; reason: string; operatorId: string; at: Date },
): Promise<boolean> {
  const rows = await em.execute(
    `insert into template_delistings (template_id, reason, operator_id, delisted_at) values (?, ?, ?, ?) on conflict do nothing returning 1`,
    [d.templateId, d.reason, d.operatorId, d.at],
  );
  await em.execute(`delete from template_featured where template_id = ?`, [d.templateId]);
  return rows.length > 0;
}

/** Relists; false when it was not delisted. */
export async function relist(em: EntityManager, templateId: string): Promise<boolean> {
  return (
    (await em.execute(`delete from template_delistings where template_id = ? returning 1`, [templateId])).length > 0
  );
}

/** The creator asks for a review of `version`; false when it is not delisted. */
export async function requestReview(
  em: EntityManager,
  r: { templateId: string; message: string; version: number; at: Date },
): Promise<boolean> {
  const rows = await em.execute(
    `update template_delistings set review_state = ?, review_message = ?, review_version = ?, review_requested_at = ?, review_note = ''
      where template_id = ? returning 1`,
    [ReviewState.REQUESTED, r.message, r.version, r.at, r.templateId],
  );
  return rows.length > 0;
}

/** An operator keeps it delisted; false when no review was asked for. */
export async function declineReview(em: EntityManager, templateId: string, note: string): Promise<boolean> {
  const rows = await em.execute(
    `update template_delistings set review_state = ?, review_note = ? where template_id = ? and review_state = ? returning 1`,
    [ReviewState.DECLINED, note, templateId, ReviewState.REQUESTED],
  );
  return rows.length > 0;
}

/** Delisted templates, the most recent delisting or request for review first. */
export async function listDelisted(
  em: EntityManager,
  q: { reviewRequestedOnly: boolean; limit: number; pageToken: string },
): Promise<Page> {
  const key = `coalesce(d.review_requested_at, d.delisted_at)`;
  const where = ["true"];
  const params: unknown[] = [];
  if (q.reviewRequestedOnly) {
    where.push(`d.review_state = ?`);
    params.push(ReviewState.REQUESTED);
  }
  const cursor = decodePageToken(q.pageToken, 2, "page_token", isDateAndId);
  if (cursor) {
    where.push(`(${key}, t.id) < (?::timestamptz, ?)`);
    params.push(...cursor);
  }
  const rows = await em.execute<(ListedRow & { k: Date | string })[]>(
    `select ${LIST_COLUMNS}, ${key} as k from templates t join template_delistings d on d.template_id = t.id
      where ${where.join(" and ")} order by ${key} desc, t.id desc limit ${q.limit + 1}`,
    params,
  );
  return pageOf(rows, q.limit, (r) => [new Date(r.k).toISOString(), r.id]);
}

// ---------------------------------------------------------------- featured

/** Features (true) or unfeatures; whether anything changed. */
export async function setFeatured(
  em: EntityManager,
  f: { templateId: string; featured: boolean; operatorId: string; at: Date },
): Promise<boolean> {
  const rows = f.featured
    ? await em.execute(
        `insert into template_featured (template_id, operator_id, featured_at) values (?, ?, ?) on conflict do nothing returning 1`,
        [f.templateId, f.operatorId, f.at],
      )
    : await em.execute(`delete from template_featured where template_id = ? returning 1`, [f.templateId]);
  return rows.length > 0;
}

/** The featured templates still in the store, most recently featured first. */
export async function listFeatured(em: EntityManager, q: { limit: number; pageToken: string }): Promise<Page> {
  const where = [
    `t.visibility = 'public'`,
    `t.status = 'active'`,
    `not exists (select 1 from template_delistings d where d.template_id = t.id)`,
  ];
  const params: unknown[] = [];
  const cursor = decodePageToken(q.pageToken, 2, "page_token", isDateAndId);
  if (cursor) {
    where.push(`(f.featured_at, t.id) < (?::timestamptz, ?)`);
    params.push(...cursor);
  }
  const rows = await em.execute<(ListedRow & { k: Date | string })[]>(
    `select ${LIST_COLUMNS}, f.featured_at as k from templates t join template_featured f on f.template_id = t.id
      where ${where.join(" and ")} order by f.featured_at desc, t.id desc limit ${q.limit + 1}`,
    params,
  );
  return pageOf(rows, q.limit, (r) => [new Date(r.k).toISOString(), r.id]);
}

// ---------------------------------------------------------------- the log

interface LogRow {
  id: string;
  at: Date | string;
  actor_id: string;
  action: string;
  template_id: string;
  fields: Record<string, unknown>;
  /** Null for the pool's own entries (a hold: look-alike.ts), which nobody signs. */
  signature: string | null;
  signature_issued_at: string | null;
  signature_nonce: string | null;
}

/** Newest first; `templateIds` limits it to those templates (a creator's), `templateId` to one. */
export async function listLog(
  em: EntityManager,
  q: { templateId: string; creatorId?: string; limit: number; pageToken: string },
): Promise<{ entries: CurationLogEntry[]; nextPageToken: string }> {
  const where = ["true"];
  const params: unknown[] = [];
  if (q.templateId) {
    where.push(`l.template_id = ?`);
    params.push(q.templateId);
  }
  if (q.creatorId) {
    // About their templates, or a tool grant to them (logged with no template).
    where.push(
      `(exists (select 1 from templates t where t.id = l.template_id and t.creator_id = ?) or (l.template_id = '' and l.fields->>'creatorId' = ?))`,
    );
    params.push(q.creatorId, q.creatorId);
  }
  const cursor = decodePageToken(q.pageToken, 1, "page_token", (v) => /^\d+$/.test(String(v[0])));
  if (cursor) {
    where.push(`l.id < ?::bigint`);
    params.push(String(cursor[0]));
  }
  const rows = await em.execute<LogRow[]>(
    `select * from curation_log l where ${where.join(" and ")} order by l.id desc limit ${q.limit + 1}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    entries: page.map((r) =>
      create(CurationLogEntrySchema, {
        id: BigInt(r.id),
        at: ts(r.at),
        actorId: r.actor_id,
        action: r.action,
        templateId: r.template_id,
        fieldsJson: JSON.stringify(r.fields),
        ...(r.signature !== null
          ? {
              signature: {
                signature: r.signature,
                issuedAt: BigInt(r.signature_issued_at ?? 0),
                nonce: r.signature_nonce ?? "",
              },
            }
          : {}),
      }),
    ),
    nextPageToken: rows.length > q.limit && last ? encodePageToken([String(last.id)]) : "",
  };
}

// ---------------------------------------------------------------- look-alikes (hold.ts)

/**
 * The templates a new one is compared with: the most used in the store
 * ("most used": distinct recent owners, then id, an index walk), popular
 * enough, of other creators. Names and content versions only; the
 * instructions are read by instructionsOf when not known yet.
 */
export async function popularOfOthers(
  em: EntityManager,
  creatorId: string,
): Promise<{ id: string; creatorId: string; name: string; contentVersion: number }[]> {
  const rows = await em.execute<{ id: string; creator_id: string; agent_name: string; content_version: number }[]>(
    `select id, creator_id, agent_name, content_version from templates t
      where visibility = 'public' and status = 'active' and recent_owners >= ? and creator_id <> ?
        and created_at <= now() - interval '1 day' * ?
        and not exists (select 1 from template_delistings d where d.template_id = t.id)
      order by recent_owners desc, id desc limit ${POPULAR_COMPARED}`,
    [MIN_POPULAR_OWNERS, creatorId, MIN_POPULAR_DAYS],
  );
  return rows.map((r) => ({
    id: r.id,
    creatorId: r.creator_id,
    name: r.agent_name,
    contentVersion: r.content_version,
  }));
}

/** These templates' instructions as far as they are compared, with the content version they are of. */
export async function instructionsOf(
  em: EntityManager,
  ids: readonly string[],
): Promise<{ id: string; contentVersion: number; instructions: string }[]> {
  if (ids.length === 0) return [];
  const rows = await em.execute<{ id: string; content_version: number; instructions: string }[]>(
    `select id, content_version, left(instructions, ${COMPARED_INSTRUCTION_CHARS}) as instructions from templates where id in (?)`,
    [[...ids]],
  );
  return rows.map((r) => ({ id: r.id, contentVersion: r.content_version, instructions: r.instructions }));
}

/**
 * What operators let through: for each template this one was held against
 * and then relisted (an operator's RelistTemplate after the pool's hold, in
 * the curation log), the ways it resembled it then.
 */
export async function clearedLookAlikes(em: EntityManager, templateId: string): Promise<Cleared> {
  const rows = await em.execute<{ fields: { resemblesTemplateId?: unknown; matched?: unknown } }[]>(
    `select h.fields from curation_log h where h.template_id = ? and h.action = ? and h.actor_id = ?
      and exists (select 1 from curation_log r where r.template_id = h.template_id and r.action = 'RelistTemplate' and r.id > h.id)`,
    [templateId, HOLD_ACTION, POOL_ACTOR],
  );
  const cleared = new Map<string, Set<Resemblance>>();
  for (const { fields } of rows) {
    if (typeof fields.resemblesTemplateId !== "string" || !Array.isArray(fields.matched)) continue;
    const ways = cleared.get(fields.resemblesTemplateId) ?? new Set<Resemblance>();
    for (const m of fields.matched as unknown[]) if (m === "name" || m === "instructions") ways.add(m);
    cleared.set(fields.resemblesTemplateId, ways);
  }
  return cleared;
}

/**
 * The pool holds a template for review: delisted by the pool (POOL_ACTOR)
 * with `reason`, and the pool's own entry in the curation log, unsigned.
 * False, and nothing written, when it already was delisted.
 */
export async function holdForReview(
  em: EntityManager,
  h: { templateId: string; version: number; match: LookAlike; reason: string; at: Date },
): Promise<boolean> {
  if (!(await delist(em, { templateId: h.templateId, reason: h.reason, operatorId: POOL_ACTOR, at: h.at })))
    return false;
  const fields = {
    version: String(h.version),
    resemblesTemplateId: h.match.template.id,
    resemblesName: h.match.template.name,
    matched: h.match.matched,
    reason: h.reason,
  };
  await em.execute(
    `insert into curation_log (at, actor_id, action, template_id, fields) values (?, ?, ?, ?, ?::jsonb)`,
    [h.at, POOL_ACTOR, HOLD_ACTION, h.templateId, JSON.stringify(fields)],
  );
  return true;
}

function pageOf<R extends ListedRow>(rows: R[], limit: number, keyOf: (r: R) => (string | number)[]): Page {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, nextPageToken: rows.length > limit && last ? encodePageToken(keyOf(last)) : "" };
}
