/**
 * Paging of group and welcome message queries, as the production node pages:
 *
 * - direction: ASCENDING only when asked; unspecified means DESCENDING
 *   (newest first);
 * - limit: 1..100, anything else (0, or above 100) means 100;
 * - cursor: an id; ascending returns ids above it, descending ids below it;
 *   0 means "from the start" (the oldest when ascending, the newest when
 *   descending);
 * - the response's paging info carries the direction and limit used, and the
 *   id of the last message returned as the next cursor only when the page is
 *   full; otherwise the cursor is 0, which tells the client it has everything.
 */

export const MAX_PAGE_SIZE = 100;

/** SortDirection of xmtp.mls.api.v1. */
export const SortDirection = { Unspecified: 0, Ascending: 1, Descending: 2 } as const;

export interface PagingInput {
  direction?: number;
  limit?: number;
  idCursor?: bigint;
}

export interface Page {
  ascending: boolean;
  limit: number;
  /** 0n: no cursor. */
  cursor: bigint;
}

export function normalizePaging(p: PagingInput | undefined): Page {
  const ascending = p?.direction === SortDirection.Ascending;
  const limit = p?.limit !== undefined && p.limit > 0 && p.limit <= MAX_PAGE_SIZE ? p.limit : MAX_PAGE_SIZE;
  const cursor = p?.idCursor !== undefined && p.idCursor > 0n ? p.idCursor : 0n;
  return { ascending, limit, cursor };
}

/**
 * The tail of a page query, after `where <key column> = $1`: the cursor
 * condition, the order and the limit, with their parameters (numbered from
 * `firstParam`).
 */
export function pageClause(page: Page, firstParam = 2): { sql: string; params: string[] } {
  const order = page.ascending ? "order by id asc" : "order by id desc";
  if (page.cursor === 0n) return { sql: `${order} limit $${firstParam}`, params: [String(page.limit)] };
  const cmp = page.ascending ? ">" : "<";
  return {
    sql: `and id ${cmp} $${firstParam} ${order} limit $${firstParam + 1}`,
    params: [page.cursor.toString(), String(page.limit)],
  };
}

export interface PagingOutput {
  direction: number;
  limit: number;
  idCursor: bigint;
}

/** The paging info of a response that returned `ids` (in page order). */
export function nextPaging(page: Page, ids: readonly bigint[]): PagingOutput {
  const last = ids.at(-1);
  return {
    direction: page.ascending ? SortDirection.Ascending : SortDirection.Descending,
    limit: page.limit,
    idCursor: ids.length >= page.limit && last !== undefined ? last : 0n,
  };
}

/** Pure in-memory paging with the same rules, for tests and as the specification of the SQL. */
export function pageOf(ids: readonly bigint[], page: Page): bigint[] {
  const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!page.ascending) sorted.reverse();
  const after = sorted.filter((id) =>
    page.cursor === 0n ? true : page.ascending ? id > page.cursor : id < page.cursor,
  );
  return after.slice(0, page.limit);
}
