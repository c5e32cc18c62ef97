// Whose word the owner's messages confirm (memory/lessons.ts with
// memory/provenance.ts and memory/feedback.ts), in memory: a scripted
// learning model stands in for the real one, and may say anything; the
// memory, the feedback reader and the rules are real. No XMTP: the group is
// a stand-in that only has an id, the agent's messages are looked up in a map.
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { FeedbackReader } from "./feedback.js";
import { Lessons } from "./lessons.js";
import { Memory, type NewEntry } from "./store.js";
import type { AgentGroup, AgentMessage, TextMessage } from "../platform/xmtp.js";
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
  await lesson.learn({ role, ask: (asked) => Promise.resolve(says(asked.message)), group });
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
