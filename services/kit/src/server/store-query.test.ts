// A store query's checks (store-query.ts), which the templates service and
// the gateway's REST face both run. Nothing stands in: plain values.
import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { describe, expect, it } from "vitest";
import { encodePageToken } from "./page-token.js";
import { storeQueryViolations, storeSort } from "./store-query.js";

const query = { query: "", category: "", sort: StoreSort.UNSPECIFIED, pageSize: 0, pageToken: "" };
const fields = (over: Partial<Parameters<typeof storeQueryViolations>[0]>) =>
  storeQueryViolations({ ...query, ...over }).map((v) => v.field);

describe("storeQueryViolations", () => {
  it("names the search text, the category, the page size and the order at once", () => {
    expect(fields({ query: "x".repeat(201), category: "x".repeat(41), pageSize: -1, sort: 9 as StoreSort })).toEqual([
      "query",
      "category",
      "page_size",
      "sort",
    ]);
  });

  it("names an order with no value (undefined) as sort, and judges no cursor without an order", () => {
    expect(fields({ sort: undefined, pageToken: "not a token", pageSize: 101 })).toEqual(["page_size", "sort"]);
  });

  it("judges a cursor by the order it was made in", () => {
    const newest = encodePageToken(["2026-11-30T00:00:00.000Z", "tmpl_0123456789abcdef"]);
    expect(fields({ sort: StoreSort.NEWEST, pageToken: newest })).toEqual([]);
    expect(fields({ sort: StoreSort.TOP_RATED, pageToken: newest })).toEqual(["page_token"]);
  });

  it("takes the defaults, and relevance only with a search", () => {
    expect(fields({})).toEqual([]);
    expect(fields({ sort: StoreSort.RELEVANCE })).toEqual(["sort"]);
    expect(storeSort(StoreSort.UNSPECIFIED, " tea ")).toBe(StoreSort.MOST_USED);
    expect(storeSort(StoreSort.UNSPECIFIED, "")).toBe(StoreSort.NEWEST);
  });
});
