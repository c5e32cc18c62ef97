// Which RPC sets a REST route's criticality under overload (docs/server-kit.md,
// "Overload"): the server kit admits a REST request as the RPC its route
// calls, before the body is read, so a store listing is shed before a claim
// and an owner's approval waits first, as on the Connect face. Only the
// routes whose RPC the kit's table names are listed: any other route, and
// any path outside the REST API (the web app, the agents' keys), is
// `default`, as an RPC the table does not name is. criticality.test.ts
// holds this to the RPCs each route calls (test/route-rpcs.ts).

import { matchPath } from "./dispatch.js";

/** `METHOD /pattern` (under BASE) → the `Service/Method` whose criticality the route takes. */
export const ROUTE_CRITICALITY_RPCS: Readonly<Record<string, string>> = {
  // A sign-in.
  "GET /signing-domain": "SessionService/GetSigningDomain",
  "POST /sessions": "SessionService/CreateSession",
  // An owner's approval, a release, and what an agent asks during its turn.
  "POST /agents/:id/approvals": "ApprovalService/AnswerApproval",
  "DELETE /agents/:id": "ClaimService/RemoveAgent",
  "GET /agents/:id/memory/key": "AgentMemoryService/GetMemoryKey",
  // Store listings (GET /templates is BrowseStore or ListCreatorTemplates: both sheddable).
  "GET /templates": "TemplateService/BrowseStore",
  "GET /featured": "StoreCurationService/ListFeatured",
  // Dashboards and their refreshes.
  "GET /agents": "ClaimService/ListOwnerAgents",
  "GET /agents/:id/activity": "ClaimService/ListAgentActivity",
  "POST /agents/:id/activity/list": "ClaimService/ListAgentActivity",
  "GET /templates/:id/dashboard": "LineageService/GetTemplateDashboard",
  "GET /lineage": "LineageService/ListOwnerLineage",
  "GET /patterns/health": "PatternInsightsService/GetPatternPoolHealth",
};

const TABLE = Object.entries(ROUTE_CRITICALITY_RPCS).map(([route, rpc]) => {
  const [method = "", pattern = ""] = route.split(" ");
  return { method, pattern, rpc };
});

/** The server kit's `fallbackRpc`: the RPC whose criticality a request on `path` takes; undefined: default. */
export function restRpcOf(method: string, path: string): string | undefined {
  return TABLE.find((r) => r.method === method && matchPath(r.pattern, path) !== undefined)?.rpc;
}
