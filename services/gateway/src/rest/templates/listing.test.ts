// The store's listing on REST (docs/rest.md, "REST's own faults beside the
// service's"): the real route handler, run in memory over STAND-IN
// forwarders that record what they are asked (test/routes.ts). What is real:
// the query's reading, the kit's check of a store query and the error REST
// answers; the templates service is not.

import { StoreSort } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { describe, expect, it } from "vitest";
import { recordingDeps, runRoute, type Forwarded } from "../../../test/routes.js";
import { RestError } from "../core/errors.js";
import { BASE, type Route } from "../core/request.js";
import { LIST_QUERY, listTemplates } from "./listing.js";

const LIST: Route = ["GET", "/templates", listTemplates, LIST_QUERY];

async function store(query: Record<string, string>) {
  const calls: Forwarded[] = [];
  const params = new URLSearchParams({ visibility: "public", ...query });
  const out = await runRoute(LIST, { path: `${BASE}/templates`, query: params }, recordingDeps(calls));
  return { fields: out instanceof RestError ? out.violations.map((v) => v.field) : undefined, calls };
}

describe("GET /templates?visibility=public", () => {
  it("names a sort word REST has no value for beside the service's check of the limit, category and cursor", async () => {
    const { fields, calls } = await store({ sort: "cheapest", limit: "-1", category: "x".repeat(41) });
    expect(fields).toEqual(["sort", "category", "limit"]);
    expect(calls).toEqual([]);
  });

  it("names a limit no int32 carries beside a search too long, and judges no cursor without an order", async () => {
    const { fields } = await store({ limit: "99999999999", q: "x".repeat(201), sort: "soon", cursor: "?" });
    expect(fields).toEqual(["sort", "limit", "q"]);
  });

  it("sends a query REST can read on whole, for the service to judge", async () => {
    const { fields, calls } = await store({ sort: "top_rated", limit: "500", cursor: "?" });
    expect(fields).toBeUndefined();
    expect(calls[0]?.request).toMatchObject({ sort: StoreSort.TOP_RATED, pageSize: 500, pageToken: "?" });
  });
});
