// Where an entry of an agent's memory is read, as its owner's memory page says
// it (memory-scope.ts), in memory: the entries are what an agent's ListMemory
// opens to, with `shared` and `everywhere` as the agent sets them.
import { create } from "@bufbuild/protobuf";
import { AgentConversationSchema } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import type { ListedEntry } from "./memory-provenance";
import { conversationLabel, reachOf, reachWords, withShared } from "./memory-scope";

const OWNER = "0a".repeat(32);
const ANA = "a7".repeat(32);
const HOME = "c0ffee".repeat(6);
const CLUB = "d1ce".repeat(8);
const base: ListedEntry = { id: "mem_000000000000", kind: "personalization", text: "x" };
const member: ListedEntry = {
  ...base,
  role: "member",
  from: ANA,
  conversationId: CLUB,
  shared: false,
  everywhere: false,
};

const conversations = [
  create(AgentConversationSchema, { conversationId: HOME, name: "Lisbon trip", home: true }),
  create(AgentConversationSchema, { conversationId: CLUB, name: " " }),
];
const label = (id: string) => conversationLabel(id, conversations);

describe("where an entry is read, as the owner's memory page says it", () => {
  it("offers the toggle for a member's entry: off, only in the conversation it was said in; on, everywhere", () => {
    expect(reachOf(member, OWNER, HOME)).toEqual({ kind: "toggle", shared: false, conversationId: CLUB });
    expect(reachWords(reachOf(member, OWNER, HOME), label)).toBe("Only in d1ced1…d1ce.");
    const shared = withShared(member, true);
    expect(reachOf(shared, OWNER, HOME)).toEqual({ kind: "toggle", shared: true, conversationId: CLUB });
    expect(reachWords(reachOf(shared, OWNER, HOME), label)).toBe("Known in all its conversations: you shared it.");
    expect(reachOf(withShared(shared, false), OWNER, HOME)).toEqual(reachOf(member, OWNER, HOME));
  });

  it("says the owner's own and the pattern pool's lessons travel anyway, with no toggle, even when also marked shared", () => {
    const own = { ...base, role: "owner", from: OWNER, conversationId: CLUB, everywhere: true };
    expect(reachOf(own, OWNER, HOME)).toEqual({ kind: "always", why: "yours" });
    expect(reachOf({ ...own, shared: true }, OWNER, HOME)).toEqual({ kind: "always", why: "yours" });
    // A member's version the owner confirmed is the owner's own.
    expect(reachOf({ ...member, role: "owner", confirmedBy: OWNER, everywhere: true }, OWNER, HOME).kind).toBe(
      "always",
    );
    expect(reachWords(reachOf(own, OWNER, HOME), label)).toBe(
      "Known in all its conversations: you taught or confirmed it.",
    );
    const adopted = { ...base, adoptedFrom: "pat_1", everywhere: true };
    expect(reachWords(reachOf(adopted, OWNER, HOME), label)).toBe(
      "Known in all its conversations: a lesson from the pattern pool.",
    );
  });

  it("keeps a former owner's entry behind the walls: the toggle is offered to the owner looking now", () => {
    const former = { ...base, role: "owner", from: ANA, conversationId: CLUB };
    expect(reachOf(former, OWNER, HOME)).toEqual({ kind: "toggle", shared: false, conversationId: CLUB });
  });

  it("offers no toggle for feedback on an answer: it stays in the conversation of that answer", () => {
    const feedback = { ...member, role: "owner", from: OWNER, feedback: { signal: "down" } };
    expect(reachOf(feedback, OWNER, HOME)).toEqual({ kind: "stays", conversationId: CLUB });
    expect(reachWords(reachOf(feedback, OWNER, HOME), label)).toBe(
      "Only in d1ced1…d1ce: feedback on its answer there stays there.",
    );
  });

  it("places what came from no conversation, a parent's summary or an imported file in the home", () => {
    const { conversationId: _, ...nowhere } = member;
    expect(reachOf(nowhere, OWNER, HOME)).toMatchObject({ conversationId: HOME });
    expect(reachOf({ ...member, inheritedFrom: "inst_parent1" }, OWNER, HOME)).toMatchObject({ conversationId: HOME });
    expect(reachOf({ ...member, imported: true }, OWNER, HOME)).toMatchObject({ conversationId: HOME });
    expect(reachWords(reachOf({ ...member, imported: true }, OWNER, HOME), label)).toBe("Only in Lisbon trip.");
  });

  it("believes the agent when it says an entry is read everywhere though none of the page's rules says why", () => {
    expect(reachOf({ ...member, everywhere: true }, OWNER, HOME)).toEqual({ kind: "always", why: "agent" });
  });
});

describe("conversationLabel", () => {
  it("names a conversation as the agent's list does, else the home's name from the agent, else a short id", () => {
    expect(label(HOME)).toBe("Lisbon trip");
    expect(label(CLUB)).toBe("d1ced1…d1ce");
    expect(conversationLabel(HOME, [], { conversationId: HOME, name: "Trip" })).toBe("Trip");
    expect(conversationLabel("", conversations)).toBe("its home conversation");
  });
});
