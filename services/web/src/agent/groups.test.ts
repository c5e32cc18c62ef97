// An owner's agents grouped by conversation, from instances shaped as ListOwnerAgents returns them.
import { create } from "@bufbuild/protobuf";
import {
  AgentConversationSchema,
  AgentConversationState,
  InstanceSchema,
  InstanceState,
  type Instance,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { agentMatches, byConversation, conversationTitle, elsewhereWords, homeName } from "./groups";

const agent = (id: string, conversationId: string, seconds: number, conversationName = "") =>
  create(InstanceSchema, { id, conversationId, conversationName, claimedAt: { seconds: BigInt(seconds), nanos: 0 } });

const at = (seconds: number) => ({ seconds: BigInt(seconds), nanos: 0 });

/** An agent in its home and the added conversations given, as claims lists them (the home first). */
function inMany(
  id: string,
  home: { id: string; name?: string; claimed: number },
  added: { id: string; name?: string; joined: number; state?: AgentConversationState }[],
): Instance {
  return create(InstanceSchema, {
    id,
    conversationId: home.id,
    conversationName: home.name ?? "",
    claimedAt: at(home.claimed),
    conversations: [
      create(AgentConversationSchema, {
        conversationId: home.id,
        name: home.name ?? "",
        home: true,
        state: AgentConversationState.JOINED,
        joinedAt: at(home.claimed),
      }),
      ...added.map((c) =>
        create(AgentConversationSchema, {
          conversationId: c.id,
          name: c.name ?? "",
          state: c.state ?? AgentConversationState.JOINED,
          joinedAt: at(c.joined),
        }),
      ),
    ],
  });
}

const ids = (g: { agents: { agent: Instance }[] }) => g.agents.map((a) => a.agent.id);

describe("byConversation", () => {
  it("puts the agents of one conversation together, the newest conversation first, each in the order they joined", () => {
    const groups = byConversation([
      agent("inst_a", "c_trip", 100),
      agent("inst_b", "c_family", 300),
      agent("inst_c", "c_trip", 50),
      agent("inst_d", "", 400),
    ]);
    expect(groups.map((g) => [g.conversationId, ids(g), g.since])).toEqual([
      ["c_family", ["inst_b"], 300],
      ["c_trip", ["inst_c", "inst_a"], 50],
      ["", ["inst_d"], 400],
    ]);
  });

  it("keeps every agent exactly once, in one group per conversation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("", "c1", "c2", "c3"), fc.integer({ min: 0, max: 1e9 })), { maxLength: 30 }),
        (rows) => {
          const agents = rows.map(([c, s], n) => agent(`inst_${n}`, c, s));
          const groups = byConversation(agents);
          expect(groups.flatMap(ids).sort()).toEqual(agents.map((a) => a.id).sort());
          expect(new Set(groups.map((g) => g.conversationId)).size).toBe(groups.length);
          for (const g of groups) {
            expect(g.agents.every(({ agent: a }) => a.conversationId === g.conversationId)).toBe(true);
            // One conversation each: nothing marks a home or names another conversation.
            expect(g.agents.every((a) => a.home && a.conversations <= 1)).toBe(true);
          }
        },
      ),
    );
  });

  it("names each conversation by its group's name as its agents report it, the latest-joined agent's first", () => {
    const groups = byConversation([
      agent("inst_a", "c_trip", 100, "Tokyo trip"),
      agent("inst_b", "c_trip", 200, "Tokyo trip 🗼"),
      agent("inst_c", "c_trip", 300, " "),
      agent("inst_d", "c_family", 50),
    ]);
    expect(groups.map((g) => [g.conversationId, g.name])).toEqual([
      ["c_trip", "Tokyo trip 🗼"],
      ["c_family", ""],
    ]);
    expect(groups.map((g) => conversationTitle(g.name))).toEqual(["Tokyo trip 🗼", "A conversation"]);
  });

  it("lists an agent in two conversations under both, its home marked there, the added one dated by its joining", () => {
    const concierge = inMany("inst_c", { id: "c_trip", name: "Lisbon trip", claimed: 100 }, [
      { id: "c_club", name: "Dinner club", joined: 500 },
    ]);
    const groups = byConversation([concierge, agent("inst_d", "c_trip", 200, "Lisbon trip")]);
    expect(groups.map((g) => [g.conversationId, g.name, ids(g), g.since])).toEqual([
      ["c_club", "Dinner club", ["inst_c"], 500],
      ["c_trip", "Lisbon trip", ["inst_c", "inst_d"], 100],
    ]);
    const [club, trip] = groups;
    expect(club!.agents.map((a) => [a.home, a.conversations])).toEqual([[false, 2]]);
    expect(trip!.agents.map((a) => [a.agent.id, a.home, a.conversations])).toEqual([
      ["inst_c", true, 2],
      ["inst_d", true, 1],
    ]);
    expect(homeName(concierge)).toBe("Lisbon trip");
    expect(elsewhereWords(club!.agents[0]!, "c_club")).toBe("Added here; its home is Lisbon trip.");
    expect(elsewhereWords(trip!.agents[0]!, "c_trip")).toBe("Its home; also in Dinner club.");
  });

  it("names every other conversation of its home's card, one without a name said so", () => {
    const concierge = inMany("inst_c", { id: "c_trip", name: "Lisbon trip", claimed: 100 }, [
      { id: "c_club", name: "Dinner club", joined: 500 },
      { id: "c_books", joined: 600 },
    ]);
    const home = byConversation([concierge]).find((g) => g.conversationId === "c_trip")!.agents[0]!;
    expect(elsewhereWords(home, "c_trip")).toBe("Its home; also in Dinner club and one with no name yet.");
  });

  it("leaves out a conversation still being joined (no id yet) and lists one being left until it is", () => {
    const groups = byConversation([
      inMany("inst_c", { id: "c_trip", claimed: 100 }, [
        { id: "", joined: 0, state: AgentConversationState.JOINING },
        { id: "c_club", joined: 300, state: AgentConversationState.LEAVING },
      ]),
    ]);
    expect(groups.map((g) => [g.conversationId, ids(g)])).toEqual([
      ["c_club", ["inst_c"]],
      ["c_trip", ["inst_c"]],
    ]);
    expect(groups.map((g) => g.agents[0]!.conversations)).toEqual([2, 2]);
  });

  it("keeps one agent of one conversation as before: under its home once, named by the agent's report", () => {
    const alone = inMany("inst_c", { id: "c_trip", name: "Lisbon trip", claimed: 100 }, []);
    const groups = byConversation([alone]);
    expect(groups).toEqual([
      {
        conversationId: "c_trip",
        name: "Lisbon trip",
        since: 100,
        agents: [{ agent: alone, home: true, conversations: 1, joined: 100 }],
      },
    ]);
  });

  it("lists every agent under each of its conversations exactly once, and under no other", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("c1", "c2", "c3"),
            fc.uniqueArray(fc.constantFrom("c1", "c2", "c3", "c4"), { maxLength: 3 }),
          ),
          { maxLength: 20 },
        ),
        (rows) => {
          const agents = rows.map(([home, added], n) =>
            inMany(
              `inst_${n}`,
              { id: home, claimed: n },
              added.filter((c) => c !== home).map((c, k) => ({ id: c, joined: 100 + k })),
            ),
          );
          const groups = byConversation(agents);
          for (const a of agents) {
            const where = groups.filter((g) => ids(g).includes(a.id)).map((g) => g.conversationId);
            expect(where.sort()).toEqual(a.conversations.map((c) => c.conversationId).sort());
            for (const g of groups.filter((x) => ids(x).includes(a.id))) {
              expect(g.agents.filter((x) => x.agent.id === a.id)).toHaveLength(1);
              expect(g.agents.find((x) => x.agent.id === a.id)!.home).toBe(g.conversationId === a.conversationId);
            }
          }
        },
      ),
    );
  });
});

describe("agentMatches", () => {
  const trip = create(InstanceSchema, {
    id: "inst_trip1",
    agentName: "Trip Planner",
    templateId: "tmpl_abc",
    conversationName: "Lisbon trip",
    state: InstanceState.CLAIMED,
    conversations: [create(AgentConversationSchema, { conversationId: "c2", name: "Dinner club" })],
  });
  const ended = create(InstanceSchema, { id: "inst_old", agentName: "Budget", state: InstanceState.DEAD });

  it("finds an agent by each word searched, in its name, id, template or any of its conversations' names, in any case", () => {
    for (const words of ["", "trip", "PLANNER lisbon", "dinner", "inst_trip1", "tmpl_abc", "  club  "])
      expect([words, agentMatches(trip, words, "all")]).toEqual([words, true]);
    for (const words of ["budget", "trip budget", "paris"])
      expect([words, agentMatches(trip, words, "all")]).toEqual([words, false]);
  });

  it("shows live agents, ended ones, or all", () => {
    expect([agentMatches(trip, "", "live"), agentMatches(ended, "", "live")]).toEqual([true, false]);
    expect([agentMatches(trip, "", "ended"), agentMatches(ended, "", "ended")]).toEqual([false, true]);
    expect([agentMatches(trip, "", "all"), agentMatches(ended, "budget", "all")]).toEqual([true, true]);
  });
});
