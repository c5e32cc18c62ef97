// Each teacher's share of memory (memory/shares.ts), in memory: the policy's
// constants, what goes when a teacher is past their share or memory is full,
// and a flood of members' facts through Memory.add. Nothing is a stand-in:
// these are pure rules and the real Memory.
import { describe, expect, it } from "vitest";
import { MAX_ADOPTED_PATTERNS } from "./patterns.js";
import { MAX_SUMMARY_ENTRIES } from "../model/prompt.js";
import {
  ADOPTED_SHARE,
  IMPORTED_SHARE,
  INHERITED_SHARE,
  MAX_MEMORY_ENTRIES,
  MEMBER_SHARE,
  OUTSIDER_SHARE,
  UNKNOWN_SHARE,
  overShare,
  shareOf,
  shareholderOf,
} from "./shares.js";
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
      m.addCounted([
        { kind: "training", text: "rule 0", role: "member", from: member(1) },
        { kind: "training", text: "rule 50", role: "member", from: member(1) },
        told,
      ]),
    ).toMatchObject({ added: [expect.objectContaining({ text: "rule 50" })], duplicates: 1, unkept: 1 });
    // The member's oldest made space for their newest.
    expect(m.entries.map((e) => e.text)).not.toContain("rule 0");
    expect(m.entries).toHaveLength(MEMBER_SHARE);
  });
});
