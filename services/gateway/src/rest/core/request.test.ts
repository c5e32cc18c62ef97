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

  it("reads one version, quoted or not, up to the templates service's highest", () => {
    expect(of('"3"')).toBe(3n);
    expect(of(" 7 ")).toBe(7n);
    expect(of(String(MAX_TEMPLATE_VERSION))).toBe(MAX_TEMPLATE_VERSION);
  });

  it("refuses a version the templates service would refuse, naming If-Match", () => {
    for (const bad of [undefined, "", "0", "-1", 'W/"3"', "3, 4", String(MAX_TEMPLATE_VERSION + 1n), "9999999999"])
      expect(field(bad), String(bad)).toBe("If-Match");
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
