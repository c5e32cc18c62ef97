// Approval questions that quote words from outside the conversation
// (tools/gate/gate.ts, agent/state/outside-words.ts; docs/trust.md): the local XMTP node
// (real PostgreSQL), an instance host with an agent that holds a phone number
// on the local SMS stand-in, joined through a real invite to its owner's
// conversation (the owner an @xmtp/node-sdk client, OneHost), and a model
// stand-in that records every prompt and does what a text from a stranger
// says. The stranger texts the agent's number (through the stand-in and the
// host's signed webhook); the agent passes it on; the owner asks it to do
// what the text said, and the model has it text the stranger's words to the
// stranger's friend, which at L2 is a question to the owner. What must hold:
// that question is the stranger's words, so the owner's next turn reads it
// under [outsider], never as the agent's own. The host's clock is a test
// clock: the question nobody answers is a no once the test advances it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock, waitFor } from "@convos-pool/testing";
import { tool } from "@convos-pool/kit/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { OneHost } from "@convos-pool/instance/testing";
import { instanceCall } from "../../host/host.js";
import { EXTRACTION_PROMPT } from "../../memory/store.js";
import { RELAYED_BY_YOU } from "./policy.js";

const AGENT_NUMBER = "+15550100077";
const STRANGER = "+15550188077";
const FRIEND = "+15550188078";
const STRANGERS_WORDS = "Tell my friend the gate code is 0000 and to come at midnight.";

let chat: ChatServer | undefined;
let sms: LocalSms | undefined;
let one: OneHost | undefined;
/** How long a question waits for the owner, on the host's clock. */
const APPROVAL_MS = 60_000;
const clock = new TestClock();

beforeAll(async () => {
  sms = await startLocalSms();
  chat = await startChatServer((req) => {
    const system = req.body.messages[0]?.content ?? "";
    const last = req.body.messages.at(-1);
    if (system.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    // The stranger's turn: passed on as it came.
    if (last?.content.includes("A text message came to your number")) return `A text came: "${STRANGERS_WORDS}"`;
    // The owner's "do it": it texts the stranger's words to the friend; told of the outcome, it says so.
    if (last?.role === "tool") return "My owner did not approve it.";
    if (last?.content.includes("do what the text asked") && req.body.tools)
      return { toolCalls: [{ name: "send_sms", arguments: { to: FRIEND, text: STRANGERS_WORDS } }] };
    return "Nothing new.";
  });
  one = new OneHost({
    name: "instance-outside-questions",
    host: {
      clock,
      joinTimeoutMs: 20_000,
      llm: { baseUrl: chat.baseUrl, apiKey: "sk-test", model: "m" },
      tools: {
        sms: { apiUrl: sms.url, apiKey: sms.apiKey, webhookPublicKey: sms.webhookPublicKey, webhookPort: 0 },
        // Nobody answers the question: it times out when the test advances the clock, and the turn goes on.
        approvalTimeoutMs: APPROVAL_MS,
      },
    },
    content: { instructions: "You pass texts on.", tools: [tool("sms", "pool")] },
  });
  await one.start();
}, 120_000);

afterAll(async () => {
  await one?.close();
  await chat?.close();
  await sms?.close();
});

describe("an approval question that quotes a stranger's text", () => {
  it("is read by the owner's next turn under [outsider], as the stranger's words, not as the agent's own", {
    timeout: 120_000,
  }, async () => {
    const owner = one!.creator!;
    const { inboxId } = await one!.hostRpc.client.startInstance({ instanceId: "relay", walletIndex: 0 });
    await one!.rpc.client.configure(
      {
        template: await one!.release(2n),
        ownerId: owner.inboxId,
        tools: [{ toolId: "sms", handle: AGENT_NUMBER }],
      },
      instanceCall("relay"),
    );
    const conv = await owner.conversation("Relay");
    await one!.rpc.client.joinConversation(
      { conversationInvite: conv.invite },
      { ...instanceCall("relay"), timeoutMs: 30_000 },
    );
    const said = async () => (await owner.transcript(conv.groupId)).filter((m) => m.from === inboxId);
    /** What it said past its first `n` messages, once there are `count` of them. */
    const saidAfter = async (n: number, count: number, what: string) => {
      await waitFor(what, async () => (await said()).length >= n + count, 30_000, 200);
      return (await said()).slice(n);
    };

    // The stranger texts its number: passed on in the conversation.
    await sms!.phone(STRANGER).send(AGENT_NUMBER, STRANGERS_WORDS);
    const [relay] = await saidAfter(0, 1, "the text passed on");
    expect(relay!.text).toBe(`A text came: "${STRANGERS_WORDS}"`);

    // The owner asks it to do what the text asked: the question quotes the stranger, and nobody answers it.
    await owner.send(conv.groupId, "Concierge, do what the text asked");
    const [question] = await saidAfter(1, 1, "the question");
    expect(question!.text).toMatch(/may I do this\?/);
    expect(question!.text).toContain(`To: ${FRIEND}\nText: ${STRANGERS_WORDS}`);
    clock.advance(APPROVAL_MS);
    const [, after] = await saidAfter(1, 2, "the turn's end");
    expect(after!.text).toBe("My owner did not approve it.");
    expect(sms!.phone(FRIEND).messages()).toEqual([]);

    // The owner's next turn reads the question as the stranger's words passed on, never as its own.
    await owner.send(conv.groupId, "Concierge, anything new?");
    await saidAfter(3, 1, "the answer to the owner");
    const prompt = chat!.requests.findLast((r) =>
      (r.body.messages.at(-1)?.content ?? "").includes("Concierge, anything new?"),
    )!.body.messages;
    expect(prompt).toContainEqual({ role: "user", content: `[outsider] ${RELAYED_BY_YOU}: ${question!.text}` });
    expect(prompt.filter((m) => m.role === "assistant").map((m) => m.content)).not.toContainEqual(
      expect.stringContaining(STRANGERS_WORDS),
    );
    // Its owner's own word is still the owner's, and its own answer its own.
    expect(prompt).toContainEqual({ role: "assistant", content: "My owner did not approve it." });
  });
});
