// The REST routes' criticality under overload: each route held to the RPCs
// it calls (test/route-rpcs.ts, the contract tests' table) and to the kit's
// criticality table, so a route is shed as its RPC is. Pure: no server.
import { criticalityOf } from "@convos-pool/kit/server";
import { describe, expect, it } from "vitest";
import { NOT_FORWARDED, ROUTE_RPCS } from "../../../test/route-rpcs.js";
import { BASE } from "./request.js";
import { restRpcOf } from "./criticality.js";

const ORDER = ["critical", "default", "sheddable"] as const;

/** The criticality admission gives a request on `route` (`METHOD /pattern`), its path parameters filled in. */
function routeCriticality(route: string): string {
  const [method = "", pattern = ""] = route.split(" ");
  const rpc = restRpcOf(method, `${BASE}${pattern.replace(/:[a-z_]+/g, "x1")}`);
  if (rpc === undefined) return "default";
  const [service = "", name = ""] = rpc.split("/");
  return criticalityOf(`convos.pool.v1.${service}`, name);
}

/** The most critical of what a route may call: a route is never shed before any RPC it calls. */
function mostCritical(rpcs: readonly string[]): string {
  const each = rpcs.map((r) => criticalityOf(`convos.pool.v1.${r.split("/")[0]}`, r.split("/")[1] ?? ""));
  return ORDER.find((c) => each.includes(c)) ?? "default";
}

/** The gateway's own routes: SessionService, answered by the gateway itself. */
const SESSION_RPCS: Readonly<Record<string, string>> = {
  "GET /signing-domain": "SessionService/GetSigningDomain",
  "POST /sessions": "SessionService/CreateSession",
  "DELETE /sessions": "SessionService/DeleteSession",
};

describe("restRpcOf", () => {
  it("gives every forwarded route the criticality of the RPCs it calls", () => {
    for (const [route, rpcs] of Object.entries(ROUTE_RPCS))
      expect([route, routeCriticality(route)]).toEqual([
        route,
        mostCritical(rpcs.map((r) => `${r.rpc.parent.name}/${r.rpc.name}`)),
      ]);
  });

  it("gives the gateway's own routes their SessionService method's: a sign-in first", () => {
    expect(Object.keys(SESSION_RPCS).sort()).toEqual([...NOT_FORWARDED].sort());
    for (const [route, rpc] of Object.entries(SESSION_RPCS))
      expect([route, routeCriticality(route)]).toEqual([route, mostCritical([rpc])]);
    expect(routeCriticality("POST /sessions")).toBe("critical");
  });

  it("sheds the store's listing and keeps an owner's approval and release first", () => {
    expect(routeCriticality("GET /templates")).toBe("sheddable");
    expect(routeCriticality("POST /agents/:id/approvals")).toBe("critical");
    expect(routeCriticality("DELETE /agents/:id")).toBe("critical");
    expect(routeCriticality("GET /agents/:id")).toBe("default");
  });

  it("names no RPC for a path outside the REST API or a method a path does not take", () => {
    expect(restRpcOf("GET", "/index.html")).toBeUndefined();
    expect(restRpcOf("PUT", `${BASE}/templates`)).toBeUndefined();
    expect(restRpcOf("GET", `${BASE}/templates/x1/dashboard/more`)).toBeUndefined();
  });
});
