// The pure part of look-alike templates (look-alike.ts): names folded and
// compared by edit distance, instructions by the Jaccard similarity of
// their word shingles, what operators let through, and what the creator is
// told; with fast-check properties (never one's own, one homoglyph always
// caught, unrelated names rarely). No database, no network.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMPARED_INSTRUCTION_CHARS,
  INSTRUCTIONS_SIMILARITY,
  MAX_NAME_EDITS,
  MIN_POPULAR_OWNERS,
  MIN_SHINGLES,
  NAME_CHARS_PER_EDIT,
  POPULAR_COMPARED,
  SHINGLE_WORDS,
  editDistance,
  findLookAlike,
  holdReason,
  instructionsResemble,
  jaccard,
  nameKey,
  namesResemble,
  shingles,
  type ComparedTemplate,
} from "./look-alike.js";

const A = "a".repeat(64);
const B = "b".repeat(64);

/** Instructions of a popular template: long enough to compare (about 200 words). */
const TRIP_PLANNER_INSTRUCTIONS = [
  "You are a travel planning assistant for groups of friends and families.",
  "Ask where they want to go, when, for how long and on what budget, then propose a day by day plan.",
  "Suggest trains before flights when the trip is short, and always give the time each leg takes.",
  "Keep a shared list of bookings in the conversation and remind everyone of check-in times the day before.",
  "When someone asks for a deposit, collect it to the group wallet 0x1111222233334444555566667777888899990000 and post the receipt.",
  "Never book anything without a clear yes from the person who asked, and say what it costs first.",
  "If the weather turns, offer indoor plans near where they stay, with opening hours and prices.",
  "Answer in the language the group writes in, briefly, with one question at a time.",
  "At the end of each day, sum up what was decided and what is still open, in a short list.",
  "Recommend local food the group has not tried yet, and mention allergies when someone shared them.",
].join(" ");

function popular(over: Partial<ComparedTemplate> & { instructions?: string } = {}): ComparedTemplate {
  const { instructions = TRIP_PLANNER_INSTRUCTIONS, ...rest } = over;
  return { id: "tmpl_TRIPPLANNER00000", creatorId: A, name: "Trip Planner", shingles: shingles(instructions), ...rest };
}

const unrelated = "Help me learn Spanish verbs with short daily drills and a quiz every Friday about the week.";

describe("the constants", () => {
  it("names them: the 100 most used of 10 owners or more, an edit per 8 characters up to 2, 5-word shingles, 0.8", () => {
    expect([POPULAR_COMPARED, MIN_POPULAR_OWNERS, NAME_CHARS_PER_EDIT, MAX_NAME_EDITS]).toEqual([100, 10, 8, 2]);
    expect([SHINGLE_WORDS, INSTRUCTIONS_SIMILARITY, MIN_SHINGLES, COMPARED_INSTRUCTION_CHARS]).toEqual([
      5, 0.8, 8, 32_768,
    ]);
  });
});

describe("names", () => {
  it("fold look-alike letters of other scripts, digits for letters, case, spaces, punctuation and invisible characters", () => {
    for (const name of [
      "Trip Planner",
      "Trip \u03A1lanner", // Greek capital Rho
      "\u0422rip \u0420l\u0430nner", // Cyrillic Т, Р, а
      "Trip Pianner",
      "Trip PIanner",
      "Tr1p P1anner",
      "TRIP-PLANNER!",
      "trip_planner",
      "Trip\u200B Planner", // a zero-width space
      "\u{1D413}\u{1D42B}\u{1D422}\u{1D429} \uFF50\uFF4C\uFF41\uFF4E\uFF4E\uFF45\uFF52", // math bold, full width
      "Trìp Plánner",
    ]) {
      expect(nameKey(name), name).toBe(nameKey("Trip Planner"));
    }
    expect(nameKey("Tr@v3l Buddy")).toBe(nameKey("Travel Buddy"));
    expect(nameKey("$pani5h Tutor")).toBe(nameKey("Spanish Tutor"));
    expect(nameKey("Meal Planner")).not.toBe(nameKey("Trip Planner"));
    expect(nameKey("Burn Notice")).toBe(nameKey("Bum Notice")); // "rn" reads as "m"
    expect(nameKey("🧳✈️")).toBe("");
  });

  it("allow one edit per 8 characters of the longer key, at most 2: short names must fold to the same key", () => {
    expect(namesResemble("Trip Plannr", "Trip Planner")).toBe(true); // 11 characters: 1 edit
    expect(namesResemble("Tirp Planner", "Trip Planner")).toBe(true); // two letters swapped: 1 edit
    expect(namesResemble("Trip Plan", "Trip Planner")).toBe(false); // 3 edits
    expect(namesResemble("Chief", "Chef")).toBe(false); // 5 characters: none
    expect(namesResemble("Agent 1", "Agent 2")).toBe(false);
    expect(namesResemble("Personal Finance Coach", "Personal Finanse Coch")).toBe(true); // 20 characters: 2 edits
    expect(namesResemble("Personal Finance Coach", "Personal Fitness Coach")).toBe(false);
    expect(namesResemble("Meal Planner", "Trip Planner")).toBe(false);
    // Not caught by the name: words added around it (docs/store.md, "Still open").
    expect(namesResemble("Trip Planner Pro", "Trip Planner")).toBe(false);
    expect(namesResemble("🧳", "🧳")).toBe(false);
  });

  it("measure edits as optimal string alignment, stopping past the bound", () => {
    expect(editDistance("planner", "planner", 2)).toBe(0);
    expect(editDistance("planner", "plnaner", 2)).toBe(1);
    expect(editDistance("planner", "plann", 2)).toBe(2);
    expect(editDistance("planner", "p", 2)).toBe(3);
    expect(editDistance("abc", "xyz", 1)).toBe(2);
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b, 30);
        expect(editDistance(b, a, 30)).toBe(d);
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max([...a].length, [...b].length));
      }),
    );
  });
});

describe("instructions", () => {
  it("are a copy with a payment address changed: one word of about 200", () => {
    const copy = TRIP_PLANNER_INSTRUCTIONS.replace("0x1111222233334444555566667777888899990000", "0xdeadbeef");
    const a = shingles(TRIP_PLANNER_INSTRUCTIONS);
    const b = shingles(copy);
    expect(jaccard(a, b)).toBeGreaterThan(0.9);
    expect(instructionsResemble(a, b)).toBe(true);
    // Look-alike letters and another case do not hide a copy.
    expect(jaccard(a, shingles(copy.replace(/a/g, "\u0430").toUpperCase()))).toBe(jaccard(a, b));
  });

  it("are not a copy when rewritten, shared in part, or too short to tell", () => {
    const a = shingles(TRIP_PLANNER_INSTRUCTIONS);
    expect(instructionsResemble(a, shingles(unrelated))).toBe(false);
    // Half of it, with the rest its own: the same first half is not a copy.
    const half = TRIP_PLANNER_INSTRUCTIONS.slice(0, TRIP_PLANNER_INSTRUCTIONS.length / 2);
    expect(instructionsResemble(a, shingles(`${half} ${unrelated} ${unrelated.toUpperCase()}`))).toBe(false);
    // "You are a travel planning assistant." twice over is too short to call a copy.
    const short = shingles("You are a travel planning assistant.");
    expect(short.length).toBeLessThan(MIN_SHINGLES);
    expect(instructionsResemble(short, short)).toBe(false);
  });

  it("make sorted sets: Jaccard is 1 for the same, symmetric, and between 0 and 1", () => {
    const words = fc.array(fc.constantFrom("plan", "trip", "book", "train", "hotel", "pay", "ask", "day"), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(words, words, (x, y) => {
        const a = shingles(x.join(" "));
        const b = shingles(y.join(" "));
        expect([...a]).toEqual([...new Set(a)].sort((p, q) => p - q));
        const j = jaccard(a, b);
        expect(jaccard(b, a)).toBe(j);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).toBeLessThanOrEqual(1);
        if (a.length > 0) expect(jaccard(a, a)).toBe(1);
      }),
    );
  });
});

/** Latin letters and a look-alike of each from Cyrillic or Greek. */
const HOMOGLYPHS: Record<string, string> = {
  a: "\u0430",
  c: "\u0441",
  e: "\u0435",
  o: "\u043E",
  p: "\u0440",
  x: "\u0445",
  y: "\u0443",
  A: "\u0391",
  B: "\u0392",
  E: "\u0395",
  H: "\u0397",
  K: "\u039A",
  M: "\u039C",
  O: "\u039F",
  P: "\u03A1",
  T: "\u03A4",
  X: "\u03A7",
};
const word = fc.stringMatching(/^[A-Za-z]{2,10}$/);
const templateName = fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(" "));

describe("findLookAlike", () => {
  it("finds a copied name or copied instructions, and says which, naming the first popular one that matches", () => {
    const trip = popular();
    const other = popular({
      id: "tmpl_STUDYBUDDY000000",
      name: "Study Buddy",
      instructions: "Quiz me on the chapter I read today, one question at a time, and explain what I got wrong.",
    });
    const byName = findLookAlike({ creatorId: B, name: "Trip \u03A1lanner", instructions: unrelated }, [other, trip]);
    expect(byName).toEqual({ template: { id: trip.id, name: "Trip Planner" }, matched: ["name"] });
    const byInstructions = findLookAlike(
      { creatorId: B, name: "Holiday Helper", instructions: TRIP_PLANNER_INSTRUCTIONS.replace("0x1111", "0x9999") },
      [other, trip],
    );
    expect(byInstructions?.matched).toEqual(["instructions"]);
    const both = findLookAlike({ creatorId: B, name: "Trip Pianner", instructions: TRIP_PLANNER_INSTRUCTIONS }, [trip]);
    expect(both?.matched).toEqual(["name", "instructions"]);
    expect(findLookAlike({ creatorId: B, name: "Study Pal", instructions: unrelated.toUpperCase() }, [trip])).toBe(
      undefined,
    );
  });

  it("never holds a creator against their own template (a property)", () => {
    fc.assert(
      fc.property(templateName, fc.string(), (name, instructions) => {
        const mine = popular({ creatorId: B, name, instructions });
        expect(findLookAlike({ creatorId: B, name, instructions }, [mine])).toBe(undefined);
      }),
    );
    expect(
      findLookAlike({ creatorId: A, name: "Trip Planner", instructions: TRIP_PLANNER_INSTRUCTIONS }, [popular()]),
    ).toBe(undefined);
  });

  it("always catches an exact copy of a name with one letter swapped for a look-alike of another script (a property)", () => {
    fc.assert(
      fc.property(
        templateName.filter((n) => [...n].some((c) => c in HOMOGLYPHS)),
        fc.nat(),
        (name, pick) => {
          const at = [...name].flatMap((c, i) => (c in HOMOGLYPHS ? [i] : []));
          const i = at[pick % at.length] ?? 0;
          const chars = [...name];
          chars[i] = HOMOGLYPHS[chars[i] ?? ""] ?? "";
          const copy = chars.join("");
          expect(copy).not.toBe(name);
          const found = findLookAlike({ creatorId: B, name: copy, instructions: unrelated }, [popular({ name })]);
          expect(found?.matched).toContain("name");
        },
      ),
    );
  });

  it("rarely matches unrelated random names: under 1% of pairs", () => {
    const pairs = fc.sample(
      fc.tuple(fc.stringMatching(/^[a-z]{4,12} [a-z]{4,12}$/), fc.stringMatching(/^[a-z]{4,12} [a-z]{4,12}$/)),
      { numRuns: 2_000, seed: 58 },
    );
    const matched = pairs.filter(([x, y]) => x !== y && namesResemble(x, y)).length;
    expect(matched / pairs.length).toBeLessThan(0.01);
  });

  it("skips what an operator already let through against that template, but not a new way it resembles it", () => {
    const trip = popular();
    const copy = { creatorId: B, name: "Trip Planner", instructions: TRIP_PLANNER_INSTRUCTIONS };
    expect(
      findLookAlike({ ...copy, instructions: unrelated }, [trip], new Map([[trip.id, new Set(["name"] as const)]])),
    ).toBe(undefined);
    // Let through by name, it now copies the instructions too.
    expect(findLookAlike(copy, [trip], new Map([[trip.id, new Set(["name"] as const)]]))?.matched).toEqual([
      "name",
      "instructions",
    ]);
    // Let through against another template: no bearing on this one.
    expect(
      findLookAlike(copy, [trip], new Map([["tmpl_OTHER00000000000", new Set(["name", "instructions"] as const)]])),
    ).toBeDefined();
  });

  it("tells the creator which template it resembles, how, and that it is held for the operators' review", () => {
    const template = { id: "tmpl_TRIPPLANNER00000", name: "Trip Planner" };
    expect(holdReason({ template, matched: ["name"] })).toBe(
      `held for the operators' review: its name looks like that of "Trip Planner" (tmpl_TRIPPLANNER00000), a popular template of another creator`,
    );
    expect(holdReason({ template, matched: ["instructions"] })).toContain(
      "its instructions are nearly the same as those of",
    );
    expect(holdReason({ template, matched: ["name", "instructions"] })).toContain(
      "its name and instructions look like those of",
    );
  });
});
