// The walls between an agent's conversations (walls.ts), over generated
// memories: members' words stay where they were said, the owner's own travel,
// so does what the owner marked to use in all their conversations, a former
// owner's stop travelling, and an agent in one conversation reads
// all it remembers, as before.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ROLES } from "../platform/roles.js";
import { Memory, type MemoryEntry } from "./store.js";
import { isShared, memoryIn, portable, readableIn, scopeOf, type Walls } from "./walls.js";

const OWNER = "saul";
const FORMER = "ana";
const HOME = "conv-home";
const A = "conv-a";
const B = "conv-b";
const walls: Walls = { ownerId: OWNER, home: HOME };

const entry = fc.record(
  {
    id: fc.uuid(),
    kind: fc.constantFrom("training", "personalization", "credentials"),
    text: fc.string({ maxLength: 20 }),
    from: fc.constantFrom(OWNER, FORMER, "bea", "eve"),
    role: fc.constantFrom(...ROLES),
    conversationId: fc.constantFrom(HOME, A, B),
    confirmedBy: fc.constantFrom(OWNER, FORMER),
    via: fc.constantFrom("rule", "llm"),
    inheritedFrom: fc.constant("inst_parent"),
    feedback: fc.record({
      messageId: fc.uuid(),
      signal: fc.constantFrom("up", "down", "correction"),
      about: fc.string(),
    }),
    adoptedFrom: fc.constant("pat_1"),
    imported: fc.boolean(),
    sharedBy: fc.constantFrom(OWNER, FORMER),
    createdAt: fc.constant("2026-11-28T00:00:00.000Z"),
  },
  { requiredKeys: ["id", "kind", "text", "via", "createdAt"] },
) as fc.Arbitrary<MemoryEntry>;

/** A member's word, said in `conversationId`: nothing that makes it the owner's, the pool's or the home's. */
const membersIn = (conversationId: string) =>
  entry.map(
    (e): MemoryEntry => ({
      id: e.id,
      kind: e.kind,
      text: e.text,
      via: e.via,
      createdAt: e.createdAt,
      from: "bea",
      role: "member",
      conversationId,
      ...(e.feedback ? { feedback: e.feedback } : {}),
    }),
  );

describe("the walls between an agent's conversations", () => {
  test.prop([
    fc.array(
      entry.map((e) => ({ ...e, conversationId: HOME })),
      { maxLength: 20 },
    ),
  ])("an agent in one conversation reads all it remembers there", (entries) => {
    expect(memoryIn(new Memory(entries), HOME, walls).entries).toEqual(entries);
  });

  test.prop([membersIn(A), fc.constantFrom(B, HOME)])(
    "what a member said in one conversation, and any feedback there, is read there and nowhere else",
    (e, other) => {
      expect(readableIn(e, A, walls)).toBe(true);
      expect(readableIn(e, other, walls)).toBe(false);
    },
  );

  test.prop([
    entry.map(({ adoptedFrom: _a, inheritedFrom: _i, imported: _m, ...e }) => ({
      ...e,
      conversationId: A,
      feedback: e.feedback ?? { messageId: "m", signal: "up" as const, about: "" },
    })),
  ])("feedback on its answer in one conversation stays there, even the owner's", (e) => {
    expect(scopeOf(e, walls)).toEqual({ conversationId: A });
  });

  test.prop([entry.map((e) => ({ ...e, conversationId: A, adoptedFrom: undefined, imported: true }))])(
    "what was imported is the home's unless it is the owner's own, whatever conversation it names",
    (e) => {
      const { adoptedFrom: _a, ...imported } = e;
      const owners = e.confirmedBy !== undefined ? e.confirmedBy === OWNER : e.role === "owner" && e.from === OWNER;
      const expected =
        !e.feedback && (owners || e.sharedBy === OWNER) ? { everywhere: true } : { conversationId: HOME };
      expect(scopeOf(imported, walls)).toEqual(expected);
    },
  );

  it("the owner's own travel: taught or confirmed by them, and adopted lessons", () => {
    const taught: MemoryEntry = {
      id: "1",
      kind: "personalization",
      text: "my flight is AF123",
      via: "rule",
      createdAt: "",
      from: OWNER,
      role: "owner",
      conversationId: A,
    };
    const confirmed: MemoryEntry = { ...taught, id: "2", from: "bea", role: "owner", confirmedBy: OWNER };
    const adopted: MemoryEntry = {
      id: "3",
      kind: "training",
      text: "confirm dates",
      via: "llm",
      createdAt: "",
      adoptedFrom: "pat_1",
    };
    for (const e of [taught, confirmed, adopted]) expect(scopeOf(e, walls), e.id).toEqual({ everywhere: true });
    expect(memoryIn(new Memory([taught, confirmed, adopted]), B, walls).entries).toHaveLength(3);
  });

  test.prop([entry.map((e) => ({ ...e, conversationId: A, from: FORMER, role: "owner" as const }))])(
    "after a transfer, what the former owner taught, confirmed or shared stays where it was said",
    (e) => {
      const { adoptedFrom: _a, feedback: _f, inheritedFrom: _i, imported: _m, ...said } = e;
      const { sharedBy: _s, ...unmarked } = said;
      const marked: MemoryEntry = e.sharedBy ? { ...unmarked, sharedBy: FORMER } : unmarked;
      const former: MemoryEntry = e.confirmedBy === OWNER ? { ...marked, confirmedBy: FORMER } : marked;
      expect(readableIn(former, A, walls)).toBe(true);
      expect(readableIn(former, B, walls)).toBe(false);
      expect(readableIn(former, B, { ...walls, ownerId: FORMER })).toBe(true);
    },
  );

  test.prop([membersIn(A), fc.constantFrom(B, HOME)])(
    "what the owner marked 'use this in all my conversations' is read everywhere, a member's fact too; never feedback",
    (e, other) => {
      const shared: MemoryEntry = { ...e, sharedBy: OWNER, sharedAt: "2026-11-29T00:00:00.000Z" };
      expect(readableIn(shared, other, walls)).toBe(!e.feedback);
      expect(portable(shared, OWNER)).toBe(!e.feedback);
      expect(isShared(shared, OWNER)).toBe(true);
      // Marked by anyone else (a former owner, a member's file), it stays where it was said.
      expect(readableIn({ ...shared, sharedBy: FORMER }, other, walls)).toBe(false);
      expect(readableIn({ ...shared, sharedBy: "bea" }, other, walls)).toBe(false);
    },
  );

  test.prop([fc.array(entry, { maxLength: 20 })])("portable is exactly what every conversation reads", (entries) => {
    for (const e of entries) expect(portable(e, OWNER), JSON.stringify(e)).toBe("everywhere" in scopeOf(e, walls));
  });

  it("what came with no conversation of its own belongs to the home: a clone's inheritance, an unsealed import", () => {
    const inherited: MemoryEntry = {
      id: "i",
      kind: "training",
      text: "t",
      via: "llm",
      createdAt: "",
      inheritedFrom: "inst_parent",
    };
    const imported: MemoryEntry = { id: "m", kind: "training", text: "t", via: "llm", createdAt: "", imported: true };
    for (const e of [inherited, imported]) {
      expect(readableIn(e, HOME, walls)).toBe(true);
      expect(readableIn(e, A, walls)).toBe(false);
    }
  });

  test.prop([fc.array(entry, { maxLength: 20 }), fc.constantFrom(HOME, A, B)])(
    "a view holds the memory's own entries, in order, and only those its rule lets in",
    (entries, here) => {
      const memory = new Memory(entries);
      const view = memoryIn(memory, here, walls);
      expect(view.entries).toEqual(entries.filter((e) => readableIn(e, here, walls)));
      for (const e of view.entries) expect(memory.entries).toContain(e);
      // Taken before the role's view: a member's turn still reads no credentials.
      expect(view.visibleTo("member").entries.some((e) => e.kind === "credentials")).toBe(false);
    },
  );
});
