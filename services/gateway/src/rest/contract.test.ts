// One contract, every face (docs/rest.md), generated from the contracts and
// run in memory: every route of the gateway's route table has its RPC
// (test/route-rpcs.ts), every forwarded RPC a route or a reason, and any
// request of that RPC, drawn from its input descriptor and sent as the
// route's REST call, is either refused by REST itself (a 400 naming fields,
// none of them unknown to the route: contract.int.test.ts checks the service
// refuses it the same) or forwarded to that RPC and no other, with the same
// values. Real: the route table, its
// handlers, the descriptors. Stand-in: the forwarders, which record each
// call and answer an empty response (test/routes.ts).

import { create, equals, toJson, type DescMethod } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FORWARDED } from "../connect/forward.js";
import { NO_ROUTE, NOT_FORWARDED, ROUTE_RPCS } from "../../test/route-rpcs.js";
import { recordingDeps, routeForm, routeRequests, runRoute, type Forwarded } from "../../test/routes.js";
import { RestError, type FieldNames } from "./core/errors.js";
import type { Route } from "./core/request.js";
import { ROUTES } from "./routes.js";

const RUNS = Number(process.env.POOL_CONTRACT_RUNS ?? 60);
const nameOf = (route: Route) => `${route[0]} ${route[1]}`;
const rpcName = (m: DescMethod) => `${m.parent.name}.${m.name}`;

describe("the route table against the contracts", () => {
  it("names an RPC for every REST route but the gateway's own, and no route the table lacks", () => {
    const named = [...Object.keys(ROUTE_RPCS), ...NOT_FORWARDED].toSorted();
    expect(named).toEqual(ROUTES.map(nameOf).toSorted());
  });

  it("has a route for every forwarded RPC, but the ones NO_ROUTE names with why", () => {
    const forwarded = Object.values(FORWARDED).flatMap(({ service }) =>
      service.methods.filter((m) => m.methodKind === "unary").map(rpcName),
    );
    const routed = new Set(Object.values(ROUTE_RPCS).flatMap((rpcs) => rpcs.map((r) => rpcName(r.rpc))));
    expect(
      forwarded.filter((m) => !routed.has(m) && !(m in NO_ROUTE)),
      "RPCs with no route",
    ).toEqual([]);
    expect(
      Object.keys(NO_ROUTE).filter((m) => routed.has(m) || !forwarded.includes(m)),
      "stale exceptions",
    ).toEqual([]);
  });
});

/**
 * The routes that name the service's violations beside REST's own (the
 * service's pure check run in the gateway, docs/rest.md): each needs every
 * field of its RPC's request in REST's words, or a violation of a field it
 * left out would come back in the service's.
 */
const MERGING = [
  "POST /templates",
  "PUT /templates/:id",
  "PATCH /templates/:id",
  "PATCH /templates/:id/visibility",
  "POST /templates/:id/rollouts",
  "POST /templates/:id/rollouts/:rollout_id/steps",
  "POST /templates/:id/patterns/review",
];

describe("the REST names of a route's fields", () => {
  for (const route of ROUTES) {
    const names = (route[3] as Partial<FieldNames>).names;
    if (!names && !MERGING.includes(nameOf(route))) continue;
    for (const of of ROUTE_RPCS[nameOf(route)] ?? []) {
      it(`${nameOf(route)} says every field of ${rpcName(of.rpc)}'s request in REST's words, and no other`, () => {
        expect(names, "a whole table of names (fieldNames)").toBeDefined();
        const fields = of.rpc.input.fields.map((f) => f.name).toSorted();
        expect(Object.keys(names ?? {}).toSorted()).toEqual(fields);
      });
    }
  }
});

describe("every route in memory, with any request of its RPC", () => {
  for (const route of ROUTES) {
    for (const of of ROUTE_RPCS[nameOf(route)] ?? []) {
      it(`${nameOf(route)} refuses it itself or forwards it to ${rpcName(of.rpc)} unchanged`, async () => {
        let forwarded = 0;
        await fc.assert(
          fc.asyncProperty(routeRequests(route, of), async (req) => {
            const calls: Forwarded[] = [];
            const form = routeForm(route, of, req);
            const out = await runRoute(route, form, recordingDeps(calls));
            // Refused before any call: a REST error, or one of the kit's (a signature the route reads).
            if (out instanceof RestError || out instanceof ConnectError) {
              // Nothing but a read of what the check needs: a new template's, the models the pool serves.
              const asked = calls.map((c) => rpcName(c.method)).filter((m) => m !== "TemplateService.ListModels");
              expect(asked, "a refused request forwarded nothing").toEqual([]);
              // A field the route does not know: its error mapping names an RPC field otherwise than its request does.
              const unknown =
                out instanceof RestError ? out.violations.filter((v) => v.description.startsWith("unknown")) : [];
              expect(unknown, JSON.stringify(form)).toEqual([]);
              return;
            }
            if (out instanceof Error) throw out;
            expect(calls.map((c) => rpcName(c.method))).toEqual([rpcName(of.rpc)]);
            const sent = create(of.rpc.input, req);
            const got = create(of.rpc.input, calls[0]?.request);
            if (!equals(of.rpc.input, sent, got)) {
              expect(toJson(of.rpc.input, got), JSON.stringify(form)).toEqual(toJson(of.rpc.input, sent));
            }
            forwarded++;
          }),
          { numRuns: RUNS },
        );
        // Something went through: a route that refuses every value compares nothing here.
        expect(forwarded, "requests forwarded").toBeGreaterThan(0);
      });
    }
  }
});
