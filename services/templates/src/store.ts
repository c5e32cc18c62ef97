import type { EntityManager } from "@mikro-orm/postgresql";
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { invalidArgument } from "@convos-pool/kit";
import { decodePageToken, encodePageToken } from "./page-token.js";

/** Columns of a listing: everything but the instructions (up to 256 KiB each) and the search vector. */
export const LIST_COLUMNS = `id, creator_id, agent_name, '' as instructions, model, tools, description, category, tags,
  visibility, status, version, usage_count, created_at, updated_at`;

export interface ListedRow {
  id: string;
  creator_id: string;
  agent_name: string;
  instructions: string;
  model: unknown;
  tools: unknown;
  description: string;
  category: string;
  tags: string[];
  visibility: string;
  status: string;
  version: number;
  usage_count: string | number;
  created_at: Date | string;
  updated_at: Date | string;
  rank?: number;
}

export interface StoreQuery {
  query: string;
  category: string;
  sort: StoreSort;
  limit: number;
  pageToken: string;
}

export interface Page {
  rows: ListedRow[];
  nextPageToken: string;
}

const MAX_QUERY = 200;

/**
 * Builds the store's SQL: public, active templates, optionally matching a
 * full-text query and a category, in one of three keyset orders. Exported so
 * the benchmark can time the very same statement against PostgreSQL.
 */
export function storeSql(q: StoreQuery): { sql: string; params: unknown[]; keyOf: (r: ListedRow) => (string | number)[] } {
  if (q.query.length > MAX_QUERY) throw invalidArgument("query", `must be at most ${MAX_QUERY} characters`);
  const text = q.query.trim();
  const sort = q.sort === StoreSort.UNSPECIFIED ? (text ? StoreSort.RELEVANCE : StoreSort.NEWEST) : q.sort;
  if (sort === StoreSort.RELEVANCE && !text) throw invalidArgument("sort", "relevance needs a query");
  if (!Object.values(StoreSort).includes(sort)) throw invalidArgument("sort", "must be relevance, newest or most_used");

  const where = [`visibility = 'public'`, `status = 'active'`];
  const params: unknown[] = [];
  const ctes: string[] = [];
  let rank = "";
  if (text) {
    ctes.push(`q as (select websearch_to_tsquery('english', ?) as tsq)`);
    params.push(text);
    where.push(`search @@ q.tsq`);
    rank = `, ts_rank(search, q.tsq) as rank`;
  }
  if (q.category) {
    where.push(`category = ?`);
    params.push(q.category);
  }
  let order: string;
  let keyOf: (r: ListedRow) => (string | number)[];
  const cursor = decodePageToken(q.pageToken, 2);
  switch (sort) {
    case StoreSort.RELEVANCE:
      order = `rank desc, id desc`;
      keyOf = (r) => [r.rank ?? 0, r.id];
      if (cursor) {
        where.push(`(ts_rank(search, q.tsq), id) < (?::real, ?)`);
        params.push(Number(cursor[0]), String(cursor[1]));
      }
      break;
    case StoreSort.MOST_USED:
      order = `usage_count desc, id desc`;
      keyOf = (r) => [String(r.usage_count), r.id];
      if (cursor) {
        where.push(`(usage_count, id) < (?::bigint, ?)`);
        params.push(String(cursor[0]), String(cursor[1]));
      }
      break;
    default:
      order = `created_at desc, id desc`;
      keyOf = (r) => [new Date(r.created_at).toISOString(), r.id];
      if (cursor) {
        where.push(`(created_at, id) < (?::timestamptz, ?)`);
        params.push(String(cursor[0]), String(cursor[1]));
      }
  }
  const from = text ? `templates, q` : `templates`;
  const sql =
    (ctes.length ? `with ${ctes.join(", ")} ` : "") +
    `select ${LIST_COLUMNS}${rank} from ${from} where ${where.join(" and ")} order by ${order} limit ${q.limit + 1}`;
  return { sql, params, keyOf };
}

export async function browseStore(em: EntityManager, q: StoreQuery): Promise<Page> {
  const { sql, params, keyOf } = storeSql(q);
  return toPage(await em.execute<ListedRow[]>(sql, params), q.limit, keyOf);
}

export async function listCreatorTemplates(
  em: EntityManager,
  creatorId: string,
  opts: { includePrivate: boolean; includeArchived: boolean; limit: number; pageToken: string },
): Promise<Page> {
  const where = [`creator_id = ?`];
  const params: unknown[] = [creatorId];
  if (!opts.includePrivate) where.push(`visibility = 'public'`);
  if (!opts.includeArchived) where.push(`status = 'active'`);
  const cursor = decodePageToken(opts.pageToken, 2);
  if (cursor) {
    where.push(`(created_at, id) < (?::timestamptz, ?)`);
    params.push(String(cursor[0]), String(cursor[1]));
  }
  const rows = await em.execute<ListedRow[]>(
    `select ${LIST_COLUMNS} from templates where ${where.join(" and ")} order by created_at desc, id desc limit ${opts.limit + 1}`,
    params,
  );
  return toPage(rows, opts.limit, (r) => [new Date(r.created_at).toISOString(), r.id]);
}

function toPage(rows: ListedRow[], limit: number, keyOf: (r: ListedRow) => (string | number)[]): Page {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { rows: page, nextPageToken: more && last ? encodePageToken(keyOf(last)) : "" };
}
