// Whose word an entry is (memory/provenance.ts), in memory: who may take a fact
// out by correcting it, the member's version kept beside the owner's, the
// owner's confirmation, "forget what you learned from me", and who taught a
// clone summary's entries. Nothing is a stand-in: these are pure rules.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { recordCorrection } from "./feedback.js";
import { OFFLINE_LABEL, OfflineProvider } from "../model/offline.js";
import { systemPrompt } from "../model/prompt.js";
import { Memory, type MemoryEntry, type NewEntry } from "./store.js";
import { memoryHere, readableIn, type Here } from "./walls.js";
import {
  confirm,
  confirmSaid,
  correctableBy,
  groundedIn,
  isConfirmation,
  isForgetMe,
  isShareEverywhere,
  markDisputes,
  teacherNames,
  markShared,
  planCorrection,
  saidByOwner,
  taughtBy,
  teacherOf,
  withProvenance,
  withoutShareEverywhere,
} from "./provenance.js";

const OWNER = "0".repeat(64);
const SAUL = "a".repeat(64);
const ANA = "b".repeat(64);
const answer = (text: string, messageId = "msg-1") => ({ messageId, text });
/** An agent in one conversation: all it remembers is read there. */
const HERE: Here = { ownerId: OWNER, home: "c1", conversationId: "c1" };

function ownersDiet(): { m: Memory; diet: MemoryEntry } {
  const m = new Memory();
  const [diet] = m.add([
    { kind: "personalization", text: "my diet is vegan", from: OWNER, role: "owner", conversationId: "c1" },
  ]);
  return { m, diet: diet! };
}

describe("who taught an entry", () => {
  it("is its role, else inherited, adopted, imported (nobody's), a member (a sender without a role) or unknown", () => {
    const e = (over: Partial<MemoryEntry>): MemoryEntry => ({
      id: "mem_000000000000",
      kind: "training",
      text: "x",
      via: "rule",
      createdAt: "",
      ...over,
    });
    expect(teacherOf(e({ role: "owner", from: OWNER }))).toBe("owner");
    expect(teacherOf(e({ role: "outsider" }))).toBe("outsider");
    expect(teacherOf(e({ inheritedFrom: "inst_p", role: "owner" }))).toBe("inherited");
    expect(teacherOf(e({ adoptedFrom: "pat_1" }))).toBe("adopted");
    expect(teacherOf(e({ from: SAUL }))).toBe("member");
    expect(teacherOf(e({}))).toBe("unknown");
    // Imported without its owner's seal: nobody's, whatever the file said; from the owner's own export, as taught.
    expect(teacherOf(e({ imported: true, role: "owner", from: OWNER }))).toBe("imported");
    expect(teacherOf(e({ imported: true, sealedBy: SAUL, role: "owner", from: OWNER }))).toBe("owner");
  });

  it("memory.json written before roles: the owner's entries are the owner's, others' a member's, once the owner is known", () => {
    const file = {
      version: 1 as const,
      entries: [
        {
          id: "mem_1",
          kind: "training" as const,
          text: "Book early",
          via: "rule" as const,
          from: OWNER,
          createdAt: "1",
        },
        { id: "mem_2", kind: "training" as const, text: "Book late", via: "rule" as const, from: SAUL, createdAt: "2" },
        {
          id: "mem_3",
          kind: "training" as const,
          text: "Book",
          via: "rule" as const,
          inheritedFrom: "p",
          createdAt: "3",
        },
      ],
    };
    expect(Memory.from(file, OWNER).entries.map((e) => e.role)).toEqual(["owner", "member", undefined]);
    expect(Memory.from(file).entries.map((e) => e.role)).toEqual([undefined, undefined, undefined]);
  });
});

describe("a member's correction never overrides the owner", () => {
  it("a member may take out only a fact they taught; the owner any fact", () => {
    const { diet } = ownersDiet();
    expect(correctableBy(diet, SAUL, "member")).toBe(false);
    expect(correctableBy(diet, OWNER, "owner")).toBe(true);
    const saulSaid: MemoryEntry = { ...diet, from: SAUL, role: "member" };
    expect(correctableBy(saulSaid, SAUL, "member")).toBe(true);
    expect(correctableBy(saulSaid, ANA, "member")).toBe(false);
    expect(correctableBy({ ...saulSaid, inheritedFrom: "inst_p" }, SAUL, "member")).toBe(false);
    const { role: _role, from: _from, ...unknown } = diet;
    expect(correctableBy(unknown, SAUL, "member")).toBe(false);
    expect(planCorrection([diet, saulSaid], SAUL, "member")).toEqual({ remove: [saulSaid], dispute: [diet] });
  });

  it("a member correcting the owner's fact leaves it, and keeps the member's version as what that member says", async () => {
    const { m, diet } = ownersDiet();
    const offline = new OfflineProvider();
    const wrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan.`;
    const facts = await offline.learn({
      model: "",
      memory: m,
      message: "no, I said vegetarian",
      from: SAUL,
      correcting: wrong,
    });
    const found = facts.map((f) => ({ ...f, role: "member" as const, messageId: "saul-1" }));
    m.add(found);
    expect(recordCorrection(m, HERE, answer(wrong), "no, I said vegetarian", SAUL, found, "member")).toEqual({
      added: 1,
      superseded: 0,
      disputed: 1,
    });
    const saulSays = m.entries.find((e) => e.text === "my diet is vegetarian")!;
    expect(m.entries).toContainEqual(diet);
    expect(saulSays).toMatchObject({ from: SAUL, role: "member", disputes: [diet.id] });
    const prompt = systemPrompt({ identity: "# Dinner", context: "", memory: m, role: "member" });
    expect(prompt).toContain("- my diet is vegan (taught by your owner)");
    expect(prompt).toContain(`- member ${SAUL.slice(0, 8)} says: my diet is vegetarian (their version`);
    expect(prompt).toContain("never overrides what your owner taught you");
    expect(prompt).not.toMatch(/wins/);
    // The offline model says the owner's fact first, the member's as theirs.
    const again = await offline.reply({
      model: "",
      agentName: "Dinner",
      identity: "",
      context: "",
      memory: m,
      history: [{ role: "user", text: "what is my diet?" }],
    });
    expect(again).toBe(
      `${OFFLINE_LABEL} From what I remember: your diet is vegan; member ${SAUL.slice(0, 8)} says your diet is vegetarian.`,
    );
  });

  it("a member's correction of their own fact replaces it, as before", () => {
    const m = new Memory();
    m.add([{ kind: "personalization", text: "my diet is vegan", from: SAUL, role: "member" }]);
    const facts = [
      { kind: "personalization" as const, text: "my diet is vegetarian", from: SAUL, role: "member" as const },
    ];
    m.add(facts);
    const wrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan.`;
    expect(recordCorrection(m, HERE, answer(wrong), "no, vegetarian", SAUL, facts, "member")).toEqual({
      added: 1,
      superseded: 1,
    });
    expect(m.entries.map((e) => e.text)).not.toContain("my diet is vegan");
  });

  it("the owner confirms a member's version: it becomes the owner's and the fact it disputed goes", () => {
    const { m, diet } = ownersDiet();
    const [saulSays] = m.add([
      { kind: "personalization", text: "my diet is vegetarian", from: SAUL, role: "member", disputes: [diet.id] },
    ]);
    expect(confirm(m, HERE, [saulSays!.id], OWNER)).toEqual([saulSays]);
    expect(m.entries).toEqual([
      expect.objectContaining({ text: "my diet is vegetarian", role: "owner", from: SAUL, confirmedBy: OWNER }),
    ]);
    expect(m.entries[0]).not.toHaveProperty("disputes");
    expect(systemPrompt({ identity: "", context: "", memory: m, role: "owner" })).toContain(
      `- my diet is vegetarian (said by member ${SAUL.slice(0, 8)}, confirmed by your owner)`,
    );
  });

  it("the owner stating a member's fact again confirms it; a correction that starts with a no does not", () => {
    const { m, diet } = ownersDiet();
    m.add([
      { kind: "personalization", text: "my diet is vegetarian", from: SAUL, role: "member", disputes: [diet.id] },
    ]);
    expect(confirmSaid(m, HERE, "Remember: my diet is VEGETARIAN.", OWNER)).toHaveLength(1);
    expect(m.entries.map((e) => [e.text, e.role])).toEqual([["my diet is vegetarian", "owner"]]);
    // "no, my diet is vegetarian" holds the member's words after a no: a denial of them reads the same
    // ("no, my diet is vegetarian is wrong"), so it confirms nothing by its words (stated.ts).
    const second = ownersDiet();
    second.m.add([
      {
        kind: "personalization",
        text: "my diet is vegetarian",
        from: SAUL,
        role: "member",
        disputes: [second.diet.id],
      },
    ]);
    const wrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan; member aaaaaaaa says your diet is vegetarian.`;
    const facts = [
      { kind: "personalization" as const, text: "my diet is vegetarian", from: OWNER, role: "owner" as const },
    ];
    expect(
      recordCorrection(second.m, HERE, answer(wrong), "no, my diet is vegetarian", OWNER, facts, "owner"),
    ).not.toHaveProperty("confirmed");
    // The owner's correction took out the owner's fact; the member's version is still the member's until the owner
    // states it, replies to it or gives it a 👍.
    expect(second.m.entries.filter((e) => !e.feedback).map((e) => [e.text, e.role])).toEqual([
      ["my diet is vegetarian", "member"],
    ]);
    expect(confirmSaid(second.m, HERE, "My diet is vegetarian.", OWNER)).toHaveLength(1);
  });

  it("only the owner's own words confirm: not a model's restatement, not a part of a word, not a member's", () => {
    const { m, diet } = ownersDiet();
    m.add([
      { kind: "personalization", text: "my diet is vegetarian", from: SAUL, role: "member", disputes: [diet.id] },
    ]);
    // "not vegan, vegetarian": the model may restate it as the member's fact, but the owner did not say that.
    const wrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan; member aaaaaaaa says your diet is vegetarian.`;
    const facts = [
      { kind: "personalization" as const, text: "my diet is vegetarian", from: OWNER, role: "owner" as const },
    ];
    expect(recordCorrection(m, HERE, answer(wrong), "not vegan, vegetarian", OWNER, facts, "owner")).not.toHaveProperty(
      "confirmed",
    );
    // The owner's correction took out the owner's fact; the member's version is still the member's.
    expect(m.entries.filter((e) => !e.feedback).map((e) => [e.text, e.role])).toEqual([
      ["my diet is vegetarian", "member"],
    ]);
    expect(saidByOwner(m, "dinner at 8")).toEqual([]);
    expect(saidByOwner(m, "my diet is vegetarians")).toEqual([]);
    expect(saidByOwner(m, "remember my diet is vegetarian")).toHaveLength(1);
    // Feedback, inherited and adopted entries are not confirmed by saying them.
    const other = new Memory();
    other.add([
      { kind: "training", text: "book early", inheritedFrom: "inst_p" },
      { kind: "training", text: "book late", adoptedFrom: "pat_1" },
      {
        kind: "training",
        text: "book on time",
        from: SAUL,
        role: "member",
        feedback: { messageId: "m1", signal: "up", about: "x" },
      },
    ]);
    expect(saidByOwner(other, "book early, book late, book on time")).toEqual([]);
  });

  it("an imported entry that is nobody's becomes the owner's when the owner says it, and stays theirs when loaded again", () => {
    const m = new Memory();
    m.add([{ kind: "personalization", text: "the hotel is near the station", imported: true }]);
    expect(confirmSaid(m, HERE, "yes, the hotel is near the station", OWNER)).toHaveLength(1);
    expect(m.entries[0]).toMatchObject({ role: "owner", confirmedBy: OWNER, from: OWNER });
    expect(m.entries[0]).not.toHaveProperty("imported");
    expect(teacherOf(m.entries[0]!)).toBe("owner");
    expect(Memory.from(m.toFile(), OWNER).entries[0]).toMatchObject({ role: "owner" });
  });

  it("what reads as the owner saying it is right", () => {
    for (const t of [
      "that's right",
      "Yes, that's correct!",
      "Saul is right",
      "correct",
      "yes",
      "Yep, exactly",
      "that is right, thanks",
    ])
      expect(isConfirmation(t), t).toBe(true);
    for (const t of ["that's not right", "is that right?", "yes please book it", "no", "right after lunch", "okay"])
      expect(isConfirmation(t), t).toBe(false);
  });
});

describe("forget what you learned from me", () => {
  it("reads the plain ways of asking, with or without the agent's name", () => {
    for (const t of [
      "forget what you learned from me",
      "Dinner Planner, forget what you learned from me.",
      "hey @dinner planner: please forget everything you know about me",
      "forget everything I told you, Dinner Planner",
      "Forget me!",
      "forget about me",
      "dinner planner forget what you learned from me and about me",
      "please forget what I told you",
    ])
      expect(isForgetMe(t, "Dinner Planner"), t).toBe(true);
  });

  it("is not a question, a negation, another agent's name, or about something else", () => {
    for (const t of [
      "don't forget me",
      "did you forget what I told you?",
      "Bob, forget what you learned from me",
      "forget what you learned from me, Bob",
      "forget the reservation",
      "forget it",
      "forget what you learned from Saul",
      "I will never forget what you learned from me",
      "",
    ])
      expect(isForgetMe(t, "Dinner Planner"), t).toBe(false);
  });

  test.prop([fc.string({ maxLength: 300 }), fc.string({ maxLength: 40 })])("never throws", (text, name) => {
    isForgetMe(text, name);
    isConfirmation(text);
  });

  it("finds exactly what they taught, their feedback included; nothing of others, whatever it names", () => {
    const m = new Memory();
    m.add([
      { kind: "personalization", text: "I am vegetarian", from: SAUL, role: "member" },
      { kind: "training", text: "Always book for Saul at 8", from: OWNER, role: "owner" },
      {
        kind: "training",
        text: "Your answer was marked good.",
        from: SAUL,
        feedback: { messageId: "m", signal: "up", about: "x" },
      },
      { kind: "personalization", text: "Ana likes tapas", from: ANA, role: "member" },
      { kind: "personalization", text: "Saul is allergic to nuts", from: ANA, role: "member" },
      { kind: "personalization", text: `${SAUL} paid for dinner`, from: ANA, role: "member" },
      { kind: "personalization", text: "the hotel is near the station", from: ANA, role: "member" },
      { kind: "personalization", text: "the museum opens at 9", inheritedFrom: "inst_parent" },
      { kind: "personalization", text: "the ferry leaves at noon", adoptedFrom: "pat_1" },
    ]);
    // What others said about Saul, by name or inbox id, is theirs: it stays.
    expect(taughtBy(m, SAUL).map((e) => e.text)).toEqual(["I am vegetarian", "Your answer was marked good."]);
    // A member who goes by "the" and taught nothing takes nothing: not Ana's, not an inherited or adopted entry.
    expect(taughtBy(m, "d".repeat(64))).toEqual([]);
    // A version of Saul's that the owner confirmed is the owner's: it stays; the owner's own forget takes what they taught.
    m.add([{ kind: "personalization", text: "I am pescatarian", from: SAUL, role: "owner", confirmedBy: OWNER }]);
    expect(taughtBy(m, SAUL).map((e) => e.text)).not.toContain("I am pescatarian");
    expect(taughtBy(m, OWNER).map((e) => e.text)).toEqual(["Always book for Saul at 8"]);
  });
});

describe("'use this in all my conversations'", () => {
  it("reads the plain ways of saying it, alone or as a sentence of a longer message", () => {
    for (const t of [
      "use this in all my conversations",
      "Use this in all my conversations!",
      "remember this everywhere",
      "please share this with all my groups.",
      "Can you use that in all of my chats?",
      "Keep this across all my conversations, please",
      "My flight is AF123. Remember this everywhere.",
      "Use it everywhere from now on",
    ])
      expect(isShareEverywhere(t), t).toBe(true);
  });

  it("is not about something else, negated, or a fact that mentions conversations", () => {
    for (const t of [
      "don't use this in all my conversations",
      "use this in the group",
      "remember this",
      "I use this everywhere",
      "we talk about this in all my conversations",
      "should I use this everywhere?",
      "share this with Bea",
      "",
    ])
      expect(isShareEverywhere(t), t).toBe(false);
  });

  it("leaves the rest of the message to learn from, without the phrase", () => {
    expect(withoutShareEverywhere("My flight is AF123. Remember this everywhere.")).toBe("My flight is AF123.");
    expect(withoutShareEverywhere("use this in all my conversations")).toBe("");
    expect(withoutShareEverywhere("we land at 9")).toBe("we land at 9");
  });

  test.prop([fc.string({ maxLength: 300 })])("never throws", (text) => {
    isShareEverywhere(text);
    withoutShareEverywhere(text);
  });

  it("marks entries for the owner, never feedback, counting only those that changed; unsharing takes the mark off", () => {
    const m = new Memory();
    const [fact, feedback] = m.add([
      { kind: "personalization", text: "we land at 9", from: SAUL, role: "member", conversationId: "c1" },
      {
        kind: "training",
        text: "Your answer was marked good.",
        from: OWNER,
        role: "owner",
        feedback: { messageId: "m", signal: "up", about: "x" },
      },
    ]);
    expect(markShared([fact!, feedback!], true, OWNER, "2026-11-29T00:00:00.000Z")).toEqual([fact]);
    expect(fact).toMatchObject({ sharedBy: OWNER, sharedAt: "2026-11-29T00:00:00.000Z" });
    expect(feedback).not.toHaveProperty("sharedBy");
    expect(markShared([fact!], true, OWNER)).toEqual([]);
    // A former owner's mark is taken over by the owner who shares it again.
    fact!.sharedBy = ANA;
    expect(markShared([fact!], true, OWNER)).toEqual([fact]);
    expect(markShared([fact!, feedback!], false, OWNER)).toEqual([fact]);
    expect(fact).not.toHaveProperty("sharedBy");
    expect(fact).not.toHaveProperty("sharedAt");
  });
});

describe("clone summaries", () => {
  it("an entry of the summary that matches one of memory carries who taught it; a reworded one carries nothing", () => {
    const m = new Memory();
    m.add([
      { kind: "training", text: "Confirm dates", from: OWNER, role: "owner", conversationId: "c1", messageId: "x" },
    ]);
    expect(
      withProvenance(
        [
          { kind: "training", text: "confirm  dates." },
          { kind: "training", text: "Dates!" },
        ],
        m,
      ),
    ).toEqual([
      { kind: "training", text: "confirm  dates.", from: OWNER, role: "owner", conversationId: "c1" },
      { kind: "training", text: "Dates!" },
    ]);
  });
});

describe("what a learned fact may say", () => {
  it("only what its message said: its numbers, and at least half of its words", () => {
    const cases: [string, string, boolean][] = [
      ["Saul is vegetarian", "I am vegetarian", true],
      ["Always book aisle seats for Saul", "Hi Concierge! Please always book aisle seats for me", true],
      ["Saul's daughter Mia loves dinosaurs", "my daughter Mia loves dinosaurs", true],
      ["The gate code is now 4521", "lunch at 1", false],
      ["Dinner is at 9", "dinner is at 8", false],
      ["Saul's sister lives in Porto", "I am vegetarian", false],
      ["Saul likes red", "dinner at 8", false],
    ];
    for (const [fact, message, grounded] of cases)
      expect(groundedIn(fact, message), `${fact} / ${message}`).toBe(grounded);
  });
});

describe("in an agent of two conversations, what happens in B reads B's memory", () => {
  const A = "conv-a";
  const B = "conv-b";
  const inB: Here = { ownerId: OWNER, home: A, conversationId: B };

  /** The owner's dinner at 8 (everywhere); in A, Saul's vegan diet and his dinner at 9, each his own. */
  function twoConversations() {
    const m = new Memory();
    const [dinner] = m.add([
      { kind: "personalization", text: "dinner is at 8", from: OWNER, role: "owner", conversationId: A },
    ]);
    const inA = m.add([
      {
        kind: "personalization",
        text: "my diet is vegan",
        from: SAUL,
        role: "member",
        conversationId: A,
        messageId: "a-1",
      },
      {
        kind: "personalization",
        text: "dinner is at 9",
        from: SAUL,
        role: "member",
        conversationId: A,
        messageId: "a-2",
      },
    ]);
    return { m, dinner: dinner!, inA, before: structuredClone(inA) };
  }
  const saulInB = (text: string): NewEntry => ({
    kind: "personalization",
    text,
    from: SAUL,
    role: "member",
    conversationId: B,
    messageId: "b-1",
  });

  it("a member's fact of another conversation is neither known, confirmed, disputed nor corrected here", () => {
    const { m, dinner, inA, before } = twoConversations();
    // Saul corrects in B an answer that says his diet of A: his own fact, but not read here, so not taken out.
    const diet = [saulInB("my diet is vegetarian")];
    m.add(diet, memoryHere(m, inB).entries);
    const dietWrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan.`;
    expect(recordCorrection(m, inB, answer(dietWrong), "no, vegetarian", SAUL, diet, "member", "b-1")).toEqual({
      added: 1,
      superseded: 0,
    });
    // He corrects the owner's dinner to what he said in A: new here (not known), his version of B disputes it.
    const nine = [saulInB("dinner is at 9")];
    expect(m.addCounted(nine, memoryHere(m, inB).entries)).toMatchObject({ duplicates: 0 });
    const dinnerWrong = `${OFFLINE_LABEL} From what I remember: dinner is at 8.`;
    expect(recordCorrection(m, inB, answer(dinnerWrong, "msg-2"), "no, 9", SAUL, nine, "member", "b-2")).toEqual({
      added: 1,
      superseded: 0,
      disputed: 1,
    });
    const versionInB = m.entries.find((e) => e.text === "dinner is at 9" && e.conversationId === B)!;
    expect(versionInB.disputes).toEqual([dinner.id]);
    // The owner's words in B confirm B's version alone; nothing of A, by words or by id.
    expect(
      confirm(
        m,
        inB,
        inA.map((e) => e.id),
        OWNER,
      ),
    ).toEqual([]);
    expect(confirmSaid(m, inB, "yes, dinner is at 9", OWNER)).toEqual([versionInB]);
    expect(versionInB).toMatchObject({ role: "owner", confirmedBy: OWNER });
    expect(m.entries).not.toContainEqual(dinner);
    // A's entries as they were, still A's alone.
    expect(m.entries.filter((e) => e.conversationId === A)).toEqual(before);
    for (const e of inA) expect(readableIn(e, B, { ownerId: OWNER, home: A })).toBe(false);
    // "Forget what you learned from me" is the one read of every conversation: his own words, wherever said.
    expect(taughtBy(m, SAUL).map((e) => e.id)).toEqual(expect.arrayContaining(inA.map((e) => e.id)));
  });

  it("a member's version in B disputes nothing by the same words of theirs in A", () => {
    const { m, dinner, before } = twoConversations();
    const [version] = m.add([saulInB("dinner is at 9")], memoryHere(m, inB).entries);
    expect(markDisputes(memoryHere(m, inB), [saulInB("dinner is at 9")], SAUL, [dinner])).toBe(1);
    expect(version!.disputes).toEqual([dinner.id]);
    expect(m.entries.filter((e) => e.from === SAUL && e.conversationId === A)).toEqual(before);
  });

  const fact = fc.constantFrom("my diet is vegan", "my diet is vegetarian", "dinner is at 8", "dinner is at 9");
  const teller = fc.constantFrom(
    { from: OWNER, role: "owner" as const },
    { from: SAUL, role: "member" as const },
    { from: ANA, role: "member" as const },
  );
  const taught = (conversationId: string) =>
    fc
      .record({ text: fact, who: teller, disputes: fc.boolean() })
      .map(({ text, who, disputes }) => ({ text, ...who, conversationId, disputes }));
  const act = fc.oneof(
    fc.record({
      kind: fc.constant("correct" as const),
      who: teller,
      said: fc.array(fact, { minLength: 1, maxLength: 3 }),
      facts: fc.array(fact, { maxLength: 2 }),
    }),
    fc.record({ kind: fc.constant("say" as const), text: fact }),
    fc.record({ kind: fc.constant("confirm" as const), pick: fc.nat() }),
  );

  test.prop([
    fc.array(taught(A), { maxLength: 6 }),
    fc.array(taught(B), { maxLength: 4 }),
    fc.array(act, { maxLength: 5 }),
  ])("whatever is learned, corrected or confirmed in B, A's members' entries stay as they were", (inA, inB0, acts) => {
    const m = new Memory();
    for (const t of [...inA, ...inB0]) {
      const [e] = m.add(
        [{ kind: "personalization", text: t.text, from: t.from, role: t.role, conversationId: t.conversationId }],
        memoryHere(m, { ...inB, conversationId: t.conversationId }).entries,
      );
      // Some members' versions dispute what the owner taught before them.
      const owners = m.entries.filter((o) => o.role === "owner" && o !== e);
      if (e && t.disputes && e.role === "member" && owners.length > 0) e.disputes = [owners[0]!.id];
    }
    const membersOfA = m.entries.filter((e) => e.role === "member" && e.conversationId === A);
    const before = structuredClone(membersOfA);
    for (const [i, a] of acts.entries()) {
      if (a.kind === "correct") {
        const facts = a.facts.map((text) => ({
          kind: "personalization" as const,
          text,
          ...a.who,
          conversationId: B,
        }));
        m.add(facts, memoryHere(m, inB).entries);
        const wrong = `${OFFLINE_LABEL} From what I remember: ${a.said.join("; ")}.`;
        recordCorrection(
          m,
          inB,
          answer(wrong, `b-${i}`),
          `no, ${a.facts.join(", ")}`,
          a.who.from,
          facts,
          a.who.role,
          `b-m${i}`,
        );
      } else if (a.kind === "say") confirmSaid(m, inB, a.text, OWNER);
      else confirm(m, inB, [m.entries[a.pick % Math.max(1, m.entries.length)]?.id ?? ""], OWNER);
    }
    expect(m.entries.filter((e) => e.role === "member" && e.conversationId === A)).toEqual(before);
  });
});

describe("the names of who taught, for the owner's listing", () => {
  const ana = "a".repeat(64);
  const bob = "b".repeat(64);
  const tokyo = "1".repeat(32);
  const lisbon = "2".repeat(32);
  const entry = (over: Partial<MemoryEntry>): MemoryEntry =>
    ({
      id: over.id ?? "m1",
      kind: "personalization",
      text: "x",
      learnedAt: "2026-11-29T00:00:00Z",
      ...over,
    }) as MemoryEntry;

  it("names each teacher and confirmer as the conversation they taught in names them, and no one else there", () => {
    const names = {
      [tokyo]: { [ana]: "Ana", [bob]: "Bob", ["c".repeat(64)]: "Cleo" },
      [lisbon]: { [ana]: "Ana L" },
    };
    const entries = [
      entry({ id: "m1", from: ana, conversationId: tokyo }),
      entry({ id: "m2", from: ana, conversationId: lisbon, confirmedBy: bob }),
      entry({ id: "m3", from: bob }),
    ];
    expect(teacherNames(entries, names)).toEqual({ [tokyo]: { [ana]: "Ana" }, [lisbon]: { [ana]: "Ana L" } });
  });

  it("names nobody it has no name for, nor the teacher of an inherited entry, learned in its parent's conversation", () => {
    const names = { [tokyo]: { [ana]: "Ana" } };
    expect(teacherNames([entry({ from: bob, conversationId: tokyo })], names)).toEqual({});
    expect(teacherNames([entry({ from: ana, conversationId: tokyo, inheritedFrom: "i-parent" })], names)).toEqual({});
  });
});
