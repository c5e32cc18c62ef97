// Stand-in names for people and conversations a page may not name
// (stand-ins.ts), pure: the same id gives the same name every time, owners
// and conversations are named apart, and the reader's own is "you".
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conversationStandIn, ownerWords, personStandIn } from "./stand-ins";

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const ANA = `c64527${"0".repeat(54)}4415`;

describe("stand-in names", () => {
  it("names an owner by two words, the same for the same inbox, never its hex", () => {
    fc.assert(
      fc.property(hex64, (id) => {
        const name = personStandIn(id);
        expect(name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
        expect(personStandIn(id)).toBe(name);
        expect(name).not.toContain(id.slice(0, 6));
      }),
    );
  });

  it("tells most owners apart: 500 inboxes get at least 350 names (1,024 stand-ins)", () => {
    const ids = fc.sample(hex64, { numRuns: 500, seed: 77 });
    expect(new Set(ids.map(personStandIn)).size).toBeGreaterThanOrEqual(350);
  });

  it("names a conversation otherwise than a person, so that the two are not taken for each other", () => {
    expect(conversationStandIn(ANA)).not.toBe(personStandIn(ANA));
    expect(conversationStandIn(ANA)).toMatch(/^the [A-Z][a-z]+ [A-Z][a-z]+ group$/);
  });

  it("calls the reader's own agent's owner 'you'", () => {
    expect(ownerWords(ANA, ANA)).toBe("you");
    expect(ownerWords(ANA, "b".repeat(64))).toBe(personStandIn(ANA));
    expect(ownerWords(ANA, undefined)).toBe(personStandIn(ANA));
  });
});
