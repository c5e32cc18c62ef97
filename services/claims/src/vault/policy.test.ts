import { describe, expect, it } from "vitest";
import { MAX_SEALED_STATE_BYTES, planPutStates } from "./policy.js";

// The vault's per-state checks, pure: nothing here reads a state, only its size.

const s = (instanceId: string, sequence: bigint, bytes = 8) => ({
  instanceId,
  sequence,
  sealed: new Uint8Array(bytes),
});

describe("planPutStates", () => {
  it("sends well-formed states to the database, in the order asked", () => {
    expect(planPutStates([s("a", 1n), s("b", 7n)]).map((p) => p.kind)).toEqual(["put", "put"]);
  });

  it(`refuses a state above ${MAX_SEALED_STATE_BYTES} bytes and takes one of exactly that size`, () => {
    const [big, edge] = planPutStates([s("a", 1n, MAX_SEALED_STATE_BYTES + 1), s("b", 1n, MAX_SEALED_STATE_BYTES)]);
    expect(big).toMatchObject({ kind: "refuse", instanceId: "a" });
    expect(edge?.kind).toBe("put");
  });

  it("refuses a missing instance id, an empty state, sequence 0 and one beyond bigint", () => {
    const plans = planPutStates([s("", 1n), s("a", 1n, 0), s("b", 0n), s("c", 1n << 63n)]);
    expect(plans.map((p) => (p.kind === "refuse" ? p.error.split(":")[0] : p.kind))).toEqual([
      "instance_id",
      "sealed",
      "sequence",
      "sequence",
    ]);
  });

  it("refuses an agent named twice in one call after its first state", () => {
    expect(planPutStates([s("a", 1n), s("a", 2n)]).map((p) => p.kind)).toEqual(["put", "refuse"]);
  });
});
