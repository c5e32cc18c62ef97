// What a store query (BrowseStore) must hold, the pure part: every fault
// named at once with its field (docs/rest.md, "One contract, every face").
// The templates service refuses with these before it reads anything and
// plans its select with the same order and cursor rules; the gateway's REST
// face runs them when it already refuses a `?sort=` word it has no value
// for, so that both faces name the same fields. Here, beside the page
// tokens, because a cursor is judged by the order it was made in.
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { invalidArgument, violationsOf, type FieldViolationInfo } from "../content/errors.js";
import { decodePageToken, isDateAndId, pageSize } from "./page-token.js";

/** The longest search text. */
export const MAX_STORE_QUERY = 200;
/** The longest category. */
export const MAX_STORE_CATEGORY = 40;

const SORT_WORDS = "must be relevance, newest, most_used or top_rated";

/**
 * The order a query asks for, resolved: unspecified is the most used
 * matches of a search (as app stores do), the newest otherwise; relevance
 * needs a search. INVALID_ARGUMENT naming `sort` for any other.
 */
export function storeSort(sort: StoreSort, query: string): StoreSort {
  const text = query.trim();
  const resolved = sort === StoreSort.UNSPECIFIED ? (text ? StoreSort.MOST_USED : StoreSort.NEWEST) : sort;
  if (!Object.values(StoreSort).includes(resolved)) throw invalidArgument("sort", SORT_WORDS);
  if (resolved === StoreSort.RELEVANCE && !text) throw invalidArgument("sort", "relevance needs a query");
  return resolved;
}

/** A page token of `sort` (resolved): its key values, undefined for the first page; INVALID_ARGUMENT naming `page_token`. */
export function storeCursor(pageToken: string, sort: StoreSort): (string | number)[] | undefined {
  return decodePageToken(pageToken, 2, "page_token", (v) =>
    sort === StoreSort.RELEVANCE || sort === StoreSort.TOP_RATED
      ? typeof v[0] === "number" && typeof v[1] === "string"
      : sort === StoreSort.MOST_USED
        ? /^\d+$/.test(String(v[0]))
        : isDateAndId(v),
  );
}

/**
 * Every fault of a store query at once. `sort` undefined: an order the
 * caller named that has no value (REST's word), named as `sort` like an
 * unknown one; a cursor is judged only under an order that holds.
 */
export function storeQueryViolations(req: {
  query: string;
  category: string;
  sort: StoreSort | undefined;
  pageSize: number;
  pageToken: string;
}): FieldViolationInfo[] {
  let sort: StoreSort | undefined;
  const violations = violationsOf(
    () => {
      if (req.query.length > MAX_STORE_QUERY)
        throw invalidArgument("query", `must be at most ${MAX_STORE_QUERY} characters`);
    },
    () => {
      if (req.category.length > MAX_STORE_CATEGORY)
        throw invalidArgument("category", `must be at most ${MAX_STORE_CATEGORY} characters`);
    },
    () => pageSize(req.pageSize),
    () => {
      if (req.sort === undefined) throw invalidArgument("sort", SORT_WORDS);
      sort = storeSort(req.sort, req.query);
    },
  );
  const ordered = sort;
  return ordered === undefined
    ? violations
    : [...violations, ...violationsOf(() => storeCursor(req.pageToken, ordered))];
}
