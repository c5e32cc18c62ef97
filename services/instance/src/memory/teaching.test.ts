// What a message teaches (memory/teaching.ts), decided as one value and then
// applied: the memory, the rules and the entries are real; the messages are
// plain objects shaped as the XMTP SDK gives them (no XMTP, no model, no
// workspace). Each test checks that deciding changes nothing, and that
// applying the value (store.ts Memory.apply) makes the change.
import { describe, expect, it } from "vitest";
import type { ReactionMessage } from "./feedback.js";
import { Memory, type MemoryEntry } from "./store.js";
import type { Here } from "./walls.js";
import { teachForget, teachReaction, teachText, textSays } from "./teaching.js";
import { REACTION_ADDED, REACTION_REMOVED, type AgentMessage, type TextMessage } from "../platform/xmtp.js";

const OWNER = "0".repeat(64);
const SAUL = "a".repeat(64);
const HERE: Here = { ownerId: OWNER, home: "c1", conversationId: "c1" };
const ANSWER = { messageId: "agent-1", text: "Your diet is vegan." };

let n = 0;
function text(from: string, content: string, replyTo?: string): TextMessage {
  n++;
  return {
    id: `msg-${n}`,
    conversationId: "c1",
    senderInboxId: from,
    content,
    sentAtNs: BigInt(n),
    ...(replyTo ? { replyTo } : {}),
  } as unknown as AgentMessage as TextMessage;
}

function reaction(
  from: string,
  reference: string,
  emoji: string,
  action: typeof REACTION_ADDED | typeof REACTION_REMOVED = REACTION_ADDED,
): ReactionMessage {
  n++;
  return {
    id: `msg-${n}`,
    conversationId: "c1",
    senderInboxId: from,
    contentType: { authorityId: "xmtp.org", typeId: "reaction", versionMajor: 1, versionMinor: 0 },
    content: { reference, action, content: emoji, schema: 1 },
    sentAtNs: BigInt(n),
  } as unknown as ReactionMessage;
}

/** A memory with `texts` taught in c1 by `from` in `role`. */
function memoryOf(...taught: { text: string; from: string; role: "owner" | "member"; messageId?: string }[]): Memory {
  const m = new Memory();
  m.add(taught.map((t) => ({ kind: "personalization", via: "rule", conversationId: "c1", ...t })));
  return m;
}

const snapshot = (m: Memory) => JSON.stringify(m.entries);
const texts = (es: readonly MemoryEntry[]) => es.map((e) => e.text);

describe("a reaction", () => {
  it("a 👍 on the agent's own message is one training entry to add, and deciding it changes nothing", () => {
    const memory = new Memory();
    const t = teachReaction(memory, HERE, reaction(SAUL, ANSWER.messageId, "👍"), ANSWER);
    expect(memory.entries).toEqual([]);
    expect(texts(t.add)).toEqual(['Your answer "Your diet is vegan." was marked good.']);
    expect(t.add[0]).toMatchObject({ role: "member", from: SAUL, conversationId: "c1" });
    memory.apply(t);
    expect(texts(memory.entries)).toEqual(['Your answer "Your diet is vegan." was marked good.']);
  });

  it("taking a 👎 back removes the entry that member's 👎 left, and only it", () => {
    const memory = new Memory();
    memory.apply(teachReaction(memory, HERE, reaction(SAUL, ANSWER.messageId, "👎"), ANSWER));
    const [left] = memory.entries;
    const t = teachReaction(memory, HERE, reaction(SAUL, ANSWER.messageId, "👎", REACTION_REMOVED), ANSWER);
    expect(t.remove).toEqual([left!.id]);
    expect(t.add).toEqual([]);
    memory.apply(t);
    expect(memory.entries).toEqual([]);
  });

  it("a reaction on a message that is not the agent's, or an emoji that means nothing, teaches nothing", () => {
    const memory = memoryOf({ text: "my diet is vegan", from: SAUL, role: "member" });
    expect(teachReaction(memory, HERE, reaction(SAUL, "x", "👍"), undefined).changed).toBe(false);
    expect(teachReaction(memory, HERE, reaction(SAUL, "agent-1", "🎉"), ANSWER).changed).toBe(false);
  });

  it("the owner's 👍 on a member's correction confirms the version learned from it, and the disputed fact goes", () => {
    const memory = memoryOf({ text: "my diet is vegan", from: OWNER, role: "owner" });
    const [owners] = memory.entries;
    memory.add([
      {
        kind: "personalization",
        text: "my diet is vegetarian",
        from: SAUL,
        role: "member",
        conversationId: "c1",
        messageId: "saul-1",
        disputes: [owners!.id],
      },
    ]);
    const [, held] = memory.entries;
    const before = snapshot(memory);
    const t = teachReaction(memory, HERE, reaction(OWNER, "saul-1", "👍"), undefined);
    expect(snapshot(memory)).toBe(before);
    expect(t.confirmed).toBe(1);
    expect(t.remove).toEqual([owners!.id]);
    expect(t.update.map((e) => [e.text, e.role, e.confirmedBy])).toEqual([["my diet is vegetarian", "owner", OWNER]]);
    memory.apply(t);
    // Changed in place: whoever holds the entry sees it confirmed.
    expect(held?.role).toBe("owner");
    expect(memory.entries.map((e) => [e.text, e.role, e.disputes])).toEqual([
      ["my diet is vegetarian", "owner", undefined],
    ]);
  });
});

describe("before a text's turn", () => {
  it("'forget what you learned from me' removes what the sender taught, and nothing anyone else taught", () => {
    const memory = memoryOf(
      { text: "my diet is vegan", from: SAUL, role: "member" },
      { text: "dinner is at 8", from: OWNER, role: "owner" },
    );
    const t = teachForget(memory, SAUL);
    expect(t.remove).toEqual([memory.entries[0]!.id]);
    expect(memory.entries).toHaveLength(2);
    memory.apply(t);
    expect(texts(memory.entries)).toEqual(["dinner is at 8"]);
  });
});

describe("after a text's turn", () => {
  it("adds the facts the message said, with who taught them where, and counts the ones it did not say", () => {
    const memory = new Memory();
    const m = text(SAUL, "I live in Lisbon");
    const t = teachText(memory, {
      m,
      role: "member",
      here: HERE,
      found: [
        { kind: "personalization", text: "I live in Lisbon", via: "llm", from: SAUL },
        { kind: "personalization", text: "Saul's door code is 4412", via: "llm", from: SAUL },
      ],
      repliedTo: undefined,
      grouped: true,
    });
    expect(memory.entries).toEqual([]);
    expect(t.invented).toBe(1);
    expect(t.add.map((e) => [e.text, e.role, e.from, e.conversationId, e.messageId])).toEqual([
      ["I live in Lisbon", "member", SAUL, "c1", m.id],
    ]);
  });

  it("a member's correction of the owner's fact adds their version, disputing it, and the correction's entry", () => {
    const memory = memoryOf({ text: "my diet is vegan", from: OWNER, role: "owner" });
    const [owners] = memory.entries;
    const t = teachText(memory, {
      m: text(SAUL, "no, I said vegetarian", ANSWER.messageId),
      role: "member",
      here: HERE,
      correcting: ANSWER,
      found: [{ kind: "personalization", text: "my diet is vegetarian", via: "rule", from: SAUL }],
      repliedTo: ANSWER,
      grouped: true,
    });
    expect(t.remove).toEqual([]);
    expect(t.corrected).toEqual({ added: 1, superseded: 0, disputed: 1 });
    const version = t.add.find((e) => e.text === "my diet is vegetarian");
    expect(version?.disputes).toEqual([owners!.id]);
    expect(t.add.filter((e) => e.feedback?.signal === "correction")).toHaveLength(1);
    memory.apply(t);
    expect(texts(memory.entries)).toContain("my diet is vegan");
  });

  it("a correction by the teacher of the fact it supersedes takes that fact out", () => {
    const memory = memoryOf({ text: "my diet is vegan", from: SAUL, role: "member" });
    const t = teachText(memory, {
      m: text(SAUL, "no, I said vegetarian", ANSWER.messageId),
      role: "member",
      here: HERE,
      correcting: ANSWER,
      found: [{ kind: "personalization", text: "my diet is vegetarian", via: "rule", from: SAUL }],
      repliedTo: ANSWER,
      grouped: true,
    });
    expect(t.remove).toEqual([memory.entries[0]!.id]);
    memory.apply(t);
    expect(texts(memory.entries)).not.toContain("my diet is vegan");
  });

  it("the owner's 'use this in all my conversations' learns the rest of the message and marks it shared", () => {
    const memory = new Memory();
    const m = text(OWNER, "I live in Lisbon. Use this in all my conversations.");
    const says = textSays(memory, { m, role: "owner", here: HERE, repliedTo: undefined });
    expect(says.sharing).toBe(true);
    expect(says.said).toBe("I live in Lisbon.");
    const t = teachText(memory, {
      m,
      role: "owner",
      here: HERE,
      found: [{ kind: "personalization", text: "I live in Lisbon", via: "llm", from: OWNER }],
      repliedTo: undefined,
      grouped: true,
    });
    expect(t.shared).toBe(1);
    expect(t.add[0]).toMatchObject({ text: "I live in Lisbon", sharedBy: OWNER });
  });

  it("a member's share phrase shares nothing", () => {
    const says = textSays(new Memory(), {
      m: text(SAUL, "I live in Lisbon. Use this in all my conversations."),
      role: "member",
      here: HERE,
      repliedTo: undefined,
    });
    expect(says.sharing).toBe(false);
  });
});
