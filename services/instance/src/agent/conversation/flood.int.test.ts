// The owner is never queued behind others (agent/turns/queue.ts, turns/serial.ts
// Turns; docs/instance.md "Whose turn comes next"), on the real stack
// (FloodedConversation, @convos-pool/instance/testing/flood): the local XMTP node
// (real PostgreSQL), an instance host whose agent holds a number on the
// local SMS stand-in, its owner and two members who are people (plain
// @xmtp/node-sdk clients that never declare themselves agents), outsiders
// texting its number through the stand-in and the host's signed webhook, and
// a model stand-in that takes MODEL_MS a call.
// What must hold: with the flood going on, the owner's question is answered
// within a few model calls (first come, first served, it waited for every
// member's turn queued before it); a member past their share is told once,
// not once a message; and a member's request waiting for the owner's
// approval holds up neither the owner nor the other member, while the
// owner's 👍 on that question still approves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing";
import { FloodedConversation, FRIEND, TEXT_MY_FRIEND } from "@convos-pool/instance/testing/flood";
import { TOO_MANY_WAITING } from "../turns/queue.js";

/** What every model call takes. */
const MODEL_MS = 400;
/** The owner's answer must come within this: a few model calls, plus XMTP's round trips on a busy machine. */
const OWNER_BOUND_MS = 6_000;

const flooded = new FloodedConversation({ name: "instance-flood", modelMs: MODEL_MS });

beforeAll(() => flooded.start(), 120_000);
afterAll(() => flooded.close());

describe("an agent flooded by two members who are people and by outsiders", () => {
  it("answers its owner within a few model calls while the flood goes on, and tells each member past their share once", {
    timeout: 120_000,
  }, async () => {
    const flood = flooded.flood();
    // Well into it: members' turns queued, each a couple of model calls long.
    await waitFor("the members' turns under way", async () => flooded.chat.requests.length >= 6, 30_000, 50);
    const waited = await flooded.ownerAsks(30_000);
    await flood.stop();
    expect(waited).toBeLessThan(OWNER_BOUND_MS);
    const told = (await flooded.said()).filter((m) => m.text === TOO_MANY_WAITING);
    expect(told.length).toBeGreaterThanOrEqual(1);
    expect(told.length).toBeLessThanOrEqual(flooded.members.length);
    await flooded.settled();
  });

  it("lets the owner and the other member be answered while a member's request waits for the owner's approval, which the owner's 👍 still gives", {
    timeout: 120_000,
  }, async () => {
    const [ana, bob] = flooded.members as [(typeof flooded.members)[0], (typeof flooded.members)[0]];
    const questions = async () => (await flooded.said()).filter((m) => /may I do this\?/.test(m.text));
    await ana.send(flooded.groupId, TEXT_MY_FRIEND);
    await waitFor("the approval question", async () => (await questions()).length === 1, 30_000, 100);
    const [question] = await questions();

    expect(await flooded.ownerAsks(30_000)).toBeLessThan(OWNER_BOUND_MS);
    const before = (await flooded.said()).length;
    await bob.send(flooded.groupId, "Concierge, a fact please");
    await waitFor("Bob's answer", async () => (await flooded.said()).length > before, 30_000, 100);

    // The question still waits, bound to its message: the owner's 👍 on it approves, and the text goes out.
    expect(flooded.sms.phone(FRIEND).messages()).toEqual([]);
    // ReactionAction.Added, ReactionSchema.Unicode (const enums of the bindings).
    await flooded.owner.group(flooded.groupId)!.sendReaction({
      reference: question!.id,
      referenceInboxId: flooded.agentInbox,
      action: 1,
      content: "👍",
      schema: 1,
    });
    await waitFor("the approved text", async () => flooded.sms.phone(FRIEND).messages().length === 1, 30_000, 200);
  });
});
