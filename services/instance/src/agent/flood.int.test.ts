// The owner is never queued behind others (agent/turn-queue.ts, serial.ts
// Turns; docs/instance.md "Whose turn comes next"): the local XMTP node (real
// PostgreSQL), an instance host with an agent that holds a phone number on
// the local SMS stand-in, joined through a real invite to its owner's
// conversation (OneHost: the owner an @xmtp/node-sdk client). Two members
// are people as the Convos app shows them: plain @xmtp/node-sdk clients the
// owner adds, which never declare themselves agents (the Convos CLI always
// does, and then meets the rules for agents instead). An outsider texts the
// agent's number through the stand-in and the host's signed webhook. The
// model is a stand-in that takes MODEL_MS for every call (an answer, a
// lesson), so each member's turn costs about two of them.
// What must hold, with the flood going on: the owner's question is answered
// within a few model-answer times (first come, first served, it waited for
// every member's turn queued before it); a member past their share is told
// once; and a member's request waiting for the owner's approval holds up
// neither the owner nor anyone else, while the owner's 👍 on the question
// still approves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "@convos-pool/testing";
import { tool } from "@convos-pool/kit/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { startCreator } from "@convos-pool/convos/testing";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import { instanceCall } from "../host/host.js";
import { EXTRACTION_PROMPT } from "../memory/store.js";
import { TOO_MANY_WAITING } from "./turn-queue.js";

/** What every model call takes. */
const MODEL_MS = 400;
/** The owner's answer must come within this: a few model calls, plus XMTP's round trips on a busy machine. */
const OWNER_BOUND_MS = 6_000;
const AGENT_NUMBER = "+15550100045";
const FRIEND = "+15550188045";
const OWNER_QUESTION = "Concierge, when is checkout?";
const OWNER_ANSWER = "Checkout is at noon.";

let chat: ChatServer | undefined;
let sms: LocalSms | undefined;
let one: OneHost | undefined;
const people: Creator[] = [];

beforeAll(async () => {
  sms = await startLocalSms();
  chat = await startChatServer(async (req) => {
    await sleep(MODEL_MS);
    const system = req.body.messages[0]?.content ?? "";
    const last = req.body.messages.at(-1);
    if (system.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (last?.role === "tool") return "Done, or not: see above.";
    const text = last?.content ?? "";
    if (text.includes("A text message came to your number")) return "A text came to my number.";
    if (text.includes("please text my friend") && req.body.tools)
      return { toolCalls: [{ name: "send_sms", arguments: { to: FRIEND, text: "Ana says hello" } }] };
    if (text.includes(OWNER_QUESTION)) return OWNER_ANSWER;
    return "Here is a fact for you.";
  });
  one = new OneHost({
    name: "instance-flood",
    host: {
      joinTimeoutMs: 20_000,
      llm: { baseUrl: chat.baseUrl, apiKey: "sk-test", model: "m" },
      tools: {
        sms: { apiUrl: sms.url, apiKey: sms.apiKey, webhookPublicKey: sms.webhookPublicKey, webhookPort: 0 },
        approvalTimeoutMs: 120_000,
      },
    },
    content: { instructions: "You answer.", tools: [tool("sms", "pool")] },
  });
  await one.start();
  for (const name of ["ana", "bob"]) {
    await mkdir(join(one.dir, name));
    people.push(await startCreator(one.node.url, join(one.dir, name)));
  }
}, 120_000);

afterAll(async () => {
  for (const p of people) await p.close();
  await one?.close();
  await chat?.close();
  await sms?.close();
});

describe("an agent flooded by two members and an outsider", () => {
  it("answers its owner within a few model calls, tells a member past their share once, and lets nobody wait on an approval", {
    timeout: 240_000,
  }, async () => {
    const owner = one!.creator!;
    const [ana, bob] = people as [Creator, Creator];
    const { inboxId } = await one!.hostRpc.client.startInstance({ instanceId: "flooded", walletIndex: 0 });
    await one!.rpc.client.configure(
      { template: await one!.release(2n), ownerId: owner.inboxId, tools: [{ toolId: "sms", handle: AGENT_NUMBER }] },
      instanceCall("flooded"),
    );
    const conv = await owner.conversation("Flood");
    await one!.rpc.client.joinConversation(
      { conversationInvite: conv.invite },
      { ...instanceCall("flooded"), timeoutMs: 30_000 },
    );
    await owner.group(conv.groupId)!.addMembers([ana.inboxId, bob.inboxId]);
    const said = async () => (await owner.transcript(conv.groupId)).filter((m) => m.from === inboxId);
    /** The owner asks, and how long until the agent's answer to it is in the conversation. */
    const ownerAsks = async (): Promise<number> => {
      const before = (await said()).filter((m) => m.text === OWNER_ANSWER).length;
      const t0 = performance.now();
      await owner.send(conv.groupId, OWNER_QUESTION);
      await waitFor(
        "the owner's answer",
        async () => (await said()).filter((m) => m.text === OWNER_ANSWER).length > before,
        60_000,
        100,
      );
      return performance.now() - t0;
    };

    // Ana asks for something only the owner may approve: the question waits, unanswered, while everything goes on.
    await ana.send(conv.groupId, "Concierge, please text my friend that I said hello");
    await waitFor(
      "the approval question",
      async () => (await said()).some((m) => /may I do this\?/.test(m.text)),
      30_000,
      200,
    );
    const question = (await said()).find((m) => /may I do this\?/.test(m.text))!;

    // The flood: both members name the agent as fast as they can send, and strangers text its number.
    let flooding = true;
    const member = async (p: Creator, who: string) => {
      for (let i = 0; flooding; i++) await p.send(conv.groupId, `Concierge, ${who} wants fact ${i}`);
    };
    const outsider = async () => {
      for (let i = 0; flooding; i++) {
        await sms!.phone(`+155501990${i % 10}`).send(AGENT_NUMBER, `stranger's text ${i}`);
        await sleep(200);
      }
    };
    const floods = [member(ana, "ana"), member(bob, "bob"), outsider()];
    // Well into it: members' turns queued, each a couple of model calls long.
    await waitFor("the members' turns under way", async () => chat!.requests.length >= 6, 30_000, 50);
    await sleep(2_000);
    const waited = await ownerAsks();
    flooding = false;
    await Promise.all(floods);
    console.log("DIAG", { waited, requests: chat!.requests.length, said: (await said()).length });
    expect(waited).toBeLessThan(OWNER_BOUND_MS);

    // Past their share, a member is told once (not once a message), in reply to the message left unanswered.
    const transcript = await said();
    expect(transcript.filter((m) => m.text === TOO_MANY_WAITING).length).toBeGreaterThanOrEqual(1);
    expect(transcript.filter((m) => m.text === TOO_MANY_WAITING).length).toBeLessThanOrEqual(2);

    // The question still waits, bound to its message: the owner's 👍 on it approves, and the text goes out.
    expect(sms!.phone(FRIEND).messages()).toEqual([]);
    // ReactionAction.Added, ReactionSchema.Unicode (const enums of the bindings).
    await owner.group(conv.groupId)!.sendReaction({
      reference: question.id,
      referenceInboxId: inboxId,
      action: 1,
      content: "👍",
      schema: 1,
    });
    await waitFor("the approved text", async () => sms!.phone(FRIEND).messages().length === 1, 60_000, 200);
  });
});
