// Whose turn a template's routine is at its firing (docs/schedules.md, "A
// template's routines"): the agent asks for it on its own behalf, and the
// routine's turn is decided by routine-turn.ts's pure planRoutine from the
// asker the agent kept. Pure: nothing stands in.
import { describe, expect, it } from "vitest";
import { planRoutine } from "../conversation/routine-turn.js";

const AGENT = "b".repeat(64);
const OWNER = "a".repeat(64);

describe("a template's routine at its firing", () => {
  it("is a turn of the agent's own, which is not the owner's, so it is given no tools", () => {
    expect(planRoutine({ asker: AGENT, ownerId: OWNER, askerHere: true })).toEqual({
      kind: "turn",
      role: "member",
      tools: false,
    });
  });

  it("stays without tools whoever owns the agent, or with no owner at all", () => {
    expect(planRoutine({ asker: AGENT, ownerId: undefined, askerHere: true })).toMatchObject({ tools: false });
  });
});
