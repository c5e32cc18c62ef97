// How far the agent has read survives a host restart with a member's
// message still waiting (agent/conversation/read-mark.ts; docs/instance.md, "How far it
// has read"), on the real stack (FloodedConversation,
// @convos-pool/instance/testing/flood): the local XMTP node (real
// PostgreSQL), an instance host stopped and started again on its data
// directory, its owner and a member who is a person (a plain
// @xmtp/node-sdk client), and a model stand-in that holds the owner's turns
// until the test lets them go.
// What must hold: the owner's newer message overtakes the member's; the
// host stops while the member's waits; after the start the member is
// answered, once, and the owner's answered message is not answered again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "@convos-pool/testing";
import { FloodedConversation } from "@convos-pool/instance/testing/flood";

const FIRST = "Concierge, first question of the owner";
const SECOND = "Concierge, second question of the owner";
const ANAS = "Concierge, Ana's question";
const ANSWERS: Record<string, string> = {
  [FIRST]: "The first answer.",
  [SECOND]: "The second answer.",
  [ANAS]: "Ana's answer.",
};

/** Turns held until the test lets them go, by their text; each holds only its first call. */
const holds = new Map<string, { released: Promise<void>; release: () => void; used: boolean }>();
function hold(text: string): () => void {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  holds.set(text, { released, release, used: false });
  return release;
}

const flooded = new FloodedConversation({
  name: "instance-read-mark",
  modelMs: 50,
  answer: async (text) => {
    const asked = Object.keys(ANSWERS).find((q) => text.includes(q));
    if (!asked) return undefined;
    const held = holds.get(asked);
    if (held && !held.used) {
      held.used = true;
      await held.released;
    }
    return ANSWERS[asked];
  },
});

beforeAll(() => flooded.start(), 120_000);
afterAll(() => flooded.close());

/** The model's calls for turns that answer `q` (its text the newest line, a lesson's excepted). */
function turnsFor(q: string): number {
  return flooded.chat.requests.filter((r) => {
    const last = r.body.messages.at(-1);
    return last?.role === "user" && String(last.content).includes(q) && r.body.messages.length > 1;
  }).length;
}

describe("a member's message overtaken by the owner's, when the host stops while it waits", () => {
  it("is answered once after the start, and the owner's answered message is not answered again", {
    timeout: 120_000,
  }, async () => {
    const [ana] = flooded.members as [(typeof flooded.members)[0]];
    const releaseFirst = hold(FIRST);
    const releaseSecond = hold(SECOND);
    await flooded.owner.send(flooded.groupId, FIRST);
    await waitFor("the owner's first turn under way", async () => turnsFor(FIRST) === 1, 30_000, 50);
    // While it runs, Ana asks, then the owner: the owner's goes first.
    await ana.send(flooded.groupId, ANAS);
    await sleep(1_500);
    await flooded.owner.send(flooded.groupId, SECOND);
    await sleep(1_500);
    releaseFirst();
    await waitFor("the owner's second turn under way", async () => turnsFor(SECOND) === 1, 30_000, 50);
    // Ana's still waits: the host stops now.
    expect(turnsFor(ANAS)).toBe(0);
    await flooded.one.host.close();
    releaseSecond();

    await flooded.one.startHost();
    const said = async (text: string) => (await flooded.said()).filter((m) => m.text === text).length;
    await waitFor("Ana's answer", async () => (await said(ANSWERS[ANAS]!)) >= 1, 60_000, 200);
    await waitFor("the owner's second answer", async () => (await said(ANSWERS[SECOND]!)) >= 1, 60_000, 200);
    await flooded.settled();
    // Time for a second answer to come, were one on its way.
    await sleep(2_000);
    await flooded.settled();
    expect(await said(ANSWERS[ANAS]!)).toBe(1);
    expect(await said(ANSWERS[FIRST]!)).toBe(1);
    expect(await said(ANSWERS[SECOND]!)).toBe(1);
    expect(turnsFor(FIRST)).toBe(1);
  });
});
