// What the owner's own words confirm (memory/stated.ts, memory/provenance.ts
// confirmSaid), in memory: a member's fact the owner's message holds becomes
// the owner's only when the message states it, never when it asks, quotes,
// denies or reports it. Nothing is a stand-in: these are pure rules, read
// with the walls of an agent in two conversations (memory/walls.ts).
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { confirmSaid } from "./provenance.js";
import { statedIn } from "./stated.js";
import { Memory, type MemoryEntry } from "./store.js";
import { portable, readableIn, type Here } from "./walls.js";

const OWNER = "0".repeat(64);
const SAUL = "a".repeat(64);
/** The owner's conversation, where Saul is a member; the agent is in another one too. */
const HERE: Here = { ownerId: OWNER, home: "home", conversationId: "home" };
const ELSEWHERE = "trip";

/** The owner taught one version of something, and Saul, a member, disputes it with his own. */
function disputed(owners: string, saul: string): { m: Memory; owner: MemoryEntry; member: MemoryEntry } {
  const m = new Memory();
  const [owner] = m.add([
    { kind: "personalization", text: owners, from: OWNER, role: "owner", conversationId: "home" },
  ]);
  const [member] = m.add([
    { kind: "personalization", text: saul, from: SAUL, role: "member", conversationId: "home", disputes: [owner!.id] },
  ]);
  return { m, owner: owner!, member: member! };
}

/** Nothing confirmed: the owner's version stays, the member's stays theirs, read only where it was said. */
function nothingConfirmed(m: Memory, owner: MemoryEntry, member: MemoryEntry, text: string): void {
  expect(confirmSaid(m, HERE, text, OWNER), text).toEqual([]);
  expect(m.entries, text).toContain(owner);
  expect(member, text).toMatchObject({ role: "member", from: SAUL, disputes: [owner.id] });
  expect(member, text).not.toHaveProperty("confirmedBy");
  expect(portable(member, OWNER), text).toBe(false);
  expect(readableIn(member, ELSEWHERE, HERE), text).toBe(false);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The owner's message holding the fact without stating it, by how it holds it. */
const WRAPS: Readonly<Record<string, readonly ((f: string) => string)[]>> = {
  question: [
    (f) => `${f}?`,
    (f) => `is it true that ${f}?`,
    (f) => `Wait, ${f}?? Who said that`,
    (f) => `${cap(f)}. Is that right?`,
    (f) => `Really? ${cap(f)}.`,
  ],
  quote: [
    (f) => `"${f}"`,
    (f) => `“${f}” is what I read`,
    (f) => `> ${f}\nhmm`,
    (f) => `Ana says ${f}.`,
    (f) => `Saul wrote: ${f}`,
    (f) => `'${f}' he wrote`,
    (f) => `«${f}»`,
  ],
  negation: [
    (f) => `No, ${f}`,
    (f) => `No, ${f} is wrong`,
    (f) => `${cap(f)} is wrong.`,
    (f) => `It's not true that ${f}`,
    (f) => `${cap(f)} isn't right`,
    (f) => `${cap(f)}. That's false.`,
    (f) => `${f}, that's not right`,
    (f) => `I never said ${f}`,
    (f) => `Don't believe that ${f}`,
    (f) => `${cap(f)}: wrong.`,
    (f) => `Nope. ${cap(f)}. Incorrect`,
  ],
  report: [
    (f) => `Bob told me ${f}`,
    (f) => `Bob told us that ${f}.`,
    (f) => `I heard ${f}`,
    (f) => `According to Saul, ${f}.`,
    (f) => `Apparently ${f}.`,
    (f) => `Saul claims ${f}`,
    (f) => `Someone mentioned ${f}`,
    (f) => `Ana thinks ${f}`,
  ],
  condition: [(f) => `If ${f}, call me`, (f) => `Maybe ${f}`, (f) => `${cap(f)}, I guess`],
};

/** The owner's message stating the fact as their own. */
const STATES: readonly ((f: string) => string)[] = [
  (f) => f,
  (f) => `${cap(f)}.`,
  (f) => `Remember that ${f}!`,
  (f) => `yes, ${f}`,
  (f) => `FYI ${f}`,
  (f) => `Note: ${f}. Thanks`,
];

/** A fact a member might teach: a thing and what it is, in words that are none of the signs above. */
const fact = fc
  .record({
    thing: fc.constantFrom("the door code", "the wifi password", "my diet", "the hotel", "dinner", "Bea's flight"),
    value: fc.oneof(
      fc.integer({ min: 1000, max: 9999 }).map(String),
      fc.constantFrom("vegetarian", "near the station", "at 9", "AF123", "Casa Ana", "blue-green"),
    ),
  })
  .map(({ thing, value }) => `${thing} is ${value}`);
const wrap = fc.constantFrom(...Object.values(WRAPS).flat());

describe("the owner's words confirm a member's fact only when they state it", () => {
  it("'No, the door code is 1111 is wrong' leaves the owner's 4921, and Saul's 1111 his, read where he said it", () => {
    const { m, owner, member } = disputed("the door code is 4921", "the door code is 1111");
    for (const text of [
      "No, the door code is 1111 is wrong",
      "the door code is 1111?",
      '"the door code is 1111", says Saul',
      "Bob told me the door code is 1111",
      "The door code is 1111. That's not right.",
    ])
      nothingConfirmed(m, owner, member, text);
    // Said plainly, it is the owner's: the 4921 goes, and the 1111 is read everywhere.
    expect(confirmSaid(m, HERE, "The door code is 1111.", OWNER)).toEqual([member]);
    expect(m.entries).toEqual([member]);
    expect(member).toMatchObject({ role: "owner", confirmedBy: OWNER });
    expect(portable(member, OWNER)).toBe(true);
  });

  test.prop([fact, wrap])(
    "nothing is confirmed when the owner asks, quotes, denies or reports it: the owner's own version stays, nothing travels",
    (f, w) => {
      const { m, owner, member } = disputed("the door code is 0000 and dinner is at noon", f);
      nothingConfirmed(m, owner, member, w(f));
    },
  );

  test.prop([fact, fc.constantFrom(...STATES)])("the owner's plain statement of the same fact confirms it", (f, s) => {
    const { m, owner, member } = disputed("the door code is 0000 and dinner is at noon", f);
    expect(confirmSaid(m, HERE, s(f), OWNER), s(f)).toEqual([member]);
    expect(m.entries).not.toContain(owner);
    expect(member).toMatchObject({ role: "owner", confirmedBy: OWNER, from: SAUL });
    expect(portable(member, OWNER)).toBe(true);
    expect(readableIn(member, ELSEWHERE, HERE)).toBe(true);
  });
});

describe("what reads as the owner stating a fact", () => {
  it("the whole fact, in any case and spacing, in a message with no sign of asking, quoting, denying or reporting", () => {
    const cases: [string, string, boolean][] = [
      ["Remember: my diet is VEGETARIAN.", "my diet is vegetarian", true],
      ["my  diet is\nvegetarian!", "my diet is vegetarian", true],
      ["Menu at example.com/menu. My diet is vegetarian.", "my diet is vegetarian", true],
      // The fact's own "not", said as it is, is the fact.
      ["My diet is not vegan.", "my diet is not vegan", true],
      ["No, my diet is not vegan.", "my diet is not vegan", false],
      ["my diet is vegetarians", "my diet is vegetarian", false],
      ["my diet is vegetarian, not vegan", "my diet is vegetarian", false],
      ["don't forget my diet is vegetarian", "my diet is vegetarian", false],
      ["No! My diet is vegetarian", "my diet is vegetarian", false],
      ["the wifi page is example.com/wifi", "the wifi page is example com wifi", false],
      ["", "my diet is vegetarian", false],
      ["my diet is vegetarian", "", false],
      // What it cannot tell: tone. A sarcastic "sure" still states it.
      ["sure, the code is 1111", "the code is 1111", true],
    ];
    for (const [message, fact, stated] of cases) expect(statedIn(message)(fact), `${message} / ${fact}`).toBe(stated);
  });

  test.prop([fc.string({ maxLength: 300 }), fc.string({ maxLength: 80 })])("never throws", (message, fact) => {
    statedIn(message)(fact);
  });
});
