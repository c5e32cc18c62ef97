// What the agent plans to do with a message (plan.ts), in memory: the owner's
// answer to a waiting question, whom it answers and learns from, what a
// message may cost, the busy notice, a text to its number.
// Everything is real; messages and the facts of each are plain objects, no XMTP client,
// no model, no clock (the plans take `now`).
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ParticipationMode } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { MemberKind } from "@convos-pool/gen/convos/app/v1/profile_pb.js";
import { resolveParticipation } from "@convos-pool/kit/content";
import { BUSY_NOTICE_EVERY_MS, shares, type Spent } from "./budget.js";
import type { AgentMessage } from "../../platform/xmtp.js";
import {
  agentsOnArrival,
  arrive,
  asksToPause,
  asksToResume,
  NO_PACE,
  PAUSE_WORDS,
  PASSED_ON_CHARS,
  planArrival,
  planMessage,
  planText,
  type Message,
  type MessagePlan,
  type MessageFacts,
  type Pace,
  type Arriving,
} from "./plan.js";
import { MAX_AGENT_CHAIN } from "./policy.js";

const SELF = "5e1f".padEnd(64, "0");
const OWNER = "0a4e".padEnd(64, "0");
const CREATOR = "c4ea".padEnd(64, "0");
const PERSON = "9e45".padEnd(64, "0");
const BOT = "b075".padEnd(64, "0");
const NOW = 10_000_000;

function factsAt(over: Partial<MessageFacts> = {}): MessageFacts {
  return {
    self: SELF,
    agentName: "Tabby",
    ownerId: OWNER,
    creatorInboxId: CREATOR,
    agents: [BOT],
    members: 2,
    participation: resolveParticipation(undefined),
    mayAnswer: true,
    learnsByRule: false,
    callsPerMinute: 60,
    now: NOW,
    pace: NO_PACE,
    ...over,
  };
}

const text = (senderInboxId: string, t: string, over: Partial<Message> = {}): Message => ({
  senderInboxId,
  text: t,
  ...over,
});
const reaction = (senderInboxId: string): Message => ({ senderInboxId, reaction: true });
const mode = (m: ParticipationMode, cooldownSeconds = 0) => resolveParticipation({ mode: m, cooldownSeconds });

/** Plans each message in turn at `now`, carrying the pace, as the conversation does. */
function run(messages: Message[], r: MessageFacts = factsAt()): { plans: MessagePlan[]; pace: Pace } {
  let pace = r.pace;
  const plans = messages.map((m) => {
    const planned = planMessage(m, { ...r, pace });
    pace = planned.pace;
    return planned.plan;
  });
  return { plans, pace };
}

/** `n` calls of `by` made at `at`. */
const calls = (n: number, by: string, at = NOW, owner = by === OWNER): Spent[] =>
  Array.from({ length: n }, () => ({ at, by, owner }));

const modelCalls = (p: MessagePlan): number =>
  p.kind === "text" ? (p.answer.kind === "turn" ? 1 : 0) + (p.learn === "by-model" ? 1 : 0) : 0;

describe("the owner's answer to a waiting question", () => {
  const now = { self: SELF, ownerId: OWNER, mayAnswer: true };

  it("offers the owner's reply to a message, reaction on one and tap on a button to the waiting question", () => {
    expect(planArrival({ senderInboxId: OWNER, reply: { to: "q1", text: "yes" } }, now)).toEqual({
      kind: "offer",
      answer: { kind: "reply", to: "q1", text: "yes" },
    });
    expect(planArrival({ senderInboxId: OWNER, reaction: { to: "q1", emoji: "👍" } }, now)).toEqual({
      kind: "offer",
      answer: { kind: "reaction", to: "q1", emoji: "👍" },
    });
    expect(planArrival({ senderInboxId: OWNER, tap: { buttons: "q1", action: "approve:q1" } }, now)).toEqual({
      kind: "offer",
      answer: { kind: "tap", buttons: "q1", action: "approve:q1" },
    });
  });

  it("queues an owner's text that replies to nothing: a bare yes in the conversation answers no question", () => {
    expect(planArrival({ senderInboxId: OWNER }, now)).toEqual({ kind: "queue" });
  });

  it("never offers what a catch-up only learns from, even the owner's reply or tap", () => {
    const later = { ...now, mayAnswer: false };
    expect(planArrival({ senderInboxId: OWNER, reply: { to: "q1", text: "yes" } }, later)).toEqual({ kind: "queue" });
    expect(planArrival({ senderInboxId: OWNER, tap: { buttons: "q1", action: "approve:q1" } }, later)).toEqual({
      kind: "queue",
    });
  });

  it("stops the turn that thinks about a message when any person replies stop to that message", () => {
    const thinking = { ...now, thinkingAbout: new Set(["m1"]), agents: [BOT] };
    // In reply to what it thinks about, "stop" ends that answer and pauses nothing ("a person's pause", below).
    for (const sender of [PERSON, OWNER, CREATOR])
      for (const text of ["stop", "Stop!", " STOP it ", "never mind.", "cancel", "🛑", "✋"])
        expect(planArrival({ senderInboxId: sender, reply: { to: "m1", text } }, thinking)).toEqual({
          kind: "stop",
          turn: "m1",
        });
    // Not another agent, nor itself; not a catch-up's old reply.
    expect(planArrival({ senderInboxId: BOT, reply: { to: "m1", text: "stop" } }, thinking)).toEqual({ kind: "queue" });
    expect(planArrival({ senderInboxId: SELF, reply: { to: "m1", text: "stop" } }, thinking)).toEqual({
      kind: "queue",
    });
    expect(
      planArrival({ senderInboxId: PERSON, reply: { to: "m1", text: "cancel" } }, { ...thinking, mayAnswer: false }),
    ).toEqual({ kind: "queue" });
  });

  it("reads a stop only as the whole of a reply to the message being thought about", () => {
    const thinking = { ...now, thinkingAbout: new Set(["m1"]) };
    // A sentence with "stop" in it, a reply to another message, a bare "stop": ordinary messages.
    expect(planArrival({ senderInboxId: PERSON, reply: { to: "m1", text: "stop by the bakery" } }, thinking)).toEqual({
      kind: "queue",
    });
    expect(planArrival({ senderInboxId: PERSON, reply: { to: "m2", text: "cancel" } }, thinking)).toEqual({
      kind: "queue",
    });
    expect(planArrival({ senderInboxId: PERSON }, thinking)).toEqual({ kind: "queue" });
    // The owner's "stop" to a waiting question (not a message being thought about) is offered to it: its no; a pause when it takes none.
    expect(planArrival({ senderInboxId: OWNER, reply: { to: "q1", text: "stop" } }, thinking)).toEqual({
      kind: "offer",
      answer: { kind: "reply", to: "q1", text: "stop" },
      orElse: { kind: "pause" },
    });
  });

  it("offers nothing while the agent has no owner", () => {
    expect(
      planArrival({ senderInboxId: OWNER, reply: { to: "q1", text: "yes" } }, { ...now, ownerId: undefined }),
    ).toEqual({ kind: "queue" });
  });

  it("tells the question of buttons anyone but itself posts, a catch-up's too; its own are nothing to it", () => {
    const buttons = ["q1", "approve:q1", "decline:q1"];
    for (const sender of [PERSON, BOT, OWNER, CREATOR])
      for (const mayAnswer of [true, false])
        expect(planArrival({ senderInboxId: sender, buttons }, { ...now, mayAnswer })).toEqual({
          kind: "buttons",
          ids: buttons,
        });
    expect(planArrival({ senderInboxId: SELF, buttons }, now)).toEqual({ kind: "queue" });
  });

  test.prop([
    fc.constantFrom(PERSON, BOT, CREATOR, SELF),
    fc.option(fc.record({ to: fc.string(), text: fc.constantFrom("yes", "ok", "👍", "approve") }), { nil: undefined }),
    fc.option(fc.record({ to: fc.string(), emoji: fc.constantFrom("👍", "👎") }), { nil: undefined }),
    fc.option(fc.record({ buttons: fc.string(), action: fc.string().map((s) => `approve:${s}`) }), { nil: undefined }),
  ])(
    "a member's yes, by reply, reaction or tap, is never offered to a waiting question",
    (sender, reply, react, tap) => {
      expect(planArrival({ senderInboxId: sender, reply, reaction: react, tap }, now)).toEqual({ kind: "queue" });
    },
  );
});

describe("whom it answers and learns from", () => {
  it("answers a person's text with a model call and learns from it with another", () => {
    const { plans, pace } = run([text(PERSON, "my diet is vegan")]);
    expect(plans).toEqual([
      {
        kind: "text",
        role: "member",
        person: true,
        said: "my diet is vegan",
        forget: false,
        correction: true,
        answer: { kind: "turn" },
        learn: "by-model",
      },
    ]);
    // The answer's call is counted now; learning's when it is made, after the answer.
    expect(pace.spent).toEqual([{ at: NOW, by: PERSON, owner: false }]);
    expect(pace.lastAnswerAt).toBe(NOW);
  });

  it("reads a text without the name it is said to, once: what it learns from and reads a correction in", () => {
    const { plans } = run([text(PERSON, "Tabby, my diet is vegan"), text(PERSON, "tell Tabby I said hi")]);
    expect(plans.map((p) => p.kind === "text" && p.said)).toEqual(["my diet is vegan", "tell Tabby I said hi"]);
  });

  it("answers its owner in the owner's role", () => {
    const { plans, pace } = run([text(OWNER, "hello")]);
    expect(plans[0]).toMatchObject({ kind: "text", role: "owner", answer: { kind: "turn" } });
    expect(pace.spent).toEqual([{ at: NOW, by: OWNER, owner: true }]);
  });

  it("learns by rule with the offline provider: no model call to count", () => {
    expect(run([text(PERSON, "hi")], factsAt({ learnsByRule: true })).plans[0]).toMatchObject({ learn: "by-rule" });
  });

  it("ignores its own texts and what is not a text", () => {
    expect(run([text(SELF, "hello"), { senderInboxId: PERSON }]).plans).toEqual([
      { kind: "ignore" },
      { kind: "ignore" },
    ]);
  });

  it("answers another agent that names it, and never learns from it or looks for a correction in it", () => {
    const { plans, pace } = run([text(BOT, "Tabby, what is the time?")], factsAt({ members: 3 }));
    // Nor is it one of the day's people (state/signals.ts): not a person.
    expect(plans[0]).toEqual({
      kind: "text",
      role: "member",
      person: false,
      said: "what is the time?",
      forget: false,
      correction: false,
      answer: { kind: "turn" },
      learn: "none",
    });
    expect(pace.agentChain).toBe(1);
  });

  it("skips another agent that does not name it", () => {
    expect(run([text(BOT, "what is the time?")], factsAt({ members: 3 })).plans).toEqual([{ kind: "skip" }]);
  });

  it(`skips agents after ${MAX_AGENT_CHAIN} answers in a row, until a person or principal speaks, answered or not`, () => {
    // Each agent text replies to another person's text: a chain of its own, so only the breaker stops them.
    const people = Array.from({ length: MAX_AGENT_CHAIN + 1 }, (_, i) => text(PERSON, "hi", { id: `p${i}` }));
    const bots = people.map((_, i) => text(BOT, "Tabby?", { id: `b${i}`, replyTo: `p${i}`, replyToSender: PERSON }));
    const { plans, pace } = run(
      [...people, ...bots, text(PERSON, "hi", { id: "p9" }), text(BOT, "Tabby?", { id: "b9" })],
      factsAt({ members: 3 }),
    );
    expect(plans.slice(people.length).map((p) => p.kind)).toEqual([
      ...Array(MAX_AGENT_CHAIN).fill("text"),
      "skip",
      "quiet",
      "text",
    ]);
    expect(pace.agentChain).toBe(1);
  });

  it("answers another agent once for one person's text, and never an agent's answer to it", () => {
    const facts = factsAt({ members: 3 });
    const hello = text(PERSON, "Tabby, hello!", { id: "m1" });
    const { plans } = run(
      [
        hello,
        text(SELF, "Hello! I am Tabby.", { id: "s1", replyTo: "m1", replyToSender: PERSON }),
        // The other agent's answer to the same person names it: answered once.
        text(BOT, "Hi! Tabby here too.", { id: "b1", replyTo: "m1", replyToSender: PERSON }),
        text(SELF, "Nice to meet you.", { id: "s2", replyTo: "b1", replyToSender: BOT }),
        // Its answer to this agent: never answered.
        text(BOT, "Tabby, likewise!", { id: "b2", replyTo: "s2", replyToSender: SELF }),
        // Another text of that chain, not a reply to it: already answered once for m1.
        text(BOT, "Tabby, what next?", { id: "b3" }),
        text(BOT, "Tabby?", { id: "b4", replyTo: "b1", replyToSender: BOT }),
        // A new person's text begins a new chain.
        text(PERSON, "Tabby, where to?", { id: "m2" }),
        text(BOT, "Tabby, you take this one", { id: "b5", replyTo: "m2", replyToSender: PERSON }),
      ],
      facts,
    );
    expect(plans.map((p) => p.kind)).toEqual([
      "text",
      "ignore",
      "text",
      "ignore",
      "skip",
      "skip",
      "skip",
      "text",
      "text",
    ]);
  });

  it("learns a person's reaction as feedback and answers none; ignores an agent's reaction and its own", () => {
    expect(run([reaction(PERSON), reaction(OWNER), reaction(BOT), reaction(SELF)]).plans).toEqual([
      { kind: "reaction" },
      { kind: "reaction" },
      { kind: "ignore" },
      { kind: "ignore" },
    ]);
  });

  it("still learns reactions when paused", () => {
    expect(run([reaction(PERSON)], factsAt({ participation: mode(ParticipationMode.PAUSED) })).plans).toEqual([
      { kind: "reaction" },
    ]);
  });

  it("stays quiet on a person's text its participation does not answer: no turn, no learning, no call", () => {
    const { plans, pace } = run([text(PERSON, "anyone around?")], factsAt({ members: 3 }));
    expect(plans).toEqual([{ kind: "quiet" }]);
    expect(pace.spent).toEqual([]);
  });

  it("answers a text that names it, or replies to it, in a group of mention", () => {
    const r = factsAt({ members: 3 });
    expect(
      run([text(PERSON, "Tabby, hi"), text(PERSON, "hi", { replyToSender: SELF })], r).plans.map((p) => p.kind),
    ).toEqual(["text", "text"]);
  });

  it("in speak, joins in unasked only once the cooldown after its last answer has run out", () => {
    const r = factsAt({ members: 3, participation: mode(ParticipationMode.SPEAK, 60) });
    const first = planMessage(text(PERSON, "hi all"), r);
    expect(first.plan.kind).toBe("text");
    const soon = planMessage(text(PERSON, "and another thing"), { ...r, pace: first.pace, now: NOW + 59_000 });
    expect(soon.plan.kind).toBe("quiet");
    const named = planMessage(text(PERSON, "Tabby?"), { ...r, pace: first.pace, now: NOW + 59_000 });
    expect(named.plan.kind).toBe("text");
    const later = planMessage(text(PERSON, "and another thing"), { ...r, pace: first.pace, now: NOW + 60_000 });
    expect(later.plan.kind).toBe("text");
  });
});

describe("forgetting and corrections", () => {
  it("forgets first when a person asks it to forget what it learned from them, and learns nothing from the asking", () => {
    expect(run([text(PERSON, "forget what you learned from me")]).plans[0]).toEqual({
      kind: "text",
      role: "member",
      person: true,
      said: "forget what you learned from me",
      forget: true,
      correction: false,
      answer: { kind: "turn" },
      learn: "none",
    });
  });

  it("forgets nothing when another agent asks", () => {
    expect(run([text(BOT, "Tabby, forget what you learned from me")]).plans[0]).toMatchObject({
      forget: false,
      learn: "none",
    });
  });

  it("looks for what a person's text corrects, and for nothing in a forget", () => {
    expect(run([text(OWNER, "no, I said vegetarian")]).plans[0]).toMatchObject({ correction: true });
    expect(run([text(OWNER, "forget what you learned from me")]).plans[0]).toMatchObject({ correction: false });
  });
});

describe("a catch-up", () => {
  it("learns from a message it does not answer, at no answer's cost, and forgets when asked there", () => {
    const r = factsAt({ mayAnswer: false });
    const { plans, pace } = run([text(PERSON, "my diet is vegan"), text(PERSON, "forget what you learned from me")], r);
    expect(plans).toEqual([
      {
        kind: "text",
        role: "member",
        person: true,
        said: "my diet is vegan",
        forget: false,
        correction: true,
        answer: { kind: "none" },
        learn: "by-model",
      },
      {
        kind: "text",
        role: "member",
        person: true,
        said: "forget what you learned from me",
        forget: true,
        correction: false,
        answer: { kind: "none" },
        learn: "none",
      },
    ]);
    expect(pace).toEqual(NO_PACE);
  });
});

describe("what a message may cost", () => {
  it("refuses a member past their share, learns nothing from the refused message, and tells the busy notice once", () => {
    const full = { ...NO_PACE, spent: calls(shares(60).perMember, PERSON) };
    const { plans, pace } = run([text(PERSON, "hi"), text(PERSON, "again")], factsAt({ pace: full }));
    expect(plans).toEqual([
      {
        kind: "text",
        role: "member",
        person: true,
        said: "hi",
        forget: false,
        correction: true,
        answer: { kind: "refused", refused: "member", notice: true },
        learn: "none",
      },
      {
        kind: "text",
        role: "member",
        person: true,
        said: "again",
        forget: false,
        correction: true,
        answer: { kind: "refused", refused: "member", notice: false },
        learn: "none",
      },
    ]);
    expect(pace.lastNoticeAt).toBe(NOW);
    expect(pace.lastAnswerAt).toBeUndefined();
  });

  it("tells the busy notice again only ten minutes after the last", () => {
    const full = { ...NO_PACE, spent: calls(60, PERSON), lastNoticeAt: NOW - BUSY_NOTICE_EVERY_MS + 1 };
    expect(run([text(PERSON, "hi")], factsAt({ pace: full })).plans[0]).toMatchObject({
      answer: { kind: "refused", refused: "budget", notice: false },
    });
    const later = { ...full, lastNoticeAt: NOW - BUSY_NOTICE_EVERY_MS };
    expect(run([text(PERSON, "hi")], factsAt({ pace: later })).plans[0]).toMatchObject({
      answer: { kind: "refused", notice: true },
    });
  });

  it("answers its owner out of the reserve when members have spent theirs", () => {
    const members = { ...NO_PACE, spent: [...calls(20, PERSON), ...calls(20, BOT)] };
    const { plans } = run([text(PERSON, "hi"), text(OWNER, "hi")], factsAt({ pace: members }));
    expect(plans.map((p) => p.kind === "text" && p.answer.kind)).toEqual(["refused", "turn"]);
  });

  it("forgets calls older than a minute", () => {
    const old = { ...NO_PACE, spent: calls(60, PERSON, NOW - 60_000) };
    const { plans, pace } = run([text(PERSON, "hi")], factsAt({ pace: old }));
    expect(plans[0]).toMatchObject({ answer: { kind: "turn" } });
    expect(pace.spent).toHaveLength(1);
  });

  it("counts nothing when its host sets no budget", () => {
    const { plans, pace } = run([text(PERSON, "hi")], factsAt({ callsPerMinute: 0 }));
    expect(plans[0]).toMatchObject({ answer: { kind: "turn" } });
    expect(pace.spent).toEqual([]);
  });
});

describe("a text to its number", () => {
  const t = { from: "+15550100001", to: "+15550100002", text: "running late" };

  it("is a turn when its call fits, counted as an outsider's, never the owner's", () => {
    expect(planText(t, { callsPerMinute: 60, now: NOW, pace: NO_PACE })).toEqual({
      plan: { kind: "turn" },
      pace: { ...NO_PACE, spent: [{ at: NOW, by: t.from, owner: false }] },
    });
  });

  it("is passed on as it came, its first characters, without the model, when members' part is spent", () => {
    const long = { ...t, text: "x".repeat(PASSED_ON_CHARS + 100) };
    const spent = { ...NO_PACE, spent: calls(40, PERSON) };
    const { plan } = planText(long, { callsPerMinute: 60, now: NOW, pace: spent });
    expect(plan).toEqual({
      kind: "pass-on",
      refused: "members",
      say: `A text came to ${t.to} from ${t.from}: "${"x".repeat(PASSED_ON_CHARS)}". I have had too many messages this minute to do more than pass it on.`,
    });
  });
});

describe("what holds for every plan", () => {
  const sender = fc.constantFrom(SELF, OWNER, CREATOR, PERSON, BOT);
  const message = fc.record({
    senderInboxId: sender,
    text: fc.option(fc.constantFrom("hi", "Tabby, hi", "forget what you learned from me", "no, I said vegetarian"), {
      nil: undefined,
    }),
    replyToSender: fc.option(sender, { nil: undefined }),
    reaction: fc.boolean(),
  });
  const facts = fc.record({
    members: fc.integer({ min: 1, max: 250 }),
    mode: fc.constantFrom(...Object.values(ParticipationMode).filter((v): v is number => typeof v === "number")),
    cooldownSeconds: fc.integer({ min: 0, max: 600 }),
    mayAnswer: fc.boolean(),
    learnsByRule: fc.boolean(),
    callsPerMinute: fc.integer({ min: 0, max: 90 }),
  });
  const factsOf = (f: typeof facts extends fc.Arbitrary<infer F> ? F : never): MessageFacts =>
    factsAt({
      members: f.members,
      participation: resolveParticipation({ mode: f.mode, cooldownSeconds: f.cooldownSeconds }),
      mayAnswer: f.mayAnswer,
      learnsByRule: f.learnsByRule,
      callsPerMinute: f.callsPerMinute,
      agents: [BOT, OWNER],
    });

  test.prop([fc.array(message, { maxLength: 40 }), facts])(
    "no plan answers, learns from or forgets by a message of its own",
    (messages, f) => {
      const own = messages.map((m) => ({ ...m, senderInboxId: SELF }));
      expect(run(own, factsOf(f)).plans.every((p) => p.kind === "ignore")).toBe(true);
    },
  );

  test.prop([fc.array(message, { maxLength: 40 }), facts])(
    "a paused agent never plans a model call for anyone's message",
    (messages, f) => {
      const paused = factsOf({ ...f, mode: ParticipationMode.PAUSED });
      expect(run(messages, paused).plans.map(modelCalls)).toEqual(messages.map(() => 0));
    },
  );

  test.prop([fc.array(message, { maxLength: 120 }), facts])(
    "no minute holds more answers than the budget, and a refused message is never learned from",
    (messages, f) => {
      const r = factsOf(f);
      const { plans, pace } = run(messages, r);
      if (r.callsPerMinute > 0) expect(pace.spent.length).toBeLessThanOrEqual(r.callsPerMinute);
      for (const p of plans) if (p.kind === "text" && p.answer.kind === "refused") expect(p.learn).toBe("none");
    },
  );

  const threaded = fc.array(
    fc.record({
      senderInboxId: sender,
      text: fc.constantFrom("hi", "Tabby, hi"),
      replyTo: fc.option(fc.nat(40), { nil: undefined }),
    }),
    { maxLength: 40 },
  );
  test.prop([threaded, facts])(
    "answers an agent at most once per person's text, and never an agent's reply to it",
    (drawn, f) => {
      // Ids by position; a reply names an earlier message and its sender.
      const messages = drawn.map((m, i): Message => {
        const to = m.replyTo !== undefined && m.replyTo < i ? m.replyTo : undefined;
        return {
          senderInboxId: m.senderInboxId,
          text: m.text,
          id: `m${i}`,
          ...(to !== undefined ? { replyTo: `m${to}`, replyToSender: drawn[to]!.senderInboxId } : {}),
        };
      });
      const r = factsOf(f);
      const { plans } = run(messages, r);
      const person = (s: string) => s !== SELF && s !== BOT;
      const origin = new Map<string, string>();
      let last = "";
      const answeredFor = new Map<string, number>();
      messages.forEach((m, i) => {
        const o = person(m.senderInboxId) ? m.id! : ((m.replyTo && origin.get(m.replyTo)) ?? last);
        origin.set(m.id!, o);
        if (person(m.senderInboxId)) last = m.id!;
        if (plans[i]!.kind !== "text" || m.senderInboxId !== BOT) return;
        expect(m.replyToSender).not.toBe(SELF);
        answeredFor.set(o, (answeredFor.get(o) ?? 0) + 1);
        expect(answeredFor.get(o)).toBe(1);
      });
    },
  );

  test.prop([fc.array(message, { maxLength: 60 }), facts])(
    `never answers more than ${MAX_AGENT_CHAIN} agents in a row, and never learns from one`,
    (messages, f) => {
      const { plans } = run(messages, factsOf(f));
      let chain = 0;
      messages.forEach((m, i) => {
        const p = plans[i]!;
        const agent = m.senderInboxId === BOT;
        if (p.kind === "text" && agent) {
          chain++;
          expect(p.learn).toBe("none");
          expect(p.forget).toBe(false);
        } else if (m.text !== undefined && m.senderInboxId !== SELF && !agent) chain = 0;
        expect(chain).toBeLessThanOrEqual(MAX_AGENT_CHAIN);
      });
    },
  );
});

describe("two agents of one template in one conversation", () => {
  const A = "aaaa".padEnd(64, "0");
  const B = "bbbb".padEnd(64, "0");
  // Both answer every text they plan a turn for, naming themselves, as a reply (a group of three).
  test.prop([fc.array(fc.boolean(), { minLength: 1, maxLength: 30 })])(
    `one person's "Trip Planner, hello!" draws one answer from each and at most one more each, in any order`,
    (order) => {
      const agents = [A, B].map((self) => ({
        self,
        pace: NO_PACE,
        facts: factsAt({ self, agentName: "Trip Planner", agents: [A, B], members: 3, ownerId: PERSON }),
        inbox: [] as Message[],
      }));
      const said: Message[] = [];
      const post = (m: Message) => {
        said.push(m);
        for (const a of agents) a.inbox.push(m);
      };
      post(text(PERSON, "Trip Planner, hello!", { id: "m0" }));
      let step = 0;
      // Each step one agent (drawn) reads its next message; a turn posts its answer to every inbox.
      while (agents.some((a) => a.inbox.length > 0) && step < 200) {
        const drawn = agents[order[step % order.length] ? 0 : 1]!;
        const a = drawn.inbox.length > 0 ? drawn : agents.find((x) => x.inbox.length > 0)!;
        step++;
        const m = a.inbox.shift()!;
        const { plan, pace } = planMessage(m, { ...a.facts, pace: a.pace });
        a.pace = pace;
        if (plan.kind === "text" && plan.answer.kind === "turn")
          post(
            text(a.self, "Hello! I am Trip Planner.", {
              id: `x${said.length}`,
              replyTo: m.id,
              replyToSender: m.senderInboxId,
            }),
          );
      }
      const fromAgents = said.filter((m) => m.senderInboxId !== PERSON);
      expect(
        fromAgents
          .filter((m) => m.replyTo === "m0")
          .map((m) => m.senderInboxId)
          .sort(),
      ).toEqual([A, B]);
      expect(fromAgents.length).toBeLessThanOrEqual(4);
      for (const who of [A, B]) expect(fromAgents.filter((m) => m.senderInboxId === who).length).toBeLessThanOrEqual(2);
    },
  );
});

describe("what can you do here?", () => {
  it("is answered with the pool's statement, not a turn, for the owner and a member alike", () => {
    for (const who of [OWNER, PERSON]) {
      expect(planMessage(text(who, "What can you do here?"), factsAt()).plan).toEqual({ kind: "statement" });
    }
  });

  it("is not answered when its participation says not this one (a quiet mention-only group)", () => {
    const r = factsAt({ members: 5, participation: mode(ParticipationMode.MENTION) });
    expect(planMessage(text(PERSON, "what are you allowed to do"), r).plan.kind).toBe("quiet");
  });

  it("is another agent's question answered as any of its texts, not with the statement", () => {
    expect(planMessage(text(BOT, "what can you do here?"), factsAt()).plan.kind).not.toBe("statement");
  });
});

/** A message as the stream hands it over: plain fields, no client. */
const arriving = (senderInboxId: string, over: Partial<AgentMessage> = {}): AgentMessage =>
  ({
    id: `m-${senderInboxId.slice(0, 4)}`,
    senderInboxId,
    sentAtNs: 1n,
    contentType: { authorityId: "xmtp.org", typeId: "text" },
    content: "dinner at 8?",
    ...over,
  }) as unknown as AgentMessage;

describe("a message read once as it arrives (arrive)", () => {
  const facts = { self: SELF, ownerId: OWNER, mayAnswer: true };

  it("reads a text once, plans it and says whose standing its turn waits in: a member's counts against their share, the owner's and its own do not", () => {
    const member = arrive(arriving(PERSON), facts);
    expect(member).toMatchObject({ plan: { kind: "queue" }, standing: "member", counted: true });
    expect(member.read.message).toMatchObject({ senderInboxId: PERSON, text: "dinner at 8?", reaction: false });
    expect(arrive(arriving(OWNER), facts)).toMatchObject({ standing: "owner", counted: false });
    expect(arrive(arriving(SELF), facts)).toMatchObject({ standing: "owner", counted: false });
  });

  it("counts neither what a catch-up only learns from nor what is no text", () => {
    expect(arrive(arriving(PERSON), { ...facts, mayAnswer: false })).toMatchObject({
      standing: "member",
      counted: false,
    });
    const reaction = arriving(PERSON, {
      contentType: { authorityId: "xmtp.org", typeId: "reaction" } as never,
      content: { action: 1, reference: "a1", content: "👍", schema: 1 },
    });
    const read = arrive(reaction, facts);
    expect(read).toMatchObject({ standing: "member", counted: false });
    expect(read.read.arriving).toEqual({ senderInboxId: PERSON, reaction: { to: "a1", emoji: "👍" } });
  });

  it("plans the owner's reply as an offer to the waiting question, as planArrival does", () => {
    const reply = arrive(arriving(OWNER, { content: "yes", replyTo: "q1" } as Partial<AgentMessage>), facts);
    expect(reply.plan).toEqual({ kind: "offer", answer: { kind: "reply", to: "q1", text: "yes" } });
  });
});

describe("who is who brought up to a message's profiles before its plan (planMessage with told)", () => {
  it("applies the profiles on a copy, plans with the agents they leave, and hands back who is who to keep", () => {
    const names = { [PERSON]: "Ana" };
    const agents = [BOT];
    const told = { names, profiled: [], profiles: [{ inboxId: PERSON, name: "Ana B", agent: true }] };
    const planned = planMessage(text(PERSON, "hello everyone"), factsAt({ agents }), told);
    expect(planned.who).toEqual({ names: { [PERSON]: "Ana B" }, agents: [BOT, PERSON], profiled: [PERSON] });
    // Another agent now: its text is planned as an agent's, not a person's (none of the day's people, nothing learned).
    expect(planned.plan).toMatchObject({ kind: "text", person: false, learn: "none" });
    expect(planMessage(text(PERSON, "hello everyone"), factsAt({ agents })).plan).toMatchObject({ person: true });
    expect(names).toEqual({ [PERSON]: "Ana" });
    expect(agents).toEqual([BOT]);
  });

  it("hands back nothing to keep when the profiles change nothing, and plans as without them", () => {
    const told = {
      names: { [PERSON]: "Ana" },
      profiled: [PERSON],
      profiles: [{ inboxId: PERSON, name: "Ana", agent: false }],
    };
    const m = text(PERSON, "Tabby, what time is dinner?");
    const planned = planMessage(m, factsAt(), told);
    expect(planned.who).toBeUndefined();
    expect(planned).toEqual(planMessage(m, factsAt()));
  });

  it("never takes its own profile from a message", () => {
    const told = { names: {}, profiled: [], profiles: [{ inboxId: SELF, name: "Someone else", agent: false }] };
    expect(planMessage(text(PERSON, "hi"), factsAt(), told).who).toBeUndefined();
  });
});

describe("a person's pause, and only the owner's resume (planArrival, planMessage)", () => {
  const facts = { self: SELF, ownerId: OWNER, mayAnswer: true, agents: [BOT], agentName: "Tabby" };
  const said = (senderInboxId: string, text: string, over: Partial<Arriving> = {}) => ({
    senderInboxId,
    text,
    ...over,
  });
  const paused = { ...facts, memberPause: { toldOnlyOwner: false } };

  it("pauses on a person's whole stop or pause, its name said first aside, whoever they are but an agent", () => {
    const asks = [
      "stop",
      "Stop!",
      "  PAUSE. ",
      "@Tabby stop",
      "Tabby, pause",
      "hey tabby stop",
      "stop talking",
      "Be quiet",
      "please  stop",
      "🛑",
    ];
    for (const sender of [PERSON, OWNER, CREATOR])
      for (const t of asks)
        expect(planArrival(said(sender, t), facts), `${t} from ${sender}`).toEqual({ kind: "pause" });
    expect([...PAUSE_WORDS].every((w) => asksToPause(w))).toBe(true);
  });

  it("does not pause on a sentence that merely holds the word", () => {
    const sentences = [
      "don't stop the music",
      "where is the bus stop?",
      "stop by the bakery",
      "pause the film at the end",
      "Tabby, can we stop for lunch?",
      "the next stop",
      "stop stop",
      "stopped",
      "unstoppable",
      "",
    ];
    for (const t of sentences) {
      expect(asksToPause(t, "Tabby"), t).toBe(false);
      expect(planArrival(said(PERSON, t), facts).kind, t).toBe("queue");
    }
  });

  it("is not paused by another agent's stop, nor by its own words", () => {
    expect(planArrival(said(BOT, "stop"), facts)).toEqual({ kind: "queue" });
    expect(planArrival(said(BOT, "@Tabby pause"), facts)).toEqual({ kind: "queue" });
    expect(planArrival(said(SELF, "stop"), facts)).toEqual({ kind: "queue" });
  });

  it("pauses on a stop in reply to anything but what it is thinking about; in reply to that, only that turn stops", () => {
    const thinking = { ...facts, thinkingAbout: new Set(["m1"]) };
    expect(planArrival(said(PERSON, "stop", { reply: { to: "m1", text: "stop" } }), thinking)).toEqual({
      kind: "stop",
      turn: "m1",
    });
    expect(planArrival(said(PERSON, "stop", { reply: { to: "a0", text: "stop" } }), thinking)).toEqual({
      kind: "pause",
    });
    expect(planArrival(said(PERSON, "pause"), thinking)).toEqual({ kind: "pause" });
  });

  it("pauses on a stop a catch-up reads, which it answers nothing to", () => {
    expect(planArrival(said(PERSON, "stop"), { ...facts, mayAnswer: false })).toEqual({ kind: "pause" });
  });

  it("says nothing again to a stop once paused, by a person or by its owner's setting", () => {
    expect(planArrival(said(PERSON, "stop"), paused)).toEqual({ kind: "queue" });
    expect(planArrival(said(OWNER, "pause"), { ...facts, pausedByOwner: true })).toEqual({ kind: "queue" });
  });

  it("resumes on the owner's resume alone; a member's is told once that only the owner can; an agent's is nothing", () => {
    for (const t of ["resume", "Unpause!", "start again", "@Tabby resume", "Tabby, please resume"])
      expect(planArrival(said(OWNER, t), paused), t).toEqual({ kind: "resume" });
    expect(planArrival(said(PERSON, "resume"), paused)).toEqual({ kind: "only-owner-resumes" });
    expect(planArrival(said(CREATOR, "unpause"), paused)).toEqual({ kind: "only-owner-resumes" });
    expect(planArrival(said(PERSON, "resume"), { ...facts, memberPause: { toldOnlyOwner: true } })).toEqual({
      kind: "queue",
    });
    expect(planArrival(said(PERSON, "resume"), { ...paused, mayAnswer: false })).toEqual({ kind: "queue" });
    expect(planArrival(said(BOT, "resume"), paused)).toEqual({ kind: "queue" });
    expect(planArrival(said(SELF, "resume"), paused)).toEqual({ kind: "queue" });
  });

  it("reads resume as an ordinary message when no person paused it (its owner's paused setting is changed where it was signed)", () => {
    expect(planArrival(said(OWNER, "resume"), facts)).toEqual({ kind: "queue" });
    expect(planArrival(said(OWNER, "resume"), { ...facts, pausedByOwner: true })).toEqual({ kind: "queue" });
    expect(planArrival(said(OWNER, "please resume the list"), paused)).toEqual({ kind: "queue" });
    expect(asksToResume("resume")).toBe(true);
  });

  it("reads a message's whole text as it arrives, reply or not (arrive)", () => {
    expect(arrive(arriving(PERSON, { content: "stop" }), facts).plan).toEqual({
      kind: "pause",
    });
    const reply = arrive(arriving(PERSON, { content: "Pause!", replyTo: "a1" } as Partial<AgentMessage>), facts);
    expect(reply.plan).toEqual({ kind: "pause" });
    expect(arrive(arriving(OWNER, { content: "resume" }), paused).plan).toEqual({
      kind: "resume",
    });
  });

  it("answers nothing while a person's pause holds, whatever its owner set; a reaction on its message is still learned", () => {
    const held = factsAt({ memberPaused: true, participation: mode(ParticipationMode.SPEAK) });
    for (const m of [text(PERSON, "Tabby, hello"), text(OWNER, "plan dinner"), text(CREATOR, "Tabby?")])
      expect(planMessage(m, held).plan, m.text).toEqual({ kind: "quiet" });
    expect(planMessage(reaction(PERSON), held).plan).toEqual({ kind: "reaction" });
    expect(planMessage(text(OWNER, "plan dinner"), factsAt({ memberPaused: false })).plan.kind).toBe("text");
  });

  it("still tells a person what it may do here while a person's pause holds, when its owner's setting would have it answer", () => {
    const held = factsAt({ memberPaused: true });
    const asks = "what can you do here?";
    expect(planMessage(text(PERSON, asks), held).plan).toEqual({ kind: "statement" });
    // In a group it waits to be named, as its owner set; named, it tells.
    const group = factsAt({ memberPaused: true, members: 4, participation: mode(ParticipationMode.MENTION) });
    expect(planMessage(text(PERSON, asks), group).plan).toEqual({ kind: "quiet" });
    expect(planMessage(text(PERSON, `Tabby, ${asks}`), group).plan).toEqual({ kind: "statement" });
    // Not to another agent, not for a catch-up's older message, not when its owner paused it.
    expect(planMessage(text(BOT, `Tabby, ${asks}`), held).plan.kind).not.toBe("statement");
    expect(planMessage(text(PERSON, asks), { ...held, mayAnswer: false }).plan).toEqual({ kind: "quiet" });
    const ownerPaused = factsAt({ memberPaused: true, participation: mode(ParticipationMode.PAUSED) });
    expect(planMessage(text(PERSON, asks), ownerPaused).plan).toEqual({ kind: "quiet" });
  });

  it("takes a member for an agent from the profile that arrived last, before its turn applies it: that agent's stop pauses nothing", () => {
    const announced = new Map([
      [PERSON, true],
      [BOT, false],
    ]);
    expect(agentsOnArrival([BOT], announced)).toEqual([PERSON]);
    expect(agentsOnArrival([BOT], new Map())).toEqual([BOT]);
    expect(planArrival(said(PERSON, "stop"), { ...facts, agents: agentsOnArrival([], announced) })).toEqual({
      kind: "queue",
    });
    // Read as it arrives (arrive), the profile says who its sender is.
    const profile = arriving(PERSON, {
      contentType: { authorityId: "convos.org", typeId: "profile_update" } as never,
      content: { name: "Scout", memberKind: MemberKind.AGENT },
    });
    expect(arrive(profile, facts).read.profiles).toEqual([{ inboxId: PERSON, name: "Scout", agent: true }]);
  });
});
