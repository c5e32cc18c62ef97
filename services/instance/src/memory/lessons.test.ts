// Whose word the owner's messages confirm (memory/lessons.ts with
// memory/provenance.ts and memory/feedback.ts), in memory: a scripted
// learning model stands in for the real one, and may say anything; the
// memory, the feedback reader and the rules are real. No XMTP: the group is
// a stand-in that only has an id, the agent's messages are looked up in a map.
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { FeedbackReader } from "./feedback.js";
import { Lessons } from "./lessons.js";
import { extractByRule, Memory, type MemoryEntry, type NewEntry } from "./store.js";
import { readableIn } from "./walls.js";
import { REACTION_ADDED, type AgentGroup, type AgentMessage, type TextMessage } from "../platform/xmtp.js";
import type { Role } from "../platform/roles.js";

const OWNER = "0".repeat(64);
const SAUL = "a".repeat(64);
const AGENT = "c".repeat(64);
const CONVERSATION = "conv-1";
const group = { id: CONVERSATION } as AgentGroup;

const log = createLogger("lessons-test", { level: "silent" });
const lessons = new Lessons({
  log,
  feedback: new FeedbackReader({ inboxId: () => AGENT, ownerId: () => OWNER, lookup: () => undefined, log }),
  save: () => Promise.resolve(),
  forgetAsked: () => undefined,
  learned: () => undefined,
});

/** What `m` teaches, with a learning model that answers what `says` returns, whatever it was asked. */
async function learn(
  says: (message: string) => NewEntry[],
  memory: Memory,
  { m, role }: { m: TextMessage; role: Role },
): Promise<void> {
  const lesson = await lessons.text(group, memory, m, { forget: false, correction: false });
  await lesson.learn({
    role,
    ask: (asked) => Promise.resolve(says(asked.message)),
    group,
    walls: { ownerId: OWNER, home: CONVERSATION },
  });
}

const lesson = (m: TextMessage, role: Role) => ({ m, role });

let n = 0;
function message(from: string, content: string, replyTo?: string): TextMessage {
  n++;
  return {
    id: `msg-${n}`,
    conversationId: CONVERSATION,
    senderInboxId: from,
    content,
    sentAtNs: BigInt(n),
    ...(replyTo ? { replyTo } : {}),
  } as unknown as AgentMessage as TextMessage;
}

/** The owner taught the door code; Saul's correction left his version beside it, disputing it. */
function disputedDoorCode(): { memory: Memory; correction: TextMessage } {
  const memory = new Memory();
  const [owners] = memory.add([
    {
      kind: "personalization",
      text: "the door code is 1234",
      from: OWNER,
      role: "owner",
      conversationId: CONVERSATION,
    },
  ]);
  const correction = message(SAUL, "no, the door code is 4521");
  memory.add([
    {
      kind: "personalization",
      text: "the door code is 4521",
      from: SAUL,
      role: "member",
      conversationId: CONVERSATION,
      messageId: correction.id,
      disputes: [owners!.id],
    },
  ]);
  return { memory, correction };
}

const facts = (memory: Memory) => memory.entries.filter((e) => !e.feedback).map((e) => [e.text, e.role, e.from]);
const restatesSaul = () => [{ kind: "personalization" as const, text: "the door code is 4521", via: "llm" as const }];

describe("what the owner's message confirms", () => {
  it("a learning model that restates a member's fact after the owner's unrelated 'dinner at 8' confirms nothing: the owner's version stays", async () => {
    const { memory } = disputedDoorCode();
    await learn(restatesSaul, memory, lesson(message(OWNER, "dinner at 8"), "owner"));
    expect(facts(memory)).toEqual([
      ["the door code is 1234", "owner", OWNER],
      ["the door code is 4521", "member", SAUL],
    ]);
    expect(memory.entries.find((e) => e.from === SAUL)).not.toHaveProperty("confirmedBy");
  });

  it("the owner saying the member's fact in their own words makes it the owner's, and the version it disputed goes", async () => {
    const { memory } = disputedDoorCode();
    await learn(restatesSaul, memory, lesson(message(OWNER, "Remember that the door code is 4521!"), "owner"));
    expect(facts(memory)).toEqual([["the door code is 4521", "owner", SAUL]]);
    expect(memory.entries[0]).toMatchObject({ confirmedBy: OWNER });
  });

  it("so does the owner's 'that's right' as a reply to the member's correction, whatever the model makes of it", async () => {
    const { memory, correction } = disputedDoorCode();
    await learn(() => [], memory, lesson(message(OWNER, "that's right", correction.id), "owner"));
    expect(facts(memory)).toEqual([["the door code is 4521", "owner", SAUL]]);
    // A bare one, replying to nothing, confirms nothing.
    const again = disputedDoorCode();
    await learn(restatesSaul, again.memory, lesson(message(OWNER, "that's right"), "owner"));
    expect(facts(again.memory)).toEqual([
      ["the door code is 1234", "owner", OWNER],
      ["the door code is 4521", "member", SAUL],
    ]);
  });

  it("a member saying another member's fact confirms nothing", async () => {
    const { memory } = disputedDoorCode();
    await learn(restatesSaul, memory, lesson(message("b".repeat(64), "the door code is 4521"), "member"));
    expect(facts(memory)).toEqual([
      ["the door code is 1234", "owner", OWNER],
      ["the door code is 4521", "member", SAUL],
    ]);
  });
});

describe("what a message teaches", () => {
  it("a learning model that rewords a member's fact after the owner's unrelated 'lunch at 1' teaches the owner nothing (bench:hijack's hijacked learner)", async () => {
    const { memory } = disputedDoorCode();
    const reworded = () => [
      { kind: "personalization" as const, text: "The gate code is now 4521", via: "llm" as const },
    ];
    await learn(reworded, memory, lesson(message(OWNER, "lunch at 1"), "owner"));
    expect(facts(memory)).toEqual([
      ["the door code is 1234", "owner", OWNER],
      ["the door code is 4521", "member", SAUL],
    ]);
  });

  it("keeps what a model rewords of what was said, and nothing the message did not say", async () => {
    const memory = new Memory();
    const says = () => [
      { kind: "personalization" as const, text: "Saul is vegetarian", via: "llm" as const },
      { kind: "personalization" as const, text: "Saul's dinner is at 8", via: "llm" as const },
      { kind: "personalization" as const, text: "Saul's sister lives in Porto", via: "llm" as const },
      { kind: "personalization" as const, text: "Dinner is at 9", via: "llm" as const },
    ];
    await learn(says, memory, lesson(message(OWNER, "I am vegetarian, and dinner is at 8"), "owner"));
    expect(facts(memory).map(([text]) => text)).toEqual(["Saul is vegetarian", "Saul's dinner is at 8"]);
  });
});

describe("in an agent of two conversations, what a message in B teaches reads B's memory", () => {
  const A = CONVERSATION;
  const B = "conv-2";
  const ANA = "b".repeat(64);
  const groupB = { id: B } as AgentGroup;
  const walls = { ownerId: OWNER, home: A };
  /** The agent's own messages, by id, as its XMTP database has them. */
  const agentSaid = new Map<string, AgentMessage>();
  let saved = 0;
  const twoLessons = new Lessons({
    log,
    feedback: new FeedbackReader({
      inboxId: () => AGENT,
      ownerId: () => OWNER,
      lookup: (id) => agentSaid.get(id),
      log,
    }),
    save: () => {
      saved++;
      return Promise.resolve();
    },
    forgetAsked: () => undefined,
    learned: () => undefined,
  });

  function inB(from: string, content: string, replyTo?: string): TextMessage {
    return {
      ...message(from, content, replyTo),
      conversationId: B,
      contentType: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 },
    };
  }

  /** What the learning model was given, each time it was asked. */
  const asked: Memory[] = [];
  async function learnInB(m: TextMessage, role: Role, memory: Memory, says: NewEntry[] = [], correction = false) {
    const lesson = await twoLessons.text(groupB, memory, m, { forget: false, correction });
    await lesson.learn({
      role,
      // As the agent's provider answers: each fact from the sender.
      ask: (a) => {
        asked.push(a.memory);
        return Promise.resolve(says.map((e) => ({ ...e, from: a.from })));
      },
      group: groupB,
      walls,
    });
  }

  /** The owner's door code (everywhere); in A, Saul's version of it from his correction there, and his diet. */
  function twoConversations(): { memory: Memory; taughtInA: MemoryEntry[]; ownersCode: MemoryEntry } {
    const memory = new Memory();
    const [ownersCode] = memory.add([
      { kind: "personalization", text: "the door code is 1234", from: OWNER, role: "owner", conversationId: A },
    ]);
    const taughtInA = memory.add([
      {
        kind: "personalization",
        text: "the door code is 4521",
        from: SAUL,
        role: "member",
        conversationId: A,
        messageId: "saul-in-a",
        disputes: [ownersCode!.id],
      },
      {
        kind: "personalization",
        text: "my diet is vegan",
        from: SAUL,
        role: "member",
        conversationId: A,
        messageId: "a-2",
      },
    ]);
    return { memory, taughtInA: structuredClone(taughtInA), ownersCode: ownersCode! };
  }

  it("a member's fact of another conversation is neither known, confirmed, disputed nor corrected here", async () => {
    const { memory, taughtInA, ownersCode } = twoConversations();
    const fourFive = { kind: "personalization" as const, text: "the door code is 4521", via: "llm" as const };
    // Ana says in B what Saul said in A: learned in B as hers, not known; the learning model read nothing of A.
    await learnInB(inB(ANA, "the door code is 4521"), "member", memory, [fourFive]);
    const anas = memory.entries.find((e) => e.from === ANA)!;
    expect(anas).toMatchObject({ text: "the door code is 4521", conversationId: B, role: "member" });
    expect(asked.at(-1)!.entries.every((e) => readableIn(e, B, walls))).toBe(true);
    expect(asked.at(-1)!.entries.map((e) => e.text)).toEqual(["the door code is 1234"]);
    // The owner's "that's right" in B, replying to Saul's message of A, and a 👍 on it, confirm nothing.
    await learnInB(inB(OWNER, "that's right", "saul-in-a"), "owner", memory);
    saved = 0;
    const thumbsUp = {
      id: "owner-thumbs-up",
      conversationId: B,
      senderInboxId: OWNER,
      sentAtNs: 99n,
      contentType: { authorityId: "xmtp.org", typeId: "reaction" },
      content: { reference: "saul-in-a", action: REACTION_ADDED, content: "👍", schema: 1 },
    } as unknown as AgentMessage;
    await twoLessons.reaction(groupB, memory, thumbsUp, walls);
    expect(saved).toBe(0);
    // Saul corrects in B an answer that said his diet of A: a correction here takes out nothing of A.
    const answer = inB(AGENT, "From what I remember: your diet is vegan.");
    agentSaid.set(answer.id, answer);
    const vegetarian = { kind: "personalization" as const, text: "my diet is vegetarian", via: "llm" as const };
    await learnInB(inB(SAUL, "no, vegetarian", answer.id), "member", memory, [vegetarian], true);
    expect(memory.entries.filter((e) => e.feedback?.signal === "correction")).toEqual([
      expect.objectContaining({ from: SAUL, conversationId: B }),
    ]);
    // The owner's own words in B confirm Ana's fact of B, never Saul's of A.
    await learnInB(inB(OWNER, "Remember that the door code is 4521"), "owner", memory, [fourFive]);
    expect(anas).toMatchObject({ role: "owner", confirmedBy: OWNER });
    // A's entries as they were: still Saul's, still disputing the owner's code, which stays.
    expect(memory.entries.filter((e) => e.conversationId === A && e.from === SAUL)).toEqual(taughtInA);
    expect(memory.entries).toContainEqual(ownersCode);
  });

  it("'forget what you learned from me' in B forgets what the sender taught in every conversation", async () => {
    const { memory } = twoConversations();
    const lesson = await twoLessons.text(groupB, memory, inB(SAUL, "forget what you learned from me"), {
      forget: true,
      correction: false,
    });
    expect(lesson.forgot).toBe(2);
    expect(memory.entries.map((e) => e.text)).toEqual(["the door code is 1234"]);
  });

  describe("'use this in all my conversations'", () => {
    const byRule = (m: TextMessage) => extractByRule(m.content);
    const landing = { kind: "personalization" as const, text: "we land at 9", via: "llm" as const };

    it("the owner's, replying to a member's message, marks what it taught here: then it is read in every conversation", async () => {
      const { memory } = twoConversations();
      const anas = inB(ANA, "we land at 9");
      await learnInB(anas, "member", memory, [landing]);
      const landed = memory.entries.find((e) => e.text === "we land at 9")!;
      expect(readableIn(landed, A, walls)).toBe(false);
      const before = memory.entries.length;
      await learnInB(inB(OWNER, "Use this in all my conversations!", anas.id), "owner", memory);
      expect(landed).toMatchObject({ sharedBy: OWNER, sharedAt: expect.any(String), from: ANA, role: "member" });
      expect(readableIn(landed, A, walls)).toBe(true);
      // The phrase is no fact, and no correction of anything.
      expect(memory.entries).toHaveLength(before);
    });

    it("a reply naming a message of another conversation marks nothing; a member's phrase marks nothing", async () => {
      const { memory } = twoConversations();
      saved = 0;
      await learnInB(inB(OWNER, "use this in all my conversations", "saul-in-a"), "owner", memory);
      const anas = inB(ANA, "we land at 9");
      await learnInB(anas, "member", memory, [landing]);
      await learnInB(inB(ANA, "please share this with all my groups", anas.id), "member", memory);
      await learnInB(inB(ANA, "We land at 9. Remember this everywhere."), "member", memory, [landing]);
      expect(memory.entries.filter((e) => e.sharedBy !== undefined)).toEqual([]);
      expect(memory.entries.filter((e) => e.from === SAUL).every((e) => !readableIn(e, B, walls))).toBe(true);
      // Only Ana's fact was saved: nothing was marked.
      expect(saved).toBe(1);
    });

    it("said in one message with the facts, it marks the facts the message taught; the phrase is not learned", async () => {
      const memory = new Memory();
      const m = inB(OWNER, "Remember that Bea's flight is AF123. Remember this everywhere.");
      const lesson = await twoLessons.text(groupB, memory, m, { forget: false, correction: true });
      await lesson.learn({
        role: "owner",
        ask: (a) => Promise.resolve(extractByRule(a.message, a.from)),
        group: groupB,
        walls,
      });
      expect(memory.entries.map((e) => [e.text, e.sharedBy])).toEqual([["Bea's flight is AF123", OWNER]]);
      expect(byRule(m).map((e) => e.text)).toContain("this everywhere");
    });

    it("replying to the agent's own answer, it marks the facts the answer said back", async () => {
      const { memory } = twoConversations();
      await learnInB(inB(ANA, "we land at 9"), "member", memory, [landing]);
      const answer = inB(AGENT, "Noted: we land at 9.");
      agentSaid.set(answer.id, answer);
      const reply = inB(OWNER, "use this in all my conversations", answer.id);
      // Not a correction of that answer, though short.
      expect(await twoLessons.text(groupB, memory, reply, { forget: false, correction: true })).toMatchObject({
        correcting: undefined,
      });
      await learnInB(reply, "owner", memory, [], true);
      expect(memory.entries.filter((e) => e.sharedBy === OWNER).map((e) => e.text)).toEqual(["we land at 9"]);
      expect(memory.entries.some((e) => e.feedback)).toBe(false);
    });
  });
});
