// Each teacher's share of memory (memory/teacher-shares.ts), in memory: the policy's
// constants, what goes when a teacher is past their share or memory is full,
// each conversation's members' share in an agent of several, and a flood of
// members' facts through Memory.add. Nothing is a stand-in: these are pure
// rules and the real Memory.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { MAX_ADOPTED_PATTERNS } from "./patterns.js";
import { MAX_SUMMARY_ENTRIES } from "../model/prompt.js";
import {
  ADOPTED_SHARE,
  IMPORTED_SHARE,
  INHERITED_SHARE,
  MAX_MEMORY_ENTRIES,
  MEMBER_SHARE,
  MIN_CONVERSATION_SHARE,
  OUTSIDER_SHARE,
  UNKNOWN_SHARE,
  conversationOf,
  conversationShare,
  overShare,
  shareOf,
  shareholderOf,
  type Shareholder,
  type Taught,
} from "./teacher-shares.js";
import { Memory, type MemoryEntry, type NewEntry } from "./store.js";

const OWNER = "0".repeat(64);
const member = (i: number) => i.toString(16).padStart(64, "a");

let n = 0;
function entry(over: Partial<MemoryEntry>): MemoryEntry {
  n++;
  return { id: `mem_${n}`, kind: "personalization", text: `fact ${n}`, via: "llm", createdAt: "", ...over };
}
const owners = (count: number) => Array.from({ length: count }, () => entry({ role: "owner", from: OWNER }));
const members = (count: number, from = member(1)) =>
  Array.from({ length: count }, () => entry({ role: "member", from }));

describe("each teacher's share of memory", () => {
  it("is 1,000 entries in all; 50 for each member, none for an outsider; 200 inherited, 20 adopted, 200 imported, 200 unknown", () => {
    expect(MAX_MEMORY_ENTRIES).toBe(1000);
    expect(MEMBER_SHARE).toBe(50);
    expect(OUTSIDER_SHARE).toBe(0);
    expect(INHERITED_SHARE).toBe(200);
    expect(ADOPTED_SHARE).toBe(20);
    expect(IMPORTED_SHARE).toBe(200);
    expect(UNKNOWN_SHARE).toBe(200);
    // What a clone summary carries and the pattern pool adopts fits in its share.
    expect(INHERITED_SHARE).toBeGreaterThanOrEqual(MAX_SUMMARY_ENTRIES);
    expect(ADOPTED_SHARE).toBeGreaterThanOrEqual(MAX_ADOPTED_PATTERNS);
    // The owner's share is the whole memory.
    expect(shareOf("owner")).toBe(MAX_MEMORY_ENTRIES);
    expect(shareOf(`member:${member(1)}`)).toBe(MEMBER_SHARE);
  });

  it("counts an entry in its teacher's share: inherited and adopted whoever taught them there, a confirmed one the owner's, an imported one without a role nobody's", () => {
    expect(shareholderOf(entry({ role: "owner", from: OWNER }))).toBe("owner");
    expect(shareholderOf(entry({ role: "owner", from: member(1), confirmedBy: OWNER }))).toBe("owner");
    expect(shareholderOf(entry({ role: "member", from: member(1) }))).toBe(`member:${member(1)}`);
    expect(shareholderOf(entry({ role: "outsider", from: "+15550188009" }))).toBe("outsider");
    expect(shareholderOf(entry({ inheritedFrom: "inst_p", role: "owner", from: OWNER }))).toBe("inherited");
    expect(shareholderOf(entry({ adoptedFrom: "pat_1" }))).toBe("adopted");
    expect(shareholderOf(entry({ imported: true }))).toBe("imported");
    // From the owner's own sealed export: who taught it there.
    expect(shareholderOf(entry({ imported: true, sealedBy: "c".repeat(64), role: "member", from: member(2) }))).toBe(
      `member:${member(2)}`,
    );
    expect(shareholderOf(entry({ from: member(3) }))).toBe(`member:${member(3)}`);
    expect(shareholderOf(entry({}))).toBe("unknown");
  });

  it("a member past their share loses their own oldest entry, not anyone else's, however many places are free", () => {
    const theirs = members(MEMBER_SHARE + 3);
    const all = [...owners(2), ...members(5, member(2)), ...theirs];
    expect([...overShare(all)]).toEqual(theirs.slice(0, 3).map((e) => e.id));
  });

  it("an outsider's entry is never kept", () => {
    const told = entry({ role: "outsider", from: "+15550188009" });
    expect([...overShare([...owners(1), told])]).toEqual([told.id]);
  });

  it("when memory is full, the oldest of anyone but the owner goes, even when no one is past their share", () => {
    const mine = owners(MAX_MEMORY_ENTRIES - 20);
    const first = members(10, member(1));
    const second = members(10, member(2));
    const late = members(1, member(3));
    expect([...overShare([...first, ...mine, ...second, ...late])]).toEqual([first[0]!.id]);
  });

  it("the owner's entries go only to free places for the owner's own", () => {
    const mine = owners(MAX_MEMORY_ENTRIES);
    // A member's entry in a memory full of the owner's: the member's goes.
    const theirs = members(1);
    expect([...overShare([...mine, ...theirs])]).toEqual([theirs[0]!.id]);
    // The owner's own: the owner's oldest goes.
    expect([...overShare([...mine, ...owners(1)])]).toEqual([mine[0]!.id]);
    // Beside others' entries, the owner's own new one takes others' places first.
    const others = members(2);
    expect([...overShare([...mine.slice(2), ...others, ...owners(1)])]).toEqual([others[0]!.id]);
  });

  it("inherited, adopted and imported entries keep to their shares as groups", () => {
    const inherited = Array.from({ length: INHERITED_SHARE + 1 }, () => entry({ inheritedFrom: "inst_p" }));
    const adopted = Array.from({ length: ADOPTED_SHARE + 1 }, (_, i) => entry({ adoptedFrom: `pat_${i}` }));
    const imported = Array.from({ length: IMPORTED_SHARE + 2 }, () => entry({ imported: true }));
    expect([...overShare([...inherited, ...adopted, ...imported])]).toEqual([
      inherited[0]!.id,
      adopted[0]!.id,
      imported[0]!.id,
      imported[1]!.id,
    ]);
  });

  it("100 member messages of 10 facts each leave every owner entry, credentials included", () => {
    const m = new Memory();
    const taught: NewEntry[] = [
      { kind: "training", text: "Always confirm the date before booking", role: "owner", from: OWNER },
      { kind: "personalization", text: "my diet is vegan", role: "owner", from: OWNER },
      { kind: "credentials", text: "the door code is 4521", role: "owner", from: OWNER },
      { kind: "credentials", text: "the API key for bookings is sk-live-9f8e7d6c5b4a", role: "owner", from: OWNER },
    ];
    m.add(taught);
    // One member alone, and then a hundred members, one message each: neither pushes the owner out.
    for (const senders of [[member(1)], Array.from({ length: 100 }, (_, i) => member(i + 2))])
      for (let msg = 0; msg < 100; msg++) {
        const from = senders[msg % senders.length]!;
        m.add(
          Array.from({ length: 10 }, (_, f) => ({
            kind: "personalization" as const,
            text: `fact ${f} of message ${msg} from ${from.slice(-4)} in round ${senders.length}`,
            role: "member" as const,
            from,
          })),
        );
      }
    expect(m.entries.length).toBeLessThanOrEqual(MAX_MEMORY_ENTRIES);
    for (const o of taught) expect(m.entries.map((e) => e.text)).toContain(o.text);
    // The hundred members keep their latest: each within their share, the oldest gone for space.
    expect(m.entries.filter((e) => e.role === "member")).toHaveLength(MAX_MEMORY_ENTRIES - taught.length);
  });

  it("Memory.add keeps no outsider's entry and says what it added, knew already and did not keep", () => {
    const m = new Memory();
    const told: NewEntry = { kind: "personalization", text: "I am a stranger", role: "outsider", from: "+15550188009" };
    expect(m.add([told])).toEqual([]);
    expect(m.entries).toEqual([]);
    m.add(
      Array.from({ length: MEMBER_SHARE }, (_, i) => ({
        kind: "training" as const,
        text: `rule ${i}`,
        role: "member" as const,
        from: member(1),
      })),
    );
    expect(
      m.addCounted(
        [
          { kind: "training", text: "rule 0", role: "member", from: member(1) },
          { kind: "training", text: "rule 50", role: "member", from: member(1) },
          told,
        ],
        m.entries,
      ),
    ).toMatchObject({ added: [expect.objectContaining({ text: "rule 50" })], duplicates: 1, unkept: 1 });
    // The member's oldest made space for their newest.
    expect(m.entries.map((e) => e.text)).not.toContain("rule 0");
    expect(m.entries).toHaveLength(MEMBER_SHARE);
  });
});

/** The rule of one conversation, as it was before conversations had shares: the reference a single conversation keeps to. */
function oneConversationRule(entries: readonly Taught[], max: number): Set<string> {
  const held = entries.map((e) => ({ id: e.id, holder: shareholderOf(e) }));
  const count = new Map<Shareholder, number>();
  for (const { holder } of held) count.set(holder, (count.get(holder) ?? 0) + 1);
  const drop = new Set<string>();
  for (const { id, holder } of held) {
    const n = count.get(holder) ?? 0;
    if (holder === "owner" || n <= shareOf(holder)) continue;
    drop.add(id);
    count.set(holder, n - 1);
  }
  let over = entries.length - drop.size - max;
  for (const ownersToo of [false, true])
    for (const { id, holder } of held) {
      if (over <= 0) return drop;
      if (drop.has(id) || (holder === "owner") !== ownersToo) continue;
      drop.add(id);
      over--;
    }
  return drop;
}

const A = "conv-a";
const B = "conv-b";
const inA = (count: number, from = member(1)) => members(count, from).map((e) => ({ ...e, conversationId: A }));

/** An entry of anyone, learned in one of `conversations` (or none), as generated memories hold them. */
const anyEntry = (conversations: readonly string[]) =>
  fc
    .record({
      // Members' most of all, as in a group.
      teacher: fc.constantFrom(
        "owner",
        "member",
        "member",
        "member",
        "member",
        "outsider",
        "inherited",
        "adopted",
        "imported",
        "unknown",
      ),
      member: fc.integer({ min: 1, max: 8 }),
      conversation: fc.option(fc.constantFrom(...conversations), { nil: undefined }),
    })
    .map(({ teacher, member: i, conversation }): MemoryEntry => {
      const at = conversation ? { conversationId: conversation } : {};
      switch (teacher) {
        case "owner":
          return entry({ role: "owner", from: OWNER, ...at });
        case "member":
          return entry({ role: "member", from: member(i), ...at });
        case "outsider":
          return entry({ role: "outsider", from: "+15550188009", ...at });
        case "inherited":
          return entry({ inheritedFrom: "inst_p" });
        case "adopted":
          return entry({ adoptedFrom: `pat_${i}` });
        case "imported":
          return entry({ imported: true, ...at });
        default:
          return entry({});
      }
    });

/** Members' entries kept, by conversation. */
function keptByConversation(entries: readonly MemoryEntry[], drop: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) {
    const c = conversationOf(e);
    if (c !== undefined && !drop.has(e.id)) out.set(c, (out.get(c) ?? 0) + 1);
  }
  return out;
}

describe("memory in an agent of several conversations", () => {
  it("once members' entries are in two or more, each conversation's members keep 1,000 / n, at least 100; in one, all of memory", () => {
    expect(MIN_CONVERSATION_SHARE).toBe(100);
    expect([1, 2, 3, 4, 10, 11, 40].map((n) => conversationShare(n))).toEqual([
      MAX_MEMORY_ENTRIES,
      500,
      333,
      250,
      100,
      100,
      100,
    ]);
    // A member's entry counts in the conversation it was learned in; anyone else's, an imported one (another
    // agent's conversation) or one older than conversations, in none.
    expect(conversationOf(entry({ role: "member", from: member(1), conversationId: A }))).toBe(A);
    expect(conversationOf(entry({ from: member(1), conversationId: A }))).toBe(A);
    expect(conversationOf(entry({ role: "member", from: member(1) }))).toBeUndefined();
    expect(
      conversationOf(entry({ role: "member", from: member(1), conversationId: A, imported: true, sealedBy: "c" })),
    ).toBeUndefined();
    for (const other of [
      entry({ role: "owner", from: OWNER, conversationId: A }),
      entry({ role: "outsider", from: "+15550188009", conversationId: A }),
      entry({ inheritedFrom: "inst_p", conversationId: A }),
    ])
      expect(conversationOf(other)).toBeUndefined();
  });

  it("a flood of fifty members in B leaves every entry A's members taught, and the owner's", () => {
    const m = new Memory();
    m.add(
      Array.from({ length: 100 }, (_, i) => ({
        kind: "training" as const,
        text: `rule ${i}`,
        role: "owner" as const,
        from: OWNER,
      })),
    );
    // A: eight members, each at their share.
    for (let who = 1; who <= 8; who++)
      m.add(
        Array.from({ length: MEMBER_SHARE }, (_, i) => ({
          kind: "personalization" as const,
          text: `A fact ${i} of ${who}`,
          role: "member" as const,
          from: member(who),
          conversationId: A,
        })),
      );
    const taughtInA = m.entries.filter((e) => e.conversationId === A).map((e) => e.id);
    expect(taughtInA).toHaveLength(400);
    // B: fifty members, ten messages of ten facts each.
    for (let msg = 0; msg < 10; msg++)
      for (let who = 0x100; who < 0x100 + 50; who++)
        m.add(
          Array.from({ length: 10 }, (_, f) => ({
            kind: "personalization" as const,
            text: `B fact ${f} of message ${msg} from ${who}`,
            role: "member" as const,
            from: member(who),
            conversationId: B,
          })),
        );
    expect(m.entries.map((e) => e.id)).toEqual(expect.arrayContaining(taughtInA));
    expect(m.entries.filter((e) => e.role === "owner")).toHaveLength(100);
    expect(m.entries.filter((e) => e.conversationId === B)).toHaveLength(conversationShare(2));
    expect(m.entries).toHaveLength(MAX_MEMORY_ENTRIES);
  });

  it("one conversation's members past their share lose their oldest, even with room to spare; in one conversation they do not", () => {
    const taughtInA = [1, 2].flatMap((who) => inA(MEMBER_SHARE, member(who)));
    const inB = Array.from({ length: 12 }, (_, who) =>
      members(MEMBER_SHARE, member(0x100 + who)).map((e) => ({ ...e, conversationId: B })),
    ).flat();
    expect([...overShare([...taughtInA, ...inB])]).toEqual(inB.slice(0, 100).map((e) => e.id));
    const inC = Array.from({ length: 12 }, (_, who) =>
      members(MEMBER_SHARE, member(0x200 + who)).map((e) => ({ ...e, conversationId: "conv-c" })),
    ).flat();
    expect([...overShare([...taughtInA, ...inB, ...inC])]).toEqual([
      ...inB.slice(0, 600 - conversationShare(3)).map((e) => e.id),
      ...inC.slice(0, 600 - conversationShare(3)).map((e) => e.id),
    ]);
    // All of them in A: 700 entries, room for all.
    expect(overShare([...taughtInA, ...inB.map((e) => ({ ...e, conversationId: A }))]).size).toBe(0);
  });

  it("when memory is full of the owner's, a flood in B takes B's own places before A's", () => {
    const mine = owners(400);
    const taughtInA = [1, 2, 3, 4].flatMap((who) => inA(MEMBER_SHARE, member(who)));
    const flood = Array.from({ length: 20 }, (_, who) =>
      members(MEMBER_SHARE, member(0x100 + who)).map((e) => ({ ...e, conversationId: B })),
    ).flat();
    const drop = overShare([...mine, ...taughtInA, ...flood]);
    // Under B's share (500), yet memory is full: B gives way, down to the 400 places the owner and A leave.
    expect(taughtInA.filter((e) => drop.has(e.id))).toEqual([]);
    expect(mine.filter((e) => drop.has(e.id))).toEqual([]);
    expect(flood.filter((e) => !drop.has(e.id))).toHaveLength(MAX_MEMORY_ENTRIES - 400 - 200);
    // Today's rule, the oldest first, would have taken A's.
    expect(
      taughtInA.filter((e) => oneConversationRule([...mine, ...taughtInA, ...flood], MAX_MEMORY_ENTRIES).has(e.id))
        .length,
    ).toBeGreaterThan(0);
  });

  test.prop([fc.array(anyEntry([A]), { maxLength: 80 }), fc.integer({ min: 1, max: 60 })])(
    "in one conversation, what goes is what went before conversations had shares",
    (entries, max) => {
      expect(overShare(entries, max)).toEqual(oneConversationRule(entries, max));
    },
  );

  test.prop([fc.array(anyEntry([A, B, "conv-c"]), { maxLength: 120 }), fc.nat({ max: 40 })])(
    "in several: memory within its size, the owner's last, and the conversation that gave way for room the one whose members held the most",
    (entries, cut) => {
      // No member past their share: what a conversation loses, it loses for room.
      fc.pre(
        members.length > 0 &&
          [1, 2, 3, 4, 5, 6, 7, 8].every((i) => entries.filter((e) => e.from === member(i)).length <= MEMBER_SHARE),
      );
      const max = Math.max(1, entries.length - cut);
      const drop = overShare(entries, max);
      const kept = entries.filter((e) => !drop.has(e.id));
      expect(kept.length).toBeLessThanOrEqual(max);
      // The owner's go only when nothing but theirs is left.
      if (entries.some((e) => e.role === "owner" && drop.has(e.id)))
        expect(kept.every((e) => e.role === "owner")).toBe(true);
      const before = keptByConversation(entries, new Set());
      const after = keptByConversation(entries, drop);
      // Each conversation's members under its share here (100 at least): a conversation that lost entries lost them
      // for room, and only while it held the most.
      for (const [c, n] of after)
        if (n < (before.get(c) ?? 0)) for (const other of after.values()) expect(other).toBeLessThanOrEqual(n + 1);
    },
  );
});
