// What the pool records of each version's agents (lifecycle.ts), in
// memory: claims by the version at claim, removals by the owner within a day
// and a week, clones by the parent's version, the creator's own apart, and
// nothing but `claimed` below the threshold.
import { describe, expect, it } from "vitest";
import { MIN_CONVERSATIONS } from "./figures.js";
import { lifecycles, type LifecycleAgent } from "./lifecycle.js";

const CREATOR = "creator";
const T0 = Date.parse("2026-11-01T12:00:00Z");
const HOUR = 3_600_000;

let conversations = 0;
/** An agent of `ownerId` claimed on `version` at T0 into a conversation of its own, removed by its owner `removedAfterHours` later. */
const agent = (ownerId: string, version: string, removedAfterHours?: number): LifecycleAgent => ({
  ownerId,
  conversationId: `conv-${++conversations}`,
  version,
  claimedAt: new Date(T0),
  removedAt: removedAfterHours === undefined ? undefined : new Date(T0 + removedAfterHours * HOUR),
});

describe("a version's lifecycle", () => {
  it("counts agents by the version they were claimed on, removals within 24 hours and within 7 days (the week including the day), and clones by the parent's version", () => {
    const agents = [
      agent("ana", "7", 1),
      agent("ana", "7", 24),
      agent("bo", "7", 25),
      agent("cy", "7", 7 * 24),
      agent("di", "7", 7 * 24 + 1),
      agent("ed", "7"),
      agent("ed", "6", 1),
    ];
    const clones = [
      { parentOwnerId: "ana", parentVersion: "7" },
      { parentOwnerId: "bo", parentVersion: "7" },
      { parentOwnerId: "bo", parentVersion: "6" },
    ];
    const { versions } = lifecycles(agents, clones, ["7"], CREATOR, 5);
    expect(versions).toEqual([
      { version: "7", claimed: 6, shown: true, removedWithin1Day: 2, removedWithin7Days: 4, clones: 2 },
    ]);
  });

  it(`gives only how many were claimed below ${MIN_CONVERSATIONS} conversations of claimed agents`, () => {
    const agents = Array.from({ length: MIN_CONVERSATIONS - 1 }, (_, i) => agent(`o${i}`, "7", 1));
    const { versions } = lifecycles(agents, [{ parentOwnerId: "o1", parentVersion: "7" }], ["7"], CREATOR);
    expect(versions).toEqual([
      {
        version: "7",
        claimed: MIN_CONVERSATIONS - 1,
        shown: false,
        removedWithin1Day: 0,
        removedWithin7Days: 0,
        clones: 0,
      },
    ]);
    const more = lifecycles([...agents, agent("o9", "7")], [], ["7"], CREATOR).versions[0];
    expect(more).toMatchObject({ claimed: MIN_CONVERSATIONS, shown: true, removedWithin1Day: MIN_CONVERSATIONS - 1 });
    // Five agents in one conversation are one conversation: not enough.
    const together = Array.from({ length: MIN_CONVERSATIONS }, () => ({ ...agent("o1", "7", 1), conversationId: "c" }));
    expect(lifecycles(together, [], ["7"], CREATOR).versions[0]).toMatchObject({
      claimed: MIN_CONVERSATIONS,
      shown: false,
    });
  });

  it("counts each conversation of its agents once: one agent in two counts two, two agents in one count one", () => {
    const inAll = (ownerId: string, conversationIds: string[]): LifecycleAgent => ({
      ...agent(ownerId, "7"),
      conversationId: conversationIds[0]!,
      conversationIds,
    });
    // Three agents, five conversations (c3 shared): shown.
    const five = [inAll("ana", ["c1", "c2"]), inAll("bo", ["c3"]), inAll("cy", ["c3", "c4", "c5"])];
    expect(lifecycles(five, [], ["7"], CREATOR).versions[0]).toMatchObject({ claimed: 3, shown: true });
    // The same three in four conversations: not.
    const four = [inAll("ana", ["c1", "c2"]), inAll("bo", ["c3"]), inAll("cy", ["c3", "c4"])];
    expect(lifecycles(four, [], ["7"], CREATOR).versions[0]).toMatchObject({ claimed: 3, shown: false });
  });

  it("counts the creator's own agents and their clones apart, never with the others', in the order of the versions asked", () => {
    const agents = [agent(CREATOR, "7", 1), agent(CREATOR, "6"), agent("ana", "7")];
    const clones = [{ parentOwnerId: CREATOR, parentVersion: "7" }];
    const view = lifecycles(agents, clones, ["7", "6", "5"], CREATOR, 1);
    expect(view.versions.map((l) => [l.version, l.claimed, l.removedWithin1Day, l.clones])).toEqual([
      ["7", 1, 0, 0],
      ["6", 0, 0, 0],
      ["5", 0, 0, 0],
    ]);
    expect(view.ownVersions.map((l) => [l.version, l.claimed, l.removedWithin1Day, l.clones])).toEqual([
      ["7", 1, 1, 1],
      ["6", 1, 0, 0],
      ["5", 0, 0, 0],
    ]);
  });
});
