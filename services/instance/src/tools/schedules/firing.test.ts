// What one firing does (firing.ts), pure, and the firing ids the agent keeps
// (store.ts, on disk in a real workspace): the decision firing-run.ts
// carries out.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import { type Firing, type FiringFacts, planFiring } from "./firing.js";
import { ScheduleStore } from "./store.js";

const OWNER = "a".repeat(64);
const MEMBER = "b".repeat(64);
const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const KEPT = {
  act: "pay" as const,
  toolId: "crypto" as const,
  target: ANA,
  amountWei: "10000000000000000",
  name: "Ana",
  conversationId: "g1",
};
const ROUTINE = { conversationId: "g1", asker: MEMBER, instruction: "post the week's plan" };
const firing = (kind: Firing["item"]["kind"], askedBy = OWNER, conversationId = "g1"): Firing => ({
  firingId: "sch_000000000000000000000001@2027-01-01T08:00:00Z",
  item: {
    id: "sch_000000000000000000000001",
    kind,
    text: kind === "act" ? `pay ${"0x000000000000000000000000000000000000dEaD"} 5 ETH` : "book the table",
    conversationId,
    askedBy,
  },
});
const facts = (over: Partial<FiringFacts> = {}): FiringFacts => ({
  done: () => false,
  inConversation: (id) => id === "g1",
  ownerId: OWNER,
  kept: KEPT,
  routine: ROUTINE,
  ...over,
});

describe("one firing", () => {
  it("does nothing again for a firing id it has done", () => {
    expect(planFiring(firing("reminder"), facts({ done: () => true }))).toEqual({ kind: "already-done" });
  });

  it("posts a reminder's words, and runs a routine as the turn of the asker the agent kept, on the words it kept", () => {
    expect(planFiring(firing("reminder", MEMBER), facts())).toEqual({ kind: "post", text: "Reminder: book the table" });
    // The item says the owner asked "book the table": the agent kept a member's "post the week's plan".
    expect(planFiring(firing("routine", OWNER), facts())).toEqual({
      kind: "turn",
      instruction: "post the week's plan",
      asker: MEMBER,
    });
  });

  it.each([
    ["nothing is kept for it", facts({ routine: undefined })],
    [
      "it was kept for another conversation",
      facts({ routine: { ...ROUTINE, conversationId: "g2" }, inConversation: () => true }),
    ],
  ])("takes no routine's turn when %s", (_why, f) => {
    expect(planFiring(firing("routine"), f)).toMatchObject({ kind: "refused" });
  });

  it("acts only as the agent kept the owner's request, whatever the item's text says", () => {
    expect(planFiring(firing("act"), facts())).toEqual({
      kind: "act",
      act: KEPT,
      say: `As you asked, on schedule: pay Ana (${ANA}) 0.01 ETH.`,
    });
  });

  it.each([
    ["nothing is kept for it", facts({ kept: undefined })],
    [
      "it was kept for another conversation",
      facts({ kept: { ...KEPT, conversationId: "g2" }, inConversation: () => true }),
    ],
    ["its asker is not the owner now (a transfer)", facts({ ownerId: MEMBER })],
  ])("does no act when %s", (_why, f) => {
    expect(planFiring(firing("act"), f)).toMatchObject({ kind: "refused" });
  });

  it("refuses a firing for a conversation the agent is not in", () => {
    expect(planFiring(firing("reminder", OWNER, "g9"), facts())).toEqual({
      kind: "refused",
      why: "the agent is not in that conversation",
    });
  });
});

it("keeps the firing ids it has done across a restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "firings-"));
  try {
    const ws = new Workspace(dir, "inst_firings");
    await ws.create();
    const store = await ScheduleStore.open(ws);
    expect(store.fired("f1")).toBe(false);
    await store.markFired("f1");
    expect((await ScheduleStore.open(ws)).fired("f1")).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
