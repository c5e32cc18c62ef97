// forwarderOf as a plain call: a gateway's dependencies stood in by a bare
// object (only the optional forwarders and the two not-configured messages
// matter), no server, no upstream.

import { describe, expect, it } from "vitest";
import { RestError } from "./errors.js";
import { forwarderOf, type RestDeps } from "./request.js";

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
