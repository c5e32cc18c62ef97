// The offline model and people's phones (offline.ts), in memory: a question
// about the requester's calendar answered from the section of the turn's
// context that connections/prompt.ts phoneContext writes (the real one
// here), so that `npm start` shows the pool withholding it without a model.
// And what it recalls in one conversation of an agent in two: the view it is
// given (memory/walls.ts), real.
import { describe, expect, it } from "vitest";
import { phoneContext } from "../connections/prompt.js";
import type { Piece } from "../connections/shares.js";
import { feedbackEntry } from "../memory/feedback.js";
import { Memory } from "../memory/store.js";
import { memoryIn } from "../memory/walls.js";
import { calendarAnswer, calendarQuestion, OFFLINE_LABEL, OfflineProvider } from "./offline.js";
import type { TurnInput } from "./turn.js";

const piece = (kind: string, data: unknown): Piece => ({
  from: "ana-inbox",
  kind,
  summary: `${kind} of Ana's`,
  data: JSON.stringify(data),
  sources: { texts: [], coords: [] },
  parts: { words: new Set(), digits: [], coords: [] },
  capturedAt: new Date("2026-11-28T12:00:00Z"),
});
const CALENDAR = piece("calendar", {
  summary: "2 events on Friday",
  events: [
    { title: "Dentist appointment", startDate: "2026-12-04T10:00:00+00:00" },
    { title: "Board review with Kestrel" },
  ],
});

const turn = (text: string, phone?: string): TurnInput => ({
  model: "offline",
  agentName: "Planner",
  identity: "# Planner\n",
  context: ["## Where you are\n\nA group.", ...(phone ? [phone] : [])].join("\n\n"),
  memory: new Memory(),
  history: [{ role: "user", text, sender: "Ana", speaker: "member" }],
});

describe("the offline model on a question about a calendar", () => {
  const offline = new OfflineProvider();

  it("lists the titles the requester's phone shares in the turn's context, with their starts", async () => {
    const context = phoneContext("Ana", [piece("location", { summary: "Lisbon", title: "Home" }), CALENDAR]);
    const said = `${OFFLINE_LABEL} On your calendar, as your phone shares it: Dentist appointment (2026-12-04T10:00:00+00:00); Board review with Kestrel.`;
    expect(await offline.reply(turn("Planner, what is on my calendar?", context))).toBe(said);
    expect(await offline.reply(turn("am I free on Friday?", context))).toBe(said);
    expect(await offline.reply(turn("Planner, share my calendar with the group", context))).toBe(said);
  });

  it("sees no calendar in a turn whose requester's phone shares none, and says another's is not for it", async () => {
    expect(await offline.reply(turn("what is on my calendar?"))).toBe(
      `${OFFLINE_LABEL} I see no calendar here: in your turns I read only what your own phone shares with me, and it shares no calendar.`,
    );
    expect(await offline.reply(turn("Planner, what is on Ana's calendar?"))).toBe(
      `${OFFLINE_LABEL} I cannot tell you what is on Ana's calendar: in your turns I read only what your own phone shares with me.`,
    );
  });

  it("reads the titles that made it whole from data cut short", () => {
    const cut = phoneContext("Ana", [
      { ...CALENDAR, data: '{"events":[{"title":"Dentist \\"Mission\\""},{"title":"Board rev…' },
    ]);
    expect(calendarAnswer(cut ?? "")).toBe(
      `${OFFLINE_LABEL} On your calendar, as your phone shares it: Dentist "Mission".`,
    );
  });

  it.each([
    ["what is on my calendar?", "mine"],
    ["Am I free tomorrow", "mine"],
    ["tell everyone what my agenda is", "mine"],
    ["what is on Ana's calendar?", { name: "Ana" }],
    ["add the flight to my calendar", undefined],
    ["what a lovely day", undefined],
  ])("reads %j as a question about %j's calendar", (text, whose) => {
    expect(calendarQuestion(text)).toEqual(whose);
  });
});

describe("the offline model in one conversation of an agent in two", () => {
  const offline = new OfflineProvider();
  const OWNER = "0".repeat(64);
  const BEA = "b".repeat(64);
  const walls = { ownerId: OWNER, home: "conv-a" };
  const flight = `${OFFLINE_LABEL} From what I remember: your flight is AF123.`;
  const memory = new Memory();
  memory.add([
    { kind: "personalization", text: "my flight is AF123", role: "owner", from: OWNER, conversationId: "conv-a" },
    { kind: "personalization", text: "the door code is 4521", role: "member", from: BEA, conversationId: "conv-a" },
    // Bea marked its answer about the flight wrong, in A.
    { ...feedbackEntry("down", { messageId: "a-1", text: flight }, BEA), role: "member", conversationId: "conv-a" },
  ]);
  const askIn = (conversationId: string, text: string) =>
    offline.reply({ ...turn(text), memory: memoryIn(memory, conversationId, walls), role: "member" });

  it("recalls what its view holds: the owner's fact in B, and nothing a member said in A", async () => {
    expect(await askIn("conv-a", "what is the door code?")).toBe(
      `${OFFLINE_LABEL} From what I remember: the door code is 4521.`,
    );
    expect(await askIn("conv-b", "what is the door code?")).toMatch(/^\[offline model\] I don't know that yet\./);
  });

  it("a 👎 given in A holds back the answer in A alone", async () => {
    expect(await askIn("conv-a", "what is my flight?")).toMatch(
      /^\[offline model\] I was told that what I answered to this before was wrong/,
    );
    expect(await askIn("conv-b", "what is my flight?")).toBe(flight);
  });
});
