// What of a conversation's lines and people's phone data a reader may read
// (views.ts), each labelled there and decided by the walls' rules. Pure.
import { describe, expect, it } from "vitest";
import type { Reader } from "./labels.js";
import { itemLabel, itemsFor, lineLabel, linesFor, piecesFor } from "./views.js";

const A = "conv-a";
const owner: Reader = { kind: "person", conversationId: A, inboxId: "saul", owner: true };
const bea: Reader = { kind: "person", conversationId: A, inboxId: "bea", owner: false };
const lines = [
  { role: "user", text: "we land at nine", from: "saul", speaker: "owner" },
  { role: "user", text: "my locker is 12", from: "bea", speaker: "member" },
  { role: "assistant", text: "noted: locker 12" },
];
const text = (ls: readonly { text: string }[]) => ls.map((l) => l.text);

describe("a conversation's lines", () => {
  it("are all read by a person's turn there, by none of someone outside, by a turn elsewhere not at all", () => {
    expect(text(linesFor(lines, A, bea))).toEqual(["we land at nine", "my locker is 12", "noted: locker 12"]);
    expect(linesFor(lines, A, { kind: "outsider", conversationId: A, address: "+15550100111" })).toEqual([]);
    expect(linesFor(lines, A, { ...bea, conversationId: "conv-b" }).map((l) => l.text)).toEqual(["we land at nine"]);
  });

  it("give a clone the owner's own words only: a member's, and the agent's own that may repeat them, stay", () => {
    expect(text(linesFor(lines, A, { kind: "clone" }))).toEqual(["we land at nine"]);
    expect(lineLabel(lines[0]!, A).where).toEqual({ everywhere: true });
    // A line of the agent's own that a member's name set as "owner" is still the agent's: its role decides.
    expect(lineLabel({ role: "assistant", speaker: "owner" }, A).where).toEqual({ conversation: A });
  });
});

describe("people's phone data", () => {
  const pieces = [
    { from: "bea", kind: "calendar" },
    { from: "saul", kind: "contacts" },
  ];

  it("is read in its own person's turn alone, never by someone outside or a clone", () => {
    expect(piecesFor(pieces, A, bea)).toEqual([{ from: "bea", kind: "calendar" }]);
    expect(piecesFor(pieces, A, owner)).toEqual([{ from: "saul", kind: "contacts" }]);
    expect(piecesFor(pieces, A, { kind: "outsider", conversationId: A, address: "bea" })).toEqual([]);
    expect(piecesFor(pieces, A, { kind: "clone" })).toEqual([]);
    expect(piecesFor(pieces, A, { ...bea, conversationId: "conv-b" })).toEqual([]);
  });
});

describe("the items kept for a conversation", () => {
  const items = [
    { id: "sch_a", conversationId: A, askedBy: "bea" },
    { id: "sch_b", conversationId: "conv-b", askedBy: "eve" },
  ];
  const ids = (is: readonly { id: string }[]) => is.map((i) => i.id);

  it("are listed to that conversation's people alone, owner or member, and to the owner across every one", () => {
    expect(ids(itemsFor(items, bea))).toEqual(["sch_a"]);
    expect(ids(itemsFor(items, owner))).toEqual(["sch_a"]);
    expect(ids(itemsFor(items, { ...owner, conversationId: "conv-b" }))).toEqual(["sch_b"]);
    expect(ids(itemsFor(items, { kind: "owner" }))).toEqual(["sch_a", "sch_b"]);
  });

  it("are listed to nobody outside and to no clone, and are labelled their asker's, in their conversation", () => {
    expect(itemsFor(items, { kind: "outsider", conversationId: A, address: "bea" })).toEqual([]);
    expect(itemsFor(items, { kind: "clone" })).toEqual([]);
    expect(itemLabel(items[0]!)).toEqual({ whose: { person: "bea" }, where: { conversation: A }, how: "scheduled" });
  });
});
