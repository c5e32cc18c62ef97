// The walls' rules (labels.ts), each alone: what it keeps out, what it lets
// through, and that no other rule keeps that case out (so the table test,
// walls.test.ts, can tell each rule's absence). Pure.
import { describe, expect, it } from "vitest";
import { mayRead, RULES, sessionOf, type Label, type Reader } from "./labels.js";

const OWNER = "saul";
const A = "conv-a";
const B = "conv-b";
const owner = (conversationId: string): Reader => ({ kind: "person", conversationId, inboxId: OWNER, owner: true });
const person = (conversationId: string, inboxId: string): Reader => ({
  kind: "person",
  conversationId,
  inboxId,
  owner: false,
});
const label = (l: Partial<Label>): Label => ({
  whose: { person: "bea" },
  where: { conversation: A },
  how: "said",
  ...l,
});

/** Each rule's own case: a reader it alone keeps out, and a reader it lets in. */
const CASES: Record<string, { label: Label; refused: Reader; allowed: Reader }> = {
  conversation: { label: label({}), refused: person(B, "eve"), allowed: person(A, "eve") },
  outsider: {
    label: label({}),
    refused: { kind: "outsider", conversationId: A, address: "+15550100111" },
    allowed: person(A, "eve"),
  },
  phone: { label: label({ how: "phone" }), refused: person(A, "eve"), allowed: person(A, "bea") },
  credential: {
    label: label({ whose: { person: OWNER }, where: { everywhere: true }, how: "credential" }),
    refused: person(A, "eve"),
    allowed: owner(B),
  },
  clone: { label: label({}), refused: { kind: "clone" }, allowed: { kind: "owner" } },
};

describe("the walls' rules", () => {
  it("has a case for every rule, and no case for a rule it does not have", () => {
    expect(Object.keys(CASES).sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  it.each(Object.entries(CASES))("the %s rule keeps its case out, alone, and lets the other reader in", (name, c) => {
    expect(mayRead(c.label, c.refused)).toMatchObject({ ok: false, rule: name });
    expect(mayRead(c.label, c.allowed)).toEqual({ ok: true });
    // Without it, nothing else keeps the case out: the rule is the only wall there.
    expect(
      mayRead(
        c.label,
        c.refused,
        RULES.filter((r) => r.name !== name),
      ),
    ).toEqual({ ok: true });
  });

  it("lets the owner alone read what is the owner's alone; no turn in a conversation reads it, the owner's included", () => {
    const text = label({ whose: { outsider: "+15550100111" }, where: { ownerOnly: true }, how: "text" });
    expect(mayRead(text, { kind: "owner" })).toEqual({ ok: true });
    expect(mayRead(text, owner(A))).toMatchObject({ ok: false, rule: "conversation" });
    expect(mayRead(text, person(A, "bea"))).toMatchObject({ ok: false });
    expect(mayRead(text, { kind: "clone" })).toMatchObject({ ok: false });
  });

  it("lets an outsider's turn read the template and their own words, nothing else", () => {
    const them: Reader = { kind: "outsider", conversationId: A, address: "+15550100111" };
    expect(mayRead(label({ whose: { nobody: true }, where: { everywhere: true }, how: "template" }), them).ok).toBe(
      true,
    );
    expect(mayRead(label({ whose: { outsider: "+15550100111" }, how: "text" }), them).ok).toBe(true);
    expect(mayRead(label({ whose: { outsider: "+15550100999" }, how: "text" }), them).ok).toBe(false);
    expect(mayRead(label({ whose: { person: OWNER }, where: { everywhere: true }, how: "taught" }), them).ok).toBe(
      false,
    );
  });

  it("carries into a clone what every conversation reads, the owner's credential too (its kind is the owner's to choose)", () => {
    const mine = label({ whose: { person: OWNER }, where: { everywhere: true }, how: "taught" });
    expect(mayRead(mine, { kind: "clone" })).toEqual({ ok: true });
    expect(mayRead({ ...mine, how: "credential" }, { kind: "clone" })).toEqual({ ok: true });
  });
});

describe("the sessions a runtime keeps", () => {
  let n = 0;
  const once = () => `id${++n}`;

  it("keeps one for each person in each conversation, the owner's apart", () => {
    const keys = [owner(A), owner(B), person(A, "bea"), person(A, "eve"), person(B, "bea")].map((r) =>
      sessionOf(r, once),
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(sessionOf(owner(A), once)).toBe(sessionOf(owner(A), once));
  });

  it("keeps one for each number outside in each conversation, apart from the people's; each clone summary gets its own", () => {
    const them = (address: string, conversationId = A): Reader => ({ kind: "outsider", conversationId, address });
    expect(sessionOf(them("+15550100111"), once)).toBe(sessionOf(them("+15550100111"), once));
    expect(sessionOf(them("+15550100111"), once)).not.toContain("15550100111");
    const keys = [them("+15550100111"), them("+15550100222"), them("+15550100111", B), owner(A)].map((r) =>
      sessionOf(r, once),
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(sessionOf({ kind: "clone" }, once)).not.toBe(sessionOf({ kind: "clone" }, once));
  });
});
