// Texts to the agent's one number, routed by conversation (tools/routing/policy.ts,
// docs/tools.md "Which conversation"), on the real host: the local XMTP node,
// real node-sdk clients, Convos conversations made as the apps make them, the
// local SMS stand-in behind the host's signed webhook, and a model stand-in
// (a chat server) that texts when asked and passes texts on; the agent at
// L2, so the text waits for its owner's 👍. The owner has the
// agent text a friend from a second conversation: the friend's answer is a
// turn there, not in the home; a stranger's text is told in the home.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { OneHost, type Creator } from "@convos-pool/instance/testing";
import { instanceCall } from "./host.js";
import { EXTRACTION_PROMPT } from "../memory/store.js";

const ID = "inst-texts";
const AGENT_NUMBER = "+15550100061";
const FRIEND = "+15550188061";
const STRANGER = "+15550188062";

let sms: LocalSms;
let chat: ChatServer;
let one: OneHost;
let owner: Creator;
let inboxId: string;
let home: string;
let club: { groupId: string; invite: string };

/** What the agent said in `groupId`, as the owner's client reads it. */
const saidIn = async (groupId: string) =>
  (await owner.transcript(groupId)).filter((m) => m.from === inboxId).map((m) => m.text);

beforeAll(async () => {
  sms = await startLocalSms();
  chat = await startChatServer((req) => {
    const system = req.body.messages[0]?.content ?? "";
    const last = req.body.messages.at(-1);
    if (system.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (last?.role === "tool") return "Texted your friend.";
    if (last?.content.includes("I'll bring the wine")) return "Your friend answered: they bring the wine.";
    if (last?.content.includes("who is this")) return "Someone I do not know texted my number.";
    if (last?.content.includes(`text ${FRIEND}`) && req.body.tools)
      return { toolCalls: [{ name: "send_sms", arguments: { to: FRIEND, text: "Dinner at 8, can you come?" } }] };
    return "Nothing new.";
  });
  one = new OneHost({
    name: "instance-texts",
    host: {
      joinTimeoutMs: 20_000,
      llm: { baseUrl: chat.baseUrl, apiKey: "sk-test", model: "m" },
      tools: { sms: { apiUrl: sms.url, apiKey: sms.apiKey, webhookPublicKey: sms.webhookPublicKey, webhookPort: 0 } },
    },
    content: { instructions: "You text people for your owner.", tools: [tool("sms", "pool")] },
  });
  await one.start();
  owner = one.creator!;
  ({ inboxId } = await one.hostRpc.client.startInstance({ instanceId: ID, walletIndex: 0 }));
  await one.rpc.client.configure(
    { template: await one.release(2n), ownerId: owner.inboxId, tools: [{ toolId: "sms", handle: AGENT_NUMBER }] },
    instanceCall(ID),
  );
  const conv = await owner.conversation("Home");
  ({ conversationId: home } = await one.rpc.client.joinConversation(
    { conversationInvite: conv.invite },
    { ...instanceCall(ID), timeoutMs: 30_000 },
  ));
  club = await owner.conversation("Dinner club");
  await one.added(ID, club.invite);
}, 120_000);

afterAll(async () => {
  await one?.close();
  await chat?.close();
  await sms?.close();
});

describe("texts to the agent's number, in an agent of two conversations", () => {
  it("takes the answer of a number texted from a conversation as a turn there, not in the home; a stranger's text in the home", {
    timeout: 90_000,
  }, async () => {
    await owner.send(club.groupId, `Concierge, text ${FRIEND} to ask if they come to dinner`);
    // At L2 it asks its owner, there; the owner's 👍 on the question lets the text go.
    let question: { id: string } | undefined;
    await waitFor("the question in the club", async () => {
      question = (await owner.transcript(club.groupId)).find(
        (m) => m.from === inboxId && /may I do this\?/.test(m.text),
      );
      return question !== undefined;
    });
    // ReactionAction.Added, ReactionSchema.Unicode (const enums of the bindings).
    await owner.group(club.groupId)!.sendReaction({
      reference: question!.id,
      referenceInboxId: inboxId,
      action: 1,
      content: "👍",
      schema: 1,
    });
    await sms.phone(FRIEND).waitForMessage((m) => m.text === "Dinner at 8, can you come?", 30_000);
    await waitFor("the club told it texted", async () => (await saidIn(club.groupId)).includes("Texted your friend."));
    const atHome = (await saidIn(home)).length;

    await sms.phone(FRIEND).send(AGENT_NUMBER, "Yes! I'll bring the wine.");
    await waitFor(
      "the friend's answer in the club",
      async () => (await saidIn(club.groupId)).includes("Your friend answered: they bring the wine."),
      30_000,
      200,
    );

    await sms.phone(STRANGER).send(AGENT_NUMBER, "hi, who is this?");
    await waitFor(
      "the stranger's text at home",
      async () => (await saidIn(home)).includes("Someone I do not know texted my number."),
      30_000,
      200,
    );
    // Each where it belongs, and nowhere else.
    expect((await saidIn(home)).slice(atHome)).toEqual(["Someone I do not know texted my number."]);
    expect(await saidIn(club.groupId)).not.toContain("Someone I do not know texted my number.");
  });
});
