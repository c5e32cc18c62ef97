// Which OpenClaw gateways run (policy.ts), in memory: who rests to free a place,
// how many spares start, who takes one. Pure: no gateway is started here.
import { describe, expect, it } from "vitest";
import { sparesToStart, takesSpare, toRest, type GatewayView } from "./policy.js";

const g = (id: string, lastUsed: number, active = true, inUse = 0): GatewayView => ({ id, active, inUse, lastUsed });

describe("who rests to free a place", () => {
  it("with no cap, no one", () => {
    expect(toRest([g("a", 1), g("b", 2)], 1, "c", undefined)).toEqual([]);
  });

  it("the least recently used idle gateways, until the starting one fits within the cap", () => {
    expect(toRest([g("a", 3), g("b", 1), g("c", 2)], 0, "d", 2)).toEqual(["b", "c"]);
  });

  it("spares count within the cap: with one spare and a cap of 2, one agent's gateway is all that stays", () => {
    expect(toRest([g("a", 1), g("b", 2)], 1, "c", 2)).toEqual(["a", "b"]);
  });

  it("never one in a turn, nor one already stopped, nor the starting agent's own", () => {
    expect(toRest([g("a", 1, true, 1), g("b", 2, false), g("c", 3)], 0, "c", 1)).toEqual([]);
  });
});

describe("how many spares start", () => {
  it("up to the number wanted, with no cap", () => {
    expect(sparesToStart({ wanted: 2, spares: 0, agents: 5, max: undefined })).toBe(2);
    expect(sparesToStart({ wanted: 2, spares: 2, agents: 0, max: undefined })).toBe(0);
  });

  it("only into places no awake agent's gateway holds", () => {
    expect(sparesToStart({ wanted: 2, spares: 0, agents: 2, max: 3 })).toBe(1);
    expect(sparesToStart({ wanted: 1, spares: 0, agents: 3, max: 3 })).toBe(0);
  });
});

describe("who takes a spare", () => {
  it("an agent whose gateway is not running, when a spare is ready", () => {
    expect(takesSpare({ active: false }, 1)).toBe(true);
    expect(takesSpare({ active: false }, 0)).toBe(false);
    expect(takesSpare({ active: true }, 1)).toBe(false);
  });
});
