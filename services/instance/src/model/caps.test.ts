// What goes to the model, capped (model/caps.ts), in memory: a message cut
// and said so, the history's newest lines within a budget, memory ranked
// (the owner's rules, what the message is about, the owner's before others')
// and cut; then a whole turn's and a learning call's prompt (model/prompt.ts) with a
// flood's message and a full memory. Real Memory, no model.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { systemPrompt, turnMessages } from "./prompt.js";
import type { TurnInput } from "./turn.js";
import { MAX_MEMORY_ENTRIES, Memory, type MemoryEntry } from "../memory/store.js";
import { memoryIn, readableIn, type Walls } from "../memory/walls.js";
import {
  capText,
  estimateTokens,
  historyWithin,
  memorySection,
  memoryWithin,
  PROMPT_LIMITS,
  rankForPrompt,
  UNCAPPED,
} from "./caps.js";

const OWNER = "0a4e".padEnd(64, "0");
const MEMBER = "9e45".padEnd(64, "0");

let n = 0;
function entry(over: Partial<MemoryEntry>): MemoryEntry {
  n++;
  return { id: `mem_${n}`, kind: "personalization", text: `fact ${n}`, via: "llm", createdAt: "", ...over };
}

/** `count` entries of 500 characters, as a memory that has learned for a long time holds (members' mostly). */
function fullMemory(count = MAX_MEMORY_ENTRIES): Memory {
  return new Memory(
    Array.from({ length: count }, (_, i) =>
      entry({
        text: `member note ${i}: ${"the weather was fine and the bus was late again ".repeat(11)}`.slice(0, 500),
        role: "member",
        from: MEMBER,
      }),
    ),
  );
}

describe("the caps", () => {
  it("estimate a token as 4 characters and default to 1,000 tokens a message, 3,000 of history, 3,000 of memory", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcde")).toBe(2);
    expect(PROMPT_LIMITS).toEqual({ messageTokens: 1_000, historyTokens: 3_000, memoryTokens: 3_000 });
  });

  it("cut a message at its cap and say how much of it is not shown; leave one that fits as it is", () => {
    expect(capText("short", 10)).toBe("short");
    expect(capText("x".repeat(50_000), 0)).toHaveLength(50_000);
    const cut = capText("y".repeat(50_000), 1_000);
    expect(cut.startsWith("y".repeat(4_000))).toBe(true);
    expect(cut).not.toContain("y".repeat(4_001));
    expect(cut).toContain("[cut here: the other 46000 of its 50000 characters are not shown]");
  });

  it("never cut between the halves of an emoji", () => {
    const cut = capText(`${"a".repeat(3)}😀${"b".repeat(10)}`, 1);
    expect(cut.startsWith("aaa\n")).toBe(true);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it("give the newest lines of history that fit, always the message to answer, each line cut", () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({
      role: "user" as const,
      text: `${i} ${"z".repeat(2_000)}`,
      sender: "Ana",
      speaker: "member",
    }));
    lines.push({ role: "user", text: `ask ${"q".repeat(40_000)}`, sender: "Bo", speaker: "member" });
    const kept = historyWithin(lines, PROMPT_LIMITS);
    expect(kept.at(-1)!.text.startsWith("ask ")).toBe(true);
    expect(kept.at(-1)!.text.length).toBeLessThan(4_100);
    expect(kept.length).toBeLessThan(lines.length);
    // The newest ones, in order, none skipped.
    expect(kept.slice(0, -1).map((l) => l.text.split(" ")[0])).toEqual(
      lines.slice(lines.length - kept.length, -1).map((l) => l.text.split(" ")[0]),
    );
    const tokens = kept.reduce((t, l) => t + estimateTokens(`[member] Ana: ${l.text}`), 0);
    expect(tokens).toBeLessThanOrEqual(PROMPT_LIMITS.historyTokens);
    // Uncapped, as before: every line whole.
    expect(historyWithin(lines, UNCAPPED)).toEqual(lines);
  });

  test.prop([fc.array(fc.string({ maxLength: 3_000 }), { minLength: 1, maxLength: 40 }), fc.nat({ max: 500 })])(
    "history within any caps ends with the message to answer and stays within the budget but for it",
    (texts, tokens) => {
      const lines = texts.map((text) => ({ role: "user" as const, text }));
      const limits = { messageTokens: tokens, historyTokens: tokens * 3, memoryTokens: 0 };
      const kept = historyWithin(lines, limits);
      expect(kept.at(-1)!.text).toBe(capText(texts.at(-1)!, tokens));
      if (tokens > 0 && kept.length > 1)
        expect(kept.reduce((t, l) => t + estimateTokens(`[] : ${l.text}`), 0)).toBeLessThanOrEqual(tokens * 3);
    },
  );
});

describe("memory in the prompt", () => {
  it("ranks the owner's rules first, then what the message is about (the owner's first), then the owner's, then the rest, newest first", () => {
    const memberOld = entry({ text: "Ana likes sushi", role: "member", from: MEMBER });
    const ownerRule = entry({ kind: "training", text: "Always confirm the date", role: "owner", from: OWNER });
    const memberAbout = entry({ text: "the hotel is near the station", role: "member", from: MEMBER });
    const ownerAbout = entry({ text: "our hotel is in Shinjuku", role: "owner", from: OWNER });
    const ownerOther = entry({ text: "Saul is vegetarian", role: "owner", from: OWNER });
    const inherited = entry({ text: "the trip is in May", inheritedFrom: "inst_1" });
    const memberNew = entry({ text: "Bo hates museums", role: "member", from: MEMBER });
    const ownerCorrection = entry({
      kind: "training",
      text: 'Your answer "vegan" was corrected',
      role: "owner",
      from: OWNER,
      feedback: { messageId: "m1", signal: "correction", about: "vegan" },
    });
    const ranked = rankForPrompt(
      [memberOld, ownerRule, memberAbout, ownerAbout, ownerOther, inherited, memberNew, ownerCorrection],
      "Where is the hotel?",
    );
    expect(ranked).toEqual([
      ownerCorrection,
      ownerRule,
      ownerAbout,
      memberAbout,
      ownerOther,
      memberNew,
      inherited,
      memberOld,
    ]);
  });

  it("a member packing every word into an entry does not push out the owner's rules nor the owner's relevant facts", () => {
    const stuffed = entry({
      text: "hotel where when station trip dinner plan weather museum train flight restaurant",
      role: "member",
      from: MEMBER,
    });
    const rule = entry({ kind: "training", text: "Always answer in French", role: "owner", from: OWNER });
    const about = entry({ text: "our hotel is in Shinjuku", role: "owner", from: OWNER });
    const ranked = rankForPrompt([rule, about, stuffed], "where is the hotel near the station for dinner?");
    expect(ranked).toEqual([rule, about, stuffed]);
  });

  it("is cut to its token budget, the rest said to be left out; all of it when it fits or is uncapped", () => {
    const memory = fullMemory();
    memory.entries.push(entry({ kind: "training", text: "Always answer in French", role: "owner", from: OWNER }));
    memory.entries.push(entry({ text: "the hotel is in Shinjuku", role: "member", from: MEMBER }));
    const { memory: shown, left } = memoryWithin(memory, "which hotel?", 3_000);
    expect(shown.entries.length).toBeGreaterThan(10);
    expect(left).toBe(memory.entries.length - shown.entries.length);
    expect(shown.entries.map((e) => e.text)).toContain("Always answer in French");
    expect(shown.entries.map((e) => e.text)).toContain("the hotel is in Shinjuku");
    const section = memorySection(memory, "which hotel?", 3_000);
    expect(estimateTokens(section)).toBeLessThan(3_300);
    expect(section).toContain(`(${left} more entries of what you learned are not shown here`);
    expect(estimateTokens(memorySection(memory, "which hotel?", 0))).toBeGreaterThan(125_000);
    const small = new Memory([entry({ text: "Saul is vegetarian" })]);
    expect(memorySection(small, "x", 3_000)).toBe(small.render());
  });

  it("in a conversation, the cut ranks and counts its view alone: another conversation's members' entries, however related to the message, take no place and are not counted as left out", () => {
    const walls: Walls = { ownerId: OWNER, home: "conv-a" };
    const rule = entry({
      kind: "training",
      text: "Always answer briefly",
      role: "owner",
      from: OWNER,
      conversationId: "conv-a",
    });
    const ofA = Array.from({ length: 40 }, (_, i) =>
      entry({
        text: `the door code of flat ${i} is ${4500 + i}`,
        role: "member",
        from: MEMBER,
        conversationId: "conv-a",
      }),
    );
    const ofB = fullMemory(40).entries.map((e) => ({ ...e, conversationId: "conv-b" }));
    const memory = new Memory([rule, ...ofA, ...ofB]);
    const query = "what is the door code of my flat?";
    // With the whole of memory, A's entries would be the best ranked after the owner's rule.
    expect(rankForPrompt(memory.entries, query).slice(1, 41)).toEqual([...ofA].reverse());
    const view = memoryIn(memory, "conv-b", walls);
    const { memory: shown, left } = memoryWithin(view, query, 1_000);
    expect(shown.entries.every((e) => readableIn(e, "conv-b", walls))).toBe(true);
    expect(shown.entries).toContain(rule);
    expect(left).toBe(ofB.length + 1 - shown.entries.length);
    // The turn's system prompt (model/prompt.ts) of a member in B, from B's view.
    const prompt = systemPrompt({
      identity: "",
      context: "",
      memory: view,
      role: "member",
      limits: { ...PROMPT_LIMITS, memoryTokens: 1_000 },
      history: [{ role: "user", text: query }],
    });
    expect(prompt).not.toContain("door code of flat");
    expect(prompt).toContain(`(${left} more entries of what you learned are not shown here`);
  });

  it("a budget too small for any entry says so rather than 'nothing yet'", () => {
    const section = memorySection(fullMemory(3), "x", 10);
    expect(section).toBe(
      "## What you have learned\n\n(3 more entries of what you learned are not shown here: the least related to this message.)",
    );
  });
});

describe("a prompt built with the caps (model/prompt.ts)", () => {
  const flood = `${"please read this ".repeat(3_000)}`;
  const input = (over: Partial<TurnInput> = {}): TurnInput => ({
    model: "m",
    agentName: "Tabby",
    identity: "# Tabby\n\nYou help.",
    context: "## Where you are",
    memory: fullMemory(),
    history: [
      ...Array.from({ length: 19 }, (_, i) => ({
        role: "user" as const,
        text: `${i} ${flood}`,
        sender: "Ana",
        speaker: "member",
      })),
      { role: "user" as const, text: `Tabby, ${flood}`, sender: "Ana", speaker: "member" },
    ],
    role: "member",
    ...over,
  });
  const tokens = (i: TurnInput) => turnMessages(i).reduce((t, m) => t + estimateTokens(m.content ?? ""), 0);

  it("stays near 7,000 tokens with a full memory and a flood's history; without caps it is the whole of both", () => {
    const capped = tokens(input({ limits: PROMPT_LIMITS }));
    expect(capped).toBeLessThan(PROMPT_LIMITS.historyTokens + PROMPT_LIMITS.memoryTokens + 500);
    expect(tokens(input())).toBeGreaterThan(125_000 + 20 * 12_000);
    const last = turnMessages(input({ limits: PROMPT_LIMITS })).at(-1)!;
    expect(last.content).toContain("[cut here: the other");
  });

  it("the system prompt without caps is as it was: all of memory", () => {
    const memory = fullMemory(5);
    expect(systemPrompt({ identity: "# T", context: "", memory })).toBe(`# T\n\n${memory.render()}`);
  });

  it("a text to its number is cut like a message", () => {
    const last = turnMessages(
      input({ limits: PROMPT_LIMITS, inboundText: { from: "+1555", to: "+1556", text: flood } }),
    ).at(-1)!;
    expect(last.content!.length).toBeLessThan(4_400);
    expect(last.content).toContain("[cut here:");
  });
});
