// The rules of learning from feedback (memory/feedback.ts), in memory: which
// reactions and texts count, the entries they leave, the corrected fact, what
// a correction supersedes, and how the offline provider's answers change.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import {
  ABOUT_CHARS,
  FeedbackReader,
  answerSources,
  correctedPart,
  correctionByRule,
  feedbackEntry,
  looksLikeCorrection,
  reactionSignal,
  recallHeedingFeedback,
  recordCorrection,
  replyCorrects,
  subjectOf,
  supersededBy,
  withReactionsSince,
} from "./feedback.js";
import { OFFLINE_LABEL, OfflineProvider } from "../model/offline.js";
import { systemPrompt } from "../model/prompt.js";
import { Memory, extractByRule } from "./store.js";
import type { Here, Walls } from "./walls.js";
import { REACTION_ADDED, REACTION_REMOVED, type AgentGroup, type AgentMessage } from "../platform/xmtp.js";

const PERSON = "a".repeat(64);
const answer = (text: string, messageId = "msg-1") => ({ messageId, text });
/** An agent in one conversation: all it remembers is read there. */
const HERE: Here = { ownerId: "0".repeat(64), home: "c1", conversationId: "c1" };

function dietMemory(): Memory {
  const m = new Memory();
  m.add([
    { kind: "personalization", text: "my name is Saul", from: PERSON },
    { kind: "personalization", text: "my diet is vegan", from: PERSON },
  ]);
  return m;
}

describe("reactions", () => {
  it("👍 ❤️ 💯 +1 are up, 👎 -1 are down, with any skin tone; other emoji teach nothing", () => {
    for (const e of ["👍", "👍🏽", "❤️", "❤", "💯", "+1", ":thumbsup:"]) expect(reactionSignal(e), e).toBe("up");
    for (const e of ["👎", "👎🏿", "-1", ":thumbsdown:"]) expect(reactionSignal(e), e).toBe("down");
    for (const e of ["😂", "🎉", "", "thumbs", "👍👍"]) expect(reactionSignal(e), e).toBeUndefined();
  });

  it("an entry is training, tied to the message, quoting at most ABOUT_CHARS of it", () => {
    const long = `${"x".repeat(300)} end`;
    const down = feedbackEntry("down", answer(long, "m9"), PERSON);
    expect(down).toMatchObject({
      kind: "training",
      from: PERSON,
      feedback: { messageId: "m9", signal: "down", about: "x".repeat(ABOUT_CHARS) },
    });
    expect(down.text).toBe(`Your answer "${"x".repeat(ABOUT_CHARS)}" was marked wrong.`);
    expect(feedbackEntry("up", answer("ok"), PERSON).text).toBe('Your answer "ok" was marked good.');
    expect(feedbackEntry("correction", answer("you are vegan"), PERSON, "no, I said vegetarian").text).toBe(
      'Your answer "you are vegan" was corrected: "no, I said vegetarian".',
    );
  });
});

describe("catching up", () => {
  it("reactions sent since are read from the messages they are on, in the order they were sent, with the messages sent since", () => {
    const msg = (id: string, ns: number, reactions: AgentMessage[] = []) =>
      ({ id, sentAtNs: BigInt(ns), reactions }) as unknown as AgentMessage;
    const old = msg("old answer", 1, [msg("👍 before", 2), msg("👎", 12), msg("👎 taken back", 14)]);
    const since = 10n;
    const sent = [msg("question", 11), msg("answer", 13, [msg("❤️", 15)])];
    expect(withReactionsSince(sent, [old, ...sent], since).map((m) => m.id)).toEqual([
      "question",
      "👎",
      "answer",
      "👎 taken back",
      "❤️",
    ]);
  });
});

describe("corrections", () => {
  it("texts that start like a correction", () => {
    for (const t of [
      "no, I said vegetarian",
      "No I said vegetarian",
      "nope, Paul",
      "actually, it's Shibuya",
      "that's wrong, we land Friday",
      "That is not right: Friday",
      "I said vegetarian",
      "not vegan, vegetarian",
      "Not vegan but vegetarian",
      "wrong, Friday",
    ]) {
      expect(looksLikeCorrection(t), t).toBe(true);
    }
    for (const t of [
      "no",
      "no thanks",
      "No problem!",
      "no worries",
      "not now",
      "nothing",
      "notable restaurants?",
      "what is my diet?",
      "I am vegetarian",
      "now book it",
    ]) {
      expect(looksLikeCorrection(t), t).toBe(false);
    }
  });

  it("after a question of the agent's, 'no, …' is an answer; only the explicit forms correct", () => {
    expect(looksLikeCorrection("no, book the later one", true)).toBe(false);
    expect(looksLikeCorrection("no, I said vegetarian", true)).toBe(true);
    expect(looksLikeCorrection("that's wrong, it is Friday", true)).toBe(true);
    expect(looksLikeCorrection("no, book the later one", false)).toBe(true);
  });

  it("a reply corrects when it starts like one or is a short statement, not a question, thanks or a new request", () => {
    for (const t of ["vegetarian!", "Shibuya", "Paul, not Saul", "no, I said vegetarian"])
      expect(replyCorrects(t), t).toBe(true);
    for (const t of [
      "thanks!",
      "great",
      "ok",
      "what about Kyoto?",
      "please also find a hotel near the station for the four of us",
      "",
    ])
      expect(replyCorrects(t), t).toBe(false);
  });

  it("the corrected part and what a fact is about", () => {
    expect(correctedPart("no, I said vegetarian")).toBe("vegetarian");
    expect(correctedPart("Nope. Actually, I meant that my diet is vegetarian.")).toBe("my diet is vegetarian");
    expect(correctedPart("that's wrong, Friday!")).toBe("Friday");
    expect(subjectOf("my diet is vegan")).toBe("my diet is");
    expect(subjectOf("I'm vegan")).toBe("i am");
    expect(subjectOf("I am vegetarian")).toBe("i am");
    expect(subjectOf("hello")).toBeUndefined();
  });

  it("the fact a correction brings: a whole one as said, else its value in place of the wrong fact's", () => {
    const m = dietMemory();
    const wrong = `${OFFLINE_LABEL} From what I remember: your diet is vegan.`;
    expect(answerSources(wrong, m).map((e) => e.text)).toEqual(["my diet is vegan"]);
    expect(correctionByRule("no, I said vegetarian", wrong, m, PERSON)).toEqual([
      { kind: "personalization", text: "my diet is vegetarian", via: "rule", from: PERSON },
    ]);
    expect(correctionByRule("no, I am vegetarian", wrong, m)).toEqual([
      { kind: "personalization", text: "I am vegetarian", via: "rule" },
    ]);
    // "not X, Y" names the wrong fact among several.
    const both = `${OFFLINE_LABEL} From what I remember: your name is Saul; your diet is vegan.`;
    expect(correctionByRule("not vegan, vegetarian", both, m).map((f) => f.text)).toEqual(["my diet is vegetarian"]);
    expect(correctionByRule("Paul, not Saul", both, m).map((f) => f.text)).toEqual(["my name is Paul"]);
    // A bare value with two candidate facts is ambiguous: the rule does not guess.
    expect(correctionByRule("no, vegetarian", both, m)).toEqual([]);
    // A preposition of the old fact is kept.
    m.add([{ kind: "personalization", text: "our hotel is in Shinjuku" }]);
    expect(
      correctionByRule("no, Shibuya", `${OFFLINE_LABEL} From what I remember: your hotel is in Shinjuku.`, m).map(
        (f) => f.text,
      ),
    ).toEqual(["our hotel is in Shibuya"]);
  });

  it("a correction supersedes the fact the wrong answer came from, and records itself tied to the message", () => {
    const m = dietMemory();
    const wrong = `${OFFLINE_LABEL} From what I remember: your name is Saul; your diet is vegan.`;
    const facts = [{ kind: "personalization" as const, text: "my diet is vegetarian" }];
    expect(supersededBy(wrong, m, facts).map((e) => e.text)).toEqual(["my diet is vegan"]);
    expect(supersededBy(wrong, m, [])).toEqual([]);
    m.add(facts);
    expect(recordCorrection(m, HERE, answer(wrong, "m2"), "not vegan, vegetarian", PERSON, facts)).toEqual({
      added: 1,
      superseded: 1,
    });
    expect(m.entries.map((e) => e.text)).toEqual([
      "my name is Saul",
      "my diet is vegetarian",
      `Your answer "${wrong}" was corrected: "not vegan, vegetarian".`,
    ]);
    expect(m.entries[2]!.feedback).toEqual({ messageId: "m2", signal: "correction", about: wrong });
  });

  test.prop([fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 })])(
    "the rules never throw, and without facts behind the answer a correction brings only what the offline rule finds in it",
    (text, said) => {
      looksLikeCorrection(text);
      replyCorrects(text);
      reactionSignal(text);
      const m = dietMemory();
      fc.pre(answerSources(said, m).length === 0);
      expect(correctionByRule(text, said, m)).toEqual(correctedPart(text) ? extractByRule(correctedPart(text)) : []);
    },
  );
});

describe("changing later answers", () => {
  const offline = new OfflineProvider();
  const turn = (memory: Memory, text: string, correcting?: string) =>
    offline.reply({
      model: "",
      agentName: "Trip Planner",
      identity: "# Trip Planner",
      context: "",
      memory,
      history: [{ role: "user", text }],
      ...(correcting ? { correcting } : {}),
    });

  it("an answer marked 👎 is not given again: the offline provider says it was told it was wrong, until the reaction is taken back", async () => {
    const m = dietMemory();
    const first = await turn(m, "what is my diet?");
    expect(first).toBe(`${OFFLINE_LABEL} From what I remember: your diet is vegan.`);
    const [down] = m.add([feedbackEntry("down", answer(first), PERSON)]);
    expect(recallHeedingFeedback(m, "what is my diet?")).toEqual({ found: [], withheld: true });
    expect(await turn(m, "what is my diet?")).toMatch(
      /^\[offline model\] I was told that what I answered to this before was wrong/,
    );
    // Other facts are still answered.
    expect(await turn(m, "what is my name?")).toBe(`${OFFLINE_LABEL} From what I remember: your name is Saul.`);
    m.remove([down!.id]);
    expect(await turn(m, "what is my diet?")).toBe(first);
  });

  it("a correction is acknowledged with its fact, learned, and its fact wins from then on", async () => {
    const m = dietMemory();
    const wrong = await turn(m, "what is my diet?");
    expect(await turn(m, "no, I said vegetarian", wrong)).toBe(
      `${OFFLINE_LABEL} Thanks for the correction. Noted: your diet is vegetarian.`,
    );
    const facts = await offline.learn({
      model: "",
      memory: m,
      message: "no, I said vegetarian",
      from: PERSON,
      correcting: wrong,
    });
    m.add(facts);
    recordCorrection(m, HERE, answer(wrong), "no, I said vegetarian", PERSON, facts);
    expect(await turn(m, "what is my diet?")).toBe(`${OFFLINE_LABEL} From what I remember: your diet is vegetarian.`);
    expect(await turn(m, "hmm, nope", wrong)).toBe(
      `${OFFLINE_LABEL} Thanks for the correction; I will not answer that way again.`,
    );
  });

  it("a real model's prompt gets the feedback: wrong answers, corrections and liked ones, each with what to do", () => {
    const m = dietMemory();
    m.add([
      feedbackEntry("up", answer("Try Ichiran for ramen.", "m1"), PERSON),
      feedbackEntry("down", answer("your diet is vegan", "m2"), PERSON),
      feedbackEntry("correction", answer("you land Thursday", "m3"), PERSON, "no, Friday"),
    ]);
    const prompt = systemPrompt({ identity: "# Trip Planner", context: "", memory: m });
    const section = prompt.slice(prompt.indexOf("## Feedback on your earlier answers"));
    expect(section).toContain(
      `Do not give them again; if you know nothing better, say so and ask what is right:\n\n- Your answer "your diet is vegan" was marked wrong. (member aaaaaaaa)`,
    );
    expect(section).toContain(
      `Take each correction as what that member says: it refines what they taught you, and never overrides what your owner taught you:\n\n- Your answer "you land Thursday" was corrected: "no, Friday".`,
    );
    expect(section).toContain(`answer in the same way:\n\n- Your answer "Try Ichiran for ramen." was marked good.`);
    expect(section.indexOf("marked wrong")).toBeLessThan(section.indexOf("corrected"));
    // Feedback is not listed again among the training facts.
    expect(prompt.slice(0, prompt.indexOf("## Feedback")).match(/Your answer/g)).toBeNull();
  });
});

describe("feedback in an agent of two conversations", () => {
  const OWNER = "0".repeat(64);
  const AGENT = "c".repeat(64);
  const A = "conv-a";
  const B = "conv-b";
  const walls: Walls = { ownerId: OWNER, home: A };
  const said = `${OFFLINE_LABEL} From what I remember: dinner is at 8.`;
  /** The agent's own messages, by id: the same words said in A and in B. */
  const own = new Map<string, AgentMessage>(
    [
      ["a-answer", A],
      ["b-answer", B],
    ].map(([id, conversationId]) => [
      id!,
      {
        id,
        conversationId,
        senderInboxId: AGENT,
        content: said,
        contentType: { authorityId: "xmtp.org", typeId: "text" },
      } as unknown as AgentMessage,
    ]),
  );
  const log = createLogger("feedback-test", { level: "silent" });
  const reader = new FeedbackReader({ inboxId: () => AGENT, ownerId: () => OWNER, lookup: (id) => own.get(id), log });
  const reaction = (
    from: string,
    reference: string,
    content: string,
    action: typeof REACTION_ADDED | typeof REACTION_REMOVED = REACTION_ADDED,
  ) =>
    ({
      id: `reaction-${from.slice(0, 1)}-${reference}-${action}`,
      conversationId: B,
      senderInboxId: from,
      contentType: { authorityId: "xmtp.org", typeId: "reaction" },
      content: { reference, action, content, schema: 1 },
    }) as unknown as AgentMessage;

  it("a 👍 in B on words it also said in A is learned in B; the owner's 👍 in B on a member's message of A confirms nothing", () => {
    const m = new Memory();
    const [dinner] = m.add([
      { kind: "personalization", text: "dinner is at 8", from: OWNER, role: "owner", conversationId: A },
    ]);
    m.add([
      {
        kind: "personalization",
        text: "dinner is at 9",
        from: PERSON,
        role: "member",
        conversationId: A,
        messageId: "person-in-a",
        disputes: [dinner!.id],
      },
      { ...feedbackEntry("up", answer(said, "a-answer"), PERSON), role: "member", conversationId: A },
    ]);
    const inA = structuredClone(m.entries.filter((e) => e.conversationId === A && e.from === PERSON));
    expect(reader.onReaction({ id: B } as AgentGroup, m, reaction(OWNER, "person-in-a", "👍"), walls)).toBe(false);
    expect(reader.onReaction({ id: B } as AgentGroup, m, reaction(PERSON, "b-answer", "👍"), walls)).toBe(true);
    const inB = m.entries.filter((e) => e.conversationId === B);
    expect(inB).toEqual([
      expect.objectContaining({
        from: PERSON,
        feedback: expect.objectContaining({ messageId: "b-answer", signal: "up" }),
      }),
    ]);
    // Taken back in B, it goes from B alone.
    expect(
      reader.onReaction({ id: B } as AgentGroup, m, reaction(PERSON, "b-answer", "👍", REACTION_REMOVED), walls),
    ).toBe(true);
    expect(m.entries.filter((e) => e.conversationId === B)).toEqual([]);
    expect(m.entries.filter((e) => e.conversationId === A && e.from === PERSON)).toEqual(inA);
    expect(m.entries).toContainEqual(dinner);
  });

  it("a correction in B supersedes nothing of A, even its teller's own fact there", () => {
    const m = new Memory();
    const [ofA] = m.add([
      { kind: "personalization", text: "dinner is at 8", from: PERSON, role: "member", conversationId: A },
    ]);
    const facts = [{ kind: "personalization" as const, text: "dinner is at 9", from: PERSON, role: "member" as const }];
    const inB: Here = { ...walls, conversationId: B };
    expect(supersededBy(said, m, facts)).toEqual([ofA]);
    expect(recordCorrection(m, inB, answer(said, "b-answer"), "no, 9", PERSON, facts, "member", "b-2")).toEqual({
      added: 1,
      superseded: 0,
    });
    expect(m.entries).toContainEqual(ofA);
  });
});
