import { describe, expect, it } from "vitest";
import { hostUrlProblem, MAX_SEALED_STATE_BYTES, planPutStates } from "./policy.js";

// The vault's per-state checks, pure: nothing here reads a state, only its size.

const A = "inst_AAAAAAAAAAAAAAAA";
const B = "inst_BBBBBBBBBBBBBBBB";
const C = "inst_CCCCCCCCCCCCCCCC";
const s = (instanceId: string, sequence: bigint, bytes = 8) => ({
  instanceId,
  sequence,
  sealed: new Uint8Array(bytes),
});

describe("planPutStates", () => {
  it("sends well-formed states to the database, in the order asked", () => {
    expect(planPutStates([s(A, 1n), s(B, 7n)]).map((p) => p.kind)).toEqual(["put", "put"]);
  });

  it(`refuses a state above ${MAX_SEALED_STATE_BYTES} bytes and takes one of exactly that size`, () => {
    const [big, edge] = planPutStates([s(A, 1n, MAX_SEALED_STATE_BYTES + 1), s(B, 1n, MAX_SEALED_STATE_BYTES)]);
    expect(big).toMatchObject({ kind: "refuse", instanceId: A });
    expect(edge?.kind).toBe("put");
  });

  it("refuses a missing or malformed instance id, an empty state, sequence 0 and one beyond bigint", () => {
    const plans = planPutStates([s("", 1n), s("inst_\u0000", 1n), s(A, 1n, 0), s(B, 0n), s(C, 1n << 63n)]);
    expect(plans.map((p) => (p.kind === "refuse" ? p.error.split(":")[0] : p.kind))).toEqual([
      "instance_id",
      "instance_id",
      "sealed",
      "sequence",
      "sequence",
    ]);
  });

  it("refuses an agent named twice in one call after its first state", () => {
    expect(planPutStates([s(A, 1n), s(A, 2n)]).map((p) => p.kind)).toEqual(["put", "refuse"]);
  });
});

describe("hostUrlProblem", () => {
  it("takes the addresses hosts have and names what is wrong with any other", () => {
    expect(hostUrlProblem("http://127.0.0.1:7001")).toBeUndefined();
    expect(hostUrlProblem("https://host-3.pool.example")).toBeUndefined();
    for (const bad of [
      "",
      "host-3",
      "ftp://h",
      "http://u:p@h",
      "http://h/#x",
      "http://h/\u0000",
      "http://h/\ud800",
      `http://h/${"x".repeat(2048)}`,
    ])
      expect(hostUrlProblem(bad), JSON.stringify(bad.slice(0, 20))).toBeTruthy();
  });
});
