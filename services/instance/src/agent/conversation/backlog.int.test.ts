// An agent behind on its turns (agent/turns/backlog.ts; docs/instance.md,
// "When the pool is busy"), on the real stack (FloodedConversation,
// @convos-pool/instance/testing/flood): the local XMTP node (real
// PostgreSQL), an instance host, its owner and two members who are people
// (plain @xmtp/node-sdk clients). Stand-in: the model, which holds the first
// member's turn until the test lets it go, so that what waits behind it is
// known without timing: every other message waits at least ANSWER_WITHIN.
// What must hold: each member is told once that it is busy (not once a
// message), the owner is answered, and every member's message gets either
// its answer or an honest "I could not get to this": none is left unsaid,
// none answered twice.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing";
import { FloodedConversation, OWNER_ANSWER } from "@convos-pool/instance/testing/flood";
import { BUSY_ANSWER_SHORTLY, COULD_NOT_GET_TO_THIS } from "../turns/backlog.js";

/** A member's message that waited longer than this is not answered; the held turn makes all but the first wait longer. */
const ANSWER_WITHIN_MS = 2_000;
const HOLD = "Concierge, hold on to this one";
const ANSWER = "Here is a fact for you.";

let release: () => void = () => undefined;
const held = new Promise<void>((r) => {
  release = r;
});
let holding = false;

const flooded = new FloodedConversation({
  name: "instance-backlog",
  modelMs: 50,
  callsPerMinute: 0,
  answerWithinMs: ANSWER_WITHIN_MS,
  answer: async (text) => {
    if (!text.includes(HOLD)) return undefined;
    holding = true;
    await held;
    return undefined;
  },
});

beforeAll(() => flooded.start(), 120_000);
afterAll(() => {
  release();
  return flooded.close();
});

describe("an agent offered more turns than it can answer in time", () => {
  it("tells each member once that it is busy, answers its owner, and answers or honestly declines every member's message", {
    timeout: 120_000,
  }, async () => {
    const [ana, bob] = flooded.members as [(typeof flooded.members)[0], (typeof flooded.members)[0]];
    const count = async (text: string) => (await flooded.said()).filter((m) => m.text === text).length;
    await ana.send(flooded.groupId, HOLD);
    await waitFor("the first turn held in the model", async () => holding, 30_000, 50);
    // Behind the held turn, in turn: Bob's (none waiting ahead), Bob's (one), Ana's (two: told), Bob's (three:
    // told), Ana's (told already). Each send is awaited, so the agent reads them in this order.
    const senders = [bob, bob, ana, bob, ana];
    for (const [i, p] of senders.entries()) await p.send(flooded.groupId, `Concierge, a fact please (${i})`);
    await waitFor("each member told once", async () => (await count(BUSY_ANSWER_SHORTLY)) === 2, 30_000, 100);
    // The owner asks too, and goes first once the held turn ends.
    const asked = flooded.ownerAsks(60_000);
    // Every waiting message now waits past ANSWER_WITHIN_MS, whatever the machine's pace.
    await sleep(ANSWER_WITHIN_MS + 500);
    release();
    await asked;
    await waitFor(
      "every member's message had its reply",
      async () => (await count(COULD_NOT_GET_TO_THIS)) === 5,
      60_000,
      100,
    );
    await flooded.settled();
    expect(await count(BUSY_ANSWER_SHORTLY)).toBe(2);
    expect(await count(ANSWER)).toBe(1);
    expect(await count(COULD_NOT_GET_TO_THIS)).toBe(5);
    expect(await count(OWNER_ANSWER)).toBe(1);
  });
});
