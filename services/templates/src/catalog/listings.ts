import type { EntityManager } from "@mikro-orm/postgresql";
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import {
  decodePageToken,
  encodePageToken,
  isDateAndId,
  MAX_STORE_QUERY,
  storeCursor,
  storeSort,
} from "@convos-pool/kit/server";
import { invalidArgument, type ConnectionJson, type RoutineJson } from "@convos-pool/kit/content";

/** Columns of a listing: everything but the instructions (up to 256 KiB each) and the search vector. */
export const LIST_COLUMNS = `id, creator_id, agent_name, '' as instructions, model, tools, description, category, tags,
  case when soul -> 'identity' is not null then jsonb_build_object('identity', soul -> 'identity') end as soul,
  avatar, conversation_starters, connections, routines,
  visibility, status, version, content_version, usage_count, recent_owners, rating_score, created_at, updated_at`;

/** Delisted templates are out of the store (docs/store.md). */
const LISTED = `not exists (select 1 from template_delistings d where d.template_id = id)`;

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
  /** The SOUL's identity only, or null. */
  soul: unknown;
  avatar: string;
  conversation_starters: string[];
  connections: ConnectionJson[];
  routines: RoutineJson[];
  visibility: string;
  status: string;
  version: number;
  content_version: number;
  usage_count: string | number;
  recent_owners: number;
  /** "Top rated" (ratings/policy.ts, ratingScore). */
  rating_score?: number;
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

/** A select with MikroORM-style `?` placeholders. */
export interface Select {
  sql: string;
  params: unknown[];
}

/**
 * How to answer one store request: selects tried in order until one fills
 * a page (the last one always answers), and the sort key of a row for the
 * next page token. Exported so the benchmark runs the very same SQL straight
 * against PostgreSQL.
 */
export interface StorePlan {
  attempts: Select[];
  limit: number;
  keyOf: (r: ListedRow) => (string | number)[];
}

/** Rows of the sort index a search walks before it falls back to scoring all matches. */
const WALK_ROWS = 1000;

export function planStoreQuery(q: StoreQuery): StorePlan {
  if (q.query.length > MAX_STORE_QUERY) throw invalidArgument("query", `must be at most ${MAX_STORE_QUERY} characters`);
  const text = q.query.trim();
  // The kit's rules, which the service checks whole first (storeQueryViolations).
  const sort = storeSort(q.sort, q.query);

  const where = [`visibility = 'public'`, `status = 'active'`, LISTED];
  const params: unknown[] = [];
  if (q.category) {
    where.push(`category = ?`);
    params.push(q.category);
  }
  const cursor = storeCursor(q.pageToken, sort);
  const limit = q.limit + 1; // one more row tells whether there is a next page
  const withQuery = `with q as (select websearch_to_tsquery('english', ?) as tsq) `;

  if (sort === StoreSort.RELEVANCE) {
    // Relevance has to score every match: one select over the text index.
    if (cursor) {
      where.push(`(ts_rank(search, q.tsq), id) < (?::real, ?)`);
      params.push(Number(cursor[0]), String(cursor[1]));
    }
    return {
      attempts: [
        {
          sql: `${withQuery}select ${LIST_COLUMNS}, ts_rank(search, q.tsq) as rank from templates, q
            where search @@ q.tsq and ${where.join(" and ")} order by rank desc, id desc limit ${limit}`,
          params: [text, ...params],
        },
      ],
      limit: q.limit,
      keyOf: (r) => [r.rank ?? 0, r.id],
    };
  }

  const [order, keyOf, after] =
    sort === StoreSort.TOP_RATED
      ? ([
          `rating_score desc, id desc`,
          (r: ListedRow) => [Number(r.rating_score), r.id],
          `(rating_score, id) < (?::float8, ?)`,
        ] as const)
      : sort === StoreSort.MOST_USED
        ? ([
            `recent_owners desc, id desc`,
            (r: ListedRow) => [String(r.recent_owners), r.id],
            `(recent_owners, id) < (?::integer, ?)`,
          ] as const)
        : ([
            `created_at desc, id desc`,
            (r: ListedRow) => [new Date(r.created_at).toISOString(), r.id],
            `(created_at, id) < (?::timestamptz, ?)`,
          ] as const);
  if (cursor) {
    where.push(after);
    params.push(String(cursor[0]), String(cursor[1]));
  }
  const filter = where.join(" and ");
  if (!text) {
    return {
      attempts: [
        { sql: `select ${LIST_COLUMNS} from templates where ${filter} order by ${order} limit ${limit}`, params },
      ],
      limit: q.limit,
      keyOf,
    };
  }
  // A search in a sort order. A broad query fills a page from the first rows
  // of the sort index; a narrow one is cheaper as "all matches, then sort".
  // PostgreSQL cannot tell them apart well, so walk a bounded stretch of the
  // index first and fall back to the text index when it did not fill a page.
  return {
    attempts: [
      {
        sql: `${withQuery}select ${LIST_COLUMNS} from (select * from templates where ${filter} order by ${order} limit ${WALK_ROWS}) t, q
          where search @@ q.tsq order by ${order} limit ${limit}`,
        params: [text, ...params],
      },
      {
        sql: `${withQuery}, m as materialized (select * from templates, q where search @@ q.tsq and ${filter})
          select ${LIST_COLUMNS} from m order by ${order} limit ${limit}`,
        params: [text, ...params],
      },
    ],
    limit: q.limit,
    keyOf,
  };
}

/** Runs a plan with any executor: the service's EntityManager, or a bare pg client in the benchmark. */
export async function runStorePlan(plan: StorePlan, exec: (s: Select) => Promise<ListedRow[]>): Promise<Page> {
  for (const [i, attempt] of plan.attempts.entries()) {
    const rows = await exec(attempt);
    if (rows.length > plan.limit || i === plan.attempts.length - 1) return toPage(rows, plan.limit, plan.keyOf);
  }
  throw new Error("a store plan has at least one select");
}

export async function browseStore(em: EntityManager, q: StoreQuery): Promise<Page> {
  return runStorePlan(planStoreQuery(q), (s) => em.execute<ListedRow[]>(s.sql, s.params));
}

export async function listCreatorTemplates(
  em: EntityManager,
  creatorId: string,
  opts: { includePrivate: boolean; includeArchived: boolean; limit: number; pageToken: string },
): Promise<Page> {
  const where = [`creator_id = ?`];
  const params: unknown[] = [creatorId];
  // Another person sees what the store shows.
  if (!opts.includePrivate) where.push(`visibility = 'public'`, LISTED);
  if (!opts.includeArchived) where.push(`status = 'active'`);
  const cursor = decodePageToken(opts.pageToken, 2, "page_token", isDateAndId);
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
