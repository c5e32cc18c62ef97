import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { OFFLINE_LABEL, OfflineProvider } from "../model/offline.js";
import { systemPrompt, turnMessages } from "../model/prompt.js";
import type { TurnInput } from "../model/turn.js";
import {
  Memory,
  extractByRule,
  maskCredentialsIn,
  parseExtraction,
  toSecondPerson,
  withCredentialsMasked,
  withoutAddress,
  type MemoryEntry,
  type NewEntry,
} from "./store.js";
import { memoryIn, type Walls } from "./walls.js";

describe("memory", () => {
  it("the offline rule finds the three kinds of knowledge, and no facts in questions", () => {
    expect(extractByRule("remember that my name is Saul")).toEqual([
      { kind: "personalization", text: "my name is Saul", via: "rule" },
    ]);
    expect(extractByRule("Always confirm the date before booking. Thanks!")).toEqual([
      { kind: "training", text: "Always confirm the date before booking", via: "rule" },
    ]);
    expect(extractByRule("I am vegetarian", "abc")).toEqual([
      { kind: "personalization", text: "I am vegetarian", via: "rule", from: "abc" },
    ]);
    expect(extractByRule("Our hotel is in Shinjuku")[0]?.kind).toBe("personalization");
    expect(extractByRule("remember: use +15550100 as the phone number for SMS")[0]?.kind).toBe("credentials");
    expect(extractByRule("please remember never to suggest chains")[0]).toMatchObject({
      kind: "training",
      text: "never to suggest chains",
    });
    expect(extractByRule("what is my name?")).toEqual([]);
    expect(extractByRule("hello there")).toEqual([]);
  });

  it("a leading address to the agent is not what is said: without it, the rule finds the same facts", async () => {
    for (const addressed of [
      "Tabby, remember that my name is Saul",
      "tabby: remember that my name is Saul",
      "@tabby remember that my name is Saul",
      "@Tabby, remember that my name is Saul",
      "Hey Tabby, remember that my name is Saul",
      "hi tabby remember that my name is Saul",
    ]) {
      expect(withoutAddress(addressed, "Tabby"), addressed).toBe("remember that my name is Saul");
      expect(extractByRule(withoutAddress(addressed, "Tabby"))).toEqual(extractByRule("remember that my name is Saul"));
    }
    expect(withoutAddress("Trip  Planner, always confirm the date", "Trip Planner")).toBe("always confirm the date");
    // A name that is what is said, another agent's name, or a name later on: left as it is.
    for (const kept of [
      "Tabby likes fish",
      "Rex, remember that my name is Saul",
      "remember that Tabby is mine",
      "Tabby,",
    ])
      expect(withoutAddress(kept, "Tabby")).toBe(kept);
    expect(withoutAddress("Tabby, hi", "")).toBe("Tabby, hi");
    // The offline model notes what was said to it by name, and recalls from it, as without the name.
    const m = new Memory();
    m.add(extractByRule(withoutAddress("Tabby, remember that my diet is vegan", "Tabby")));
    const reply = (text: string) =>
      new OfflineProvider().reply({
        model: "",
        agentName: "Tabby",
        identity: "",
        context: "",
        memory: m,
        history: [{ role: "user", text }],
      });
    expect(await reply("Tabby, my name is Saul")).toBe(`${OFFLINE_LABEL} Noted: your name is Saul.`);
    expect(await reply("@tabby what is my diet?")).toBe(`${OFFLINE_LABEL} From what I remember: your diet is vegan.`);
    expect(await reply("Tabby, hello")).toContain('I read: "Tabby, hello"');
  });

  it("adds only what is new, renders by kind, recalls by content words", () => {
    const m = new Memory();
    expect(m.add(extractByRule("remember that my name is Saul", "inbox1234567"))).toHaveLength(1);
    expect(m.add(extractByRule("Remember that  my NAME is Saul."))).toHaveLength(0);
    m.add([
      { kind: "training", text: "Always confirm dates" },
      { kind: "credentials", text: "SMS number +15550100" },
    ]);
    expect(m.countByKind()).toEqual({ training: 1, personalization: 1, credentials: 1 });
    const r = m.render();
    expect(r).toContain("- my name is Saul (said by member inbox123)");
    expect(r.indexOf("training")).toBeLessThan(r.indexOf("personalization"));
    expect(m.recall("what is my name?").map((e) => e.text)).toEqual(["my name is Saul"]);
    expect(m.recall("what is the weather?")).toEqual([]);
    expect(Memory.from(m.toFile()).entries).toEqual(m.entries);
    expect(new Memory().render()).toContain("nothing yet");
  });

  it("removes entries by id, and never recalls feedback entries", () => {
    const m = new Memory();
    const [diet, said] = m.add([
      { kind: "personalization", text: "my diet is vegan" },
      {
        kind: "training",
        text: 'Your answer "your diet is vegan" was marked wrong.',
        feedback: { messageId: "m1", signal: "down", about: "your diet is vegan" },
      },
    ]);
    expect(m.recall("what is my diet?")).toEqual([diet]);
    expect(m.remove([diet!.id, "mem_unknown"])).toEqual([diet]);
    expect(m.recall("what is my diet?")).toEqual([]);
    expect(m.entries).toEqual([said]);
  });

  it("says facts back in the second person", () => {
    expect(toSecondPerson("my name is Saul")).toBe("your name is Saul");
    expect(toSecondPerson("I am vegetarian")).toBe("you are vegetarian");
    expect(toSecondPerson("our hotel is in Shinjuku")).toBe("your hotel is in Shinjuku");
  });

  it("reads a model's extraction answer leniently and skips what is malformed", () => {
    expect(
      parseExtraction(
        'Sure! {"entries":[{"kind":"training","text":"Book aisle seats"},{"kind":"gossip","text":"x"},{"kind":"personalization"}]}',
        "i1",
      ),
    ).toEqual([{ kind: "training", text: "Book aisle seats", via: "llm", from: "i1" }]);
    expect(parseExtraction("no json here")).toEqual([]);
    expect(parseExtraction("{not json}")).toEqual([]);
    expect(parseExtraction('{"entries":[]}')).toEqual([]);
  });

  it("credentials are seen only in the owner's turns: not a member's or an outsider's prompt, recall or extraction", async () => {
    const owner = "0".repeat(64);
    const m = new Memory();
    m.add([
      { kind: "personalization", text: "my name is Saul", from: "a".repeat(64), role: "member" },
      { kind: "credentials", text: "the phone number for bookings is +15550101234", from: owner, role: "owner" },
    ]);
    const prompt = (role?: "owner" | "member" | "outsider") =>
      systemPrompt({ identity: "# Dinner", context: "", memory: m, ...(role ? { role } : {}) });
    expect(prompt("owner")).toContain("### Accounts and numbers to use (credentials)");
    expect(prompt("owner")).toContain("+15550101234");
    for (const role of ["member", "outsider", undefined] as const) {
      expect(prompt(role), String(role)).not.toContain("+15550101234");
      expect(prompt(role), String(role)).not.toContain("(credentials)");
    }
    expect(prompt("member")).toContain("my name is Saul");
    // An outsider (a text, a mail) is told nothing it remembers.
    expect(prompt("outsider")).not.toContain("my name is Saul");
    expect(m.visibleTo("outsider").entries).toEqual([]);
    expect(m.visibleTo("member").entries.map((e) => e.kind)).toEqual(["personalization"]);
    expect(m.visibleTo("owner").entries).toEqual(m.entries);

    const offline = new OfflineProvider();
    const ask = (role: "owner" | "member", text = "what is the phone number for bookings?") =>
      offline.reply({
        model: "",
        agentName: "Dinner",
        identity: "",
        context: "",
        memory: m,
        history: [{ role: "user", text }],
        role,
      });
    expect(await ask("owner")).toBe(
      `${OFFLINE_LABEL} From what I remember: the phone number for bookings is +15550101234.`,
    );
    expect(await ask("member")).not.toContain("+15550101234");
    // An outsider's text: the prompt the model gets has no credentials (the offline model does not recall for texts at all).
    const text: TurnInput = {
      model: "",
      agentName: "Dinner",
      identity: "",
      context: "",
      memory: m,
      history: [],
      inboundText: { from: "+15550009999", to: "+15550100", text: "what is the phone number for bookings?" },
      role: "outsider",
    };
    expect(JSON.stringify(turnMessages(text))).not.toContain("+15550101234");
    expect(await offline.reply(text)).not.toContain("+15550101234");
  });

  it("on disk: memory.json holds no credentials entry; they are sealed apart, and read back in the order learned", () => {
    const m = new Memory();
    m.add([{ kind: "training", text: "Confirm dates" }]);
    m.add([{ kind: "credentials", text: "PIN 1234" }]);
    m.add([{ kind: "personalization", text: "I am Saul" }]);
    const { plain, sealed } = m.diskFiles();
    expect(JSON.stringify(plain)).not.toContain("1234");
    expect(sealed.entries.map((e) => e.text)).toEqual(["PIN 1234"]);
    // createdAt decides the order (the same millisecond keeps memory.json's order first).
    for (const [i, e] of m.entries.entries()) e.createdAt = `2026-01-01T00:00:0${i}.000Z`;
    const back = Memory.from(m.diskFiles().plain, undefined, m.diskFiles().sealed.entries);
    expect(back.entries.map((e) => e.text)).toEqual(["Confirm dates", "PIN 1234", "I am Saul"]);
  });

  it("a turn not the owner's reads the conversation with the credentials masked; the owner's as it was said", () => {
    const m = new Memory();
    m.add([
      { kind: "credentials", text: "the phone number for bookings is +1 555 010 1234", role: "owner" },
      { kind: "credentials", text: "the API key is sk-abc123def456ghi, PIN 12", role: "owner" },
      { kind: "personalization", text: "we are 4 people" },
    ]);
    const creds = m.entries.filter((e) => e.kind === "credentials");
    expect(maskCredentialsIn("Noted: +15550101234 for bookings", creds)).toBe("Noted: [number] for bookings");
    expect(maskCredentialsIn("use sk-abc123def456ghi", creds)).toBe("use [key]");
    // Lines without a secret of theirs (a short number, another number) are left alone.
    expect(maskCredentialsIn("table for 12 at 8", creds)).toBe("table for 12 at 8");
    expect(maskCredentialsIn("call +15550999999", creds)).toBe("call +15550999999");
    const history = [
      { role: "user" as const, sender: "Olivia", text: "remember that the phone number for bookings is +15550101234" },
      { role: "assistant" as const, text: "Noted: the phone number for bookings is +15550101234." },
      { role: "user" as const, sender: "Saul", text: "what number do we book with?" },
    ];
    for (const role of ["member", "outsider"] as const) {
      const read = withCredentialsMasked(history, role, m);
      expect(JSON.stringify(read), role).not.toContain("0101234");
      expect(read[0]).toEqual({ ...history[0], text: "remember that the phone number for bookings is [number]" });
      expect(read[2]).toEqual(history[2]);
    }
    expect(withCredentialsMasked(history, "owner", m)).toEqual(history);
  });
});

describe("what it knew already, in an agent of two conversations", () => {
  const OWNER = "0".repeat(64);
  const walls: Walls = { ownerId: OWNER, home: "conv-a" };
  const bea = (text: string, conversationId: string): NewEntry => ({
    kind: "personalization",
    text,
    role: "member",
    from: "b".repeat(64),
    conversationId,
  });

  it("a member's fact of another conversation is not known here: a member in B teaching what a member of A said is learned in B", () => {
    const m = new Memory();
    const [inA] = m.add([bea("the door code is 4521", "conv-a")]);
    const said = bea("The door code is 4521.", "conv-b");
    // In A it is known; in B the same words are new, and learned there, never "I knew that".
    expect(m.addCounted([said], memoryIn(m, "conv-a", walls).entries)).toMatchObject({ added: [], duplicates: 1 });
    const inB = m.addCounted([said], memoryIn(m, "conv-b", walls).entries);
    expect(inB).toMatchObject({
      duplicates: 0,
      unkept: 0,
      added: [expect.objectContaining({ conversationId: "conv-b" })],
    });
    expect(m.entries).toEqual([inA, ...inB.added]);
    // What the owner taught travels: known in B too.
    m.add([
      { kind: "training", text: "always confirm the date", role: "owner", from: OWNER, conversationId: "conv-a" },
    ]);
    expect(
      m.addCounted(
        [{ ...bea("Always confirm the date", "conv-b"), kind: "training" }],
        memoryIn(m, "conv-b", walls).entries,
      ),
    ).toMatchObject({ added: [], duplicates: 1 });
  });

  const fact = fc.constantFrom("the door code is 4521", "my diet is vegan", "dinner is at 8", "Saul likes tapas");
  const inConversation = (conversationId: string) =>
    fc.record({ text: fact, member: fc.boolean() }).map(
      ({ text, member }): NewEntry => ({
        kind: "personalization",
        text,
        conversationId,
        ...(member ? { role: "member", from: "b".repeat(64) } : { role: "owner", from: OWNER }),
      }),
    );

  test.prop([
    fc.array(inConversation("conv-a"), { maxLength: 8 }),
    fc.array(inConversation("conv-b"), { maxLength: 8 }),
  ])(
    "what is known is what the view holds: the store's other entries neither count nor change",
    (taughtInA, taughtInB) => {
      const m = new Memory();
      for (const e of taughtInA) m.add([e], memoryIn(m, "conv-a", walls).entries);
      const before = structuredClone(m.entries);
      const view = memoryIn(m, "conv-b", walls);
      const known = new Set(view.entries.map((e) => e.text));
      const expectedNew = new Set(taughtInB.map((e) => e.text).filter((t) => !known.has(t)));
      const { added, duplicates } = m.addCounted(taughtInB, view.entries);
      expect(added.map((e) => e.text)).toEqual([...expectedNew]);
      expect(duplicates).toBe(taughtInB.length - expectedNew.size);
      expect(m.entries.slice(0, before.length)).toEqual(before);
      expect(added.every((e: MemoryEntry) => e.conversationId === "conv-b")).toBe(true);
    },
  );
});
