// An owner's agents grouped by conversation, from instances shaped as ListOwnerAgents returns them.
import { create } from "@bufbuild/protobuf";
import { InstanceSchema } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byConversation, conversationTitle } from "./agent-groups";

const agent = (id: string, conversationId: string, seconds: number, conversationName = "") =>
  create(InstanceSchema, { id, conversationId, conversationName, claimedAt: { seconds: BigInt(seconds), nanos: 0 } });

describe("byConversation", () => {
  it("puts the agents of one conversation together, the newest conversation first, each in the order they joined", () => {
    const groups = byConversation([
      agent("inst_a", "c_trip", 100),
      agent("inst_b", "c_family", 300),
      agent("inst_c", "c_trip", 50),
      agent("inst_d", "", 400),
    ]);
    expect(groups.map((g) => [g.conversationId, g.agents.map((a) => a.id), g.since])).toEqual([
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
          expect(groups.flatMap((g) => g.agents.map((a) => a.id)).sort()).toEqual(agents.map((a) => a.id).sort());
          expect(new Set(groups.map((g) => g.conversationId)).size).toBe(groups.length);
          for (const g of groups) expect(g.agents.every((a) => a.conversationId === g.conversationId)).toBe(true);
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
});
