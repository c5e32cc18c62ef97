// The listings of templates on REST (docs/rest.md, "Paths"): the store
// (`?visibility=public`, BrowseStore) and a creator's templates
// (`?creator=`, ListCreatorTemplates), one route by its query. A `?sort=`
// word REST has no value for, or a `?limit=` no int32 carries, is REST's own
// fault, named beside the templates service's check of the rest of the
// query (the kit's storeQueryViolations), and the service is not asked.

import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { storeQueryViolations } from "@convos-pool/kit/server";
import { Violations, badRequest, fieldNames, renaming, restField, type RestErrorMapping } from "../core/errors.js";
import { query, queryBool, queryPage, type Handler } from "../core/request.js";
import { templatesPage } from "./json.js";

/** The store's orders by their REST names (`?sort=`). */
export const SORTS = new Map<string, StoreSort>([
  ["relevance", StoreSort.RELEVANCE],
  ["newest", StoreSort.NEWEST],
  ["most_used", StoreSort.MOST_USED],
  ["top_rated", StoreSort.TOP_RATED],
]);

/** BrowseStore's fields in the query's words. */
const STORE_NAMES = fieldNames({
  query: "q",
  category: "category",
  sort: "sort",
  page_size: "limit",
  page_token: "cursor",
});

/** A creator's templates are `?creator=` (the RPC's creator_id); the store's query is TEMPLATE_ERRORS's. */
export const LIST_QUERY: RestErrorMapping = { field: renaming({ creator_id: "creator" }, restField) };

export const listTemplates: Handler = async (r, { templates }) => {
  if (r.url.searchParams.has("creator")) {
    const q = query(r, ["creator", "include_archived", "limit", "cursor"]);
    const res = await templates.listCreatorTemplates(
      {
        creatorId: q.get("creator") ?? "",
        includeArchived: queryBool(q, "include_archived"),
        ...queryPage(q),
      },
      r.call,
    );
    return { status: 200, body: templatesPage(res) };
  }
  const q = query(r, ["visibility", "q", "category", "sort", "limit", "cursor"]);
  if (q.get("visibility") !== "public") {
    throw badRequest("visibility", "give visibility=public (the store) or creator=<inbox id> (a creator's templates)");
  }
  const check = new Violations();
  const sortName = q.get("sort");
  const sort = sortName === undefined ? StoreSort.UNSPECIFIED : SORTS.get(sortName);
  if (sort === undefined)
    check.add({ field: "sort", description: "must be relevance, newest, most_used or top_rated" });
  const page = check.read(() => queryPage(q));
  const asked = {
    query: q.get("q") ?? "",
    category: q.get("category") ?? "",
    pageSize: page?.pageSize ?? 0,
    pageToken: q.get("cursor") ?? "",
  };
  check.doneWith(STORE_NAMES, () => storeQueryViolations({ ...asked, sort }));
  const res = await templates.browseStore({ ...asked, sort: sort ?? StoreSort.UNSPECIFIED }, r.call);
  return { status: 200, body: templatesPage(res) };
};
