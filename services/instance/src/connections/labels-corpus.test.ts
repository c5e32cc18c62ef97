// What the check of people's phone data catches and what it lets go
// (labels.ts), measured on a made-up corpus (test/phone-corpus.ts): the
// payloads are kept as the agent keeps them (shares.ts, real); the outputs
// are what a model might say. The figures are docs/connections.md's ("What
// the check catches, measured"): change one, change the other.
import { describe, expect, it } from "vitest";
import { repeatedIn } from "./labels.js";
import { LEAKS, LET_GO, ORDINARY, SHARED } from "../../test/phone-corpus.js";
import { PhoneShares } from "./shares.js";

const shares = new PhoneShares();
for (const [i, s] of SHARED.entries())
  shares.receive(
    s.from,
    {
      id: `P${i}`,
      schemaVersion: 1,
      source: s.kind as "calendar",
      capturedAt: 0,
      body: { type: s.kind, data: s.data },
    },
    new Date(Date.UTC(2026, 4, 1, 0, i)),
  );
const held = shares.all();

describe("the check, measured on realistic phone data", () => {
  it("catches every output that repeats a part of someone's data, and names whose it is", () => {
    const missed = LEAKS.filter((l) => !repeatedIn(l.out, held, "").some((r) => r.whose === l.whose));
    expect(missed.map((l) => l.out)).toEqual([]);
    expect(LEAKS).toHaveLength(39);
  });

  it("lets go what repeats only common words of someone's data: a floor, a sport, a count", () => {
    expect(LET_GO.filter((out) => repeatedIn(out, held, "").length > 0)).toEqual([]);
  });

  it("lets ordinary replies about other things go", () => {
    const withheld = ORDINARY.filter((out) => repeatedIn(out, held, "").length > 0);
    expect(withheld).toEqual([]);
    expect(ORDINARY).toHaveLength(60);
  });

  it("lets a leak go once the conversation has said that very part, and only that part", () => {
    expect(repeatedIn("Her chemo starts next week.", held, "Bea: is the chemo still on?")).toEqual([]);
    expect(repeatedIn("Ask about the chemo schedule.", held, "Bea: is the chemo still on?")).toEqual([
      { whose: "ana", kind: "calendar" },
    ]);
  });
});
