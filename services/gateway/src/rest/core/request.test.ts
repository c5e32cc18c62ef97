// forwarderOf and ifMatch as plain calls: a gateway's dependencies stood in
// by a bare object (only the optional forwarders and the two not-configured
// messages matter), a request by its headers alone; no server, no upstream.

import { describe, expect, it } from "vitest";
import { RestError } from "./errors.js";
import { forwarderOf, ifMatch, MAX_TEMPLATE_VERSION, queryInt, type RestDeps, type RestRequest } from "./request.js";

const CLAIMS = "no claims service here";
const LINEAGE = "no lineage service here";
const bare = { claimsNotConfigured: CLAIMS, lineageNotConfigured: LINEAGE } as RestDeps;

function refusal(call: () => unknown): RestError {
  try {
    call();
  } catch (err) {
    if (err instanceof RestError) return err;
    throw err;
  }
  throw new Error("no refusal");
}

describe("forwarderOf", () => {
  it("hands back the forwarder the gateway was started with", () => {
    const lineage = {} as NonNullable<RestDeps["lineage"]>;
    expect(forwarderOf({ ...bare, lineage }, "lineage")).toBe(lineage);
  });

  it.each(["claims", "memory", "addressBook", "approvals"] as const)(
    "answers 503 naming the claims service when %s, which calls it, is absent",
    (name) => {
      const e = refusal(() => forwarderOf(bare, name));
      expect([e.status, e.type, e.message]).toEqual([503, "unavailable", CLAIMS]);
    },
  );

  it.each(["lineage", "patterns", "signals"] as const)(
    "answers 503 naming the lineage service when %s, which calls it, is absent",
    (name) => {
      const e = refusal(() => forwarderOf(bare, name));
      expect([e.status, e.type, e.message]).toEqual([503, "unavailable", LINEAGE]);
    },
  );
});

describe("ifMatch", () => {
  const of = (value: string | undefined) => ifMatch({ headers: { "if-match": value } } as unknown as RestRequest);
  const field = (value: string | undefined) => {
    try {
      of(value);
    } catch (err) {
      if (err instanceof RestError) return err.field;
      throw err;
    }
    return undefined;
  };

  it("reads one whole number, quoted or not, its range the templates service's one rule (both faces meet it)", () => {
    expect(of('"3"')).toBe(3n);
    expect(of(" 7 ")).toBe(7n);
    expect(of(String(MAX_TEMPLATE_VERSION))).toBe(MAX_TEMPLATE_VERSION);
    expect(of("-1")).toBe(-1n);
    expect(of("9999999999")).toBe(9_999_999_999n);
  });

  it("reads none as 0, which the service names as If-Match with the request's other faults", () => {
    expect(of(undefined)).toBe(0n);
    expect(of("")).toBe(0n);
  });

  it("refuses only what no int64 version carries, naming If-Match", () => {
    for (const bad of ['W/"3"', "3, 4", "three", "1.5", String(2n ** 63n)]) expect(field(bad), bad).toBe("If-Match");
  });
});

describe("queryInt", () => {
  const q = (v: string) => new Map([["limit", v]]);

  it("passes on any whole number the RPC's int32 holds, so the service's bound is the one rule both faces meet", () => {
    for (const [v, n] of [
      ["7", 7],
      ["500", 500],
      ["-1", -1],
      ["2147483647", 2147483647],
      ["-2147483648", -2147483648],
    ] as const) {
      expect(queryInt(q(v), "limit")).toBe(n);
    }
    expect(queryInt(new Map(), "limit")).toBe(0);
  });

  it("refuses what no int32 carries, and 0, which the RPC reads as none given", () => {
    for (const v of ["0", "-0", "1.5", "abc", "", "2147483648", "-2147483649", "07", " 7"]) {
      expect(refusal(() => queryInt(q(v), "limit")).field, v).toBe("limit");
    }
  });
});
