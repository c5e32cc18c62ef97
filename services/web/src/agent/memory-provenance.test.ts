// Who taught an entry, as the owner's page says it (memory-provenance.ts), in
// memory: the entries are what an agent's ListMemory opens to.
import { describe, expect, it } from "vitest";
import { IMPORTED_NOTE, byOrigin, learnedWhere, taughtBy } from "./memory-provenance";

const OWNER = "0a".repeat(32);
const ANA = "a7".repeat(32);
const base = { id: "mem_000000000000", kind: "personalization", text: "x" };

describe("who taught an entry, as the owner's page says it", () => {
  it("names the role and a short inbox of whoever taught it, the viewing owner as you", () => {
    expect(taughtBy({ ...base, role: "owner", from: OWNER }, OWNER)).toBe("Taught by you (owner)");
    // An owner before a transfer is not the one looking.
    expect(taughtBy({ ...base, role: "owner", from: OWNER }, ANA)).toBe("Taught by the owner 0a0a0a…0a0a");
    expect(taughtBy({ ...base, role: "member", from: ANA }, OWNER)).toBe("Taught by a member a7a7a7…a7a7");
    expect(taughtBy({ ...base, role: "outsider", from: "+15550188009" }, OWNER)).toBe(
      "Taught by an outsider +15550188009",
    );
  });

  it("says when a member's entry is their version of someone else's fact, and when the owner confirmed it", () => {
    expect(taughtBy({ ...base, role: "member", from: ANA, disputes: ["mem_1"] }, OWNER)).toBe(
      "Taught by a member a7a7a7…a7a7, their version of another's fact",
    );
    expect(taughtBy({ ...base, role: "owner", from: ANA, confirmedBy: OWNER }, OWNER)).toBe(
      "Taught by a member a7a7a7…a7a7, confirmed by you",
    );
  });

  it("names the parent of an inherited entry and who taught it there; adopted, imported and unknown entries say so", () => {
    expect(taughtBy({ ...base, inheritedFrom: "inst_parent1", role: "member", from: ANA }, OWNER)).toBe(
      "Inherited from its parent inst_parent1, taught there by a member a7a7a7…a7a7",
    );
    expect(taughtBy({ ...base, inheritedFrom: "inst_parent1" }, OWNER)).toBe("Inherited from its parent inst_parent1");
    expect(taughtBy({ ...base, adoptedFrom: "pat_1" }, OWNER)).toBe("Adopted from the pattern pool");
    expect(taughtBy({ ...base, imported: true }, OWNER)).toBe(
      "Nobody's word: imported from a file that was not your own export",
    );
    expect(taughtBy(base, OWNER)).toBe("Taught by someone unknown");
    // Written before roles: a sender was a member.
    expect(taughtBy({ ...base, from: ANA }, OWNER)).toBe("Taught by a member a7a7a7…a7a7");
  });

  it("names a teacher by the name they go by in the conversation they taught in, when the agent knows it", () => {
    const tokyo = "c0ffee".repeat(6);
    const names = { [tokyo]: { [ANA]: "Ana", [OWNER]: "Saul" } };
    const here = { ...base, conversationId: tokyo };
    expect(taughtBy({ ...here, role: "member", from: ANA }, OWNER, names)).toBe("Taught by Ana, a member");
    expect(taughtBy({ ...here, role: "member", from: ANA, disputes: ["mem_1"] }, OWNER, names)).toBe(
      "Taught by Ana, a member, their version of another's fact",
    );
    expect(taughtBy({ ...here, role: "owner", from: OWNER }, ANA, names)).toBe("Taught by the owner, Saul");
    expect(taughtBy({ ...here, role: "owner", from: ANA, confirmedBy: OWNER }, ANA, names)).toBe(
      "Taught by Ana, a member, confirmed by the owner, Saul",
    );
    // The viewer is you whatever their name; a name of another conversation is not this one's.
    expect(taughtBy({ ...here, role: "owner", from: OWNER }, OWNER, names)).toBe("Taught by you (owner)");
    expect(taughtBy({ ...base, conversationId: "conv12", role: "member", from: ANA }, OWNER, names)).toBe(
      "Taught by a member a7a7a7…a7a7",
    );
  });

  it("says the conversation it was learned in and the feedback it came from", () => {
    expect(learnedWhere({ ...base, conversationId: "c0ffee".repeat(6) })).toBe("in conversation c0ffee…ffee");
    expect(learnedWhere({ ...base, conversationId: "conv12", feedback: { signal: "down" } })).toBe(
      "in conversation conv12, from a 👎",
    );
    expect(learnedWhere(base)).toBe("");
    // Named as the page names conversations (memory-scope.ts).
    expect(learnedWhere({ ...base, conversationId: "conv12" }, (id) => (id === "conv12" ? "Lisbon trip" : id))).toBe(
      "in conversation Lisbon trip",
    );
  });

  it("shows imported entries apart: nobody's word whatever they say, unless from the owner's own export", () => {
    const agent = "5e1f".padEnd(64, "0");
    const learned = { ...base, id: "mem_1", role: "owner", from: OWNER };
    const nobodys = { ...base, id: "mem_2", imported: true };
    const own = { ...base, id: "mem_3", imported: true, sealedBy: agent, role: "member", from: ANA };
    expect(byOrigin([nobodys, learned, own])).toEqual({ learned: [learned], imported: [nobodys, own] });
    expect(IMPORTED_NOTE).toContain("nobody's word unless they came from your own export");
    // A file that says the owner taught it does not make it so.
    expect(taughtBy({ ...nobodys, role: "owner", from: OWNER }, OWNER)).toBe(
      "Nobody's word: imported from a file that was not your own export",
    );
    expect(taughtBy(own, OWNER)).toBe("Taught by a member a7a7a7…a7a7");
    expect(learnedWhere({ ...own, conversationId: "conv12" })).toBe(
      "in conversation conv12, in your export of agent 5e1f00…0000",
    );
  });
});
