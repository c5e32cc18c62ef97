// Approvals in the owner's direct conversation, end to end (docs/trust.md,
// "Where the owner is asked"): an owner's agent with a number in a Convos
// conversation, "Weekend away", of its owner, Saul (a real Convos CLI), and
// Ana, who joined by invite as the apps do. Saul chose to be asked directly.
// Ana asks the agent to text a friend: the question, with the number and
// the words, comes to Saul's direct conversation with the agent (a Convos
// conversation of the two), naming the conversation it is for; the
// conversation reads only that Saul was asked. Ana's yes in the group, and
// her reply and tap in an XMTP DM of her own with the agent, approve nothing; Saul's plain "yes" is told how to answer;
// his reply to the question sends the text, once. The model (a chat server
// that records what it is given) never reads what Saul wrote to the agent
// directly. Scored on what happened: the SMS stand-in's outbox, what each
// conversation holds, what the model was given.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrustLevel } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ApprovalPlace, InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { CHOOSER_PROMPT, chooseByRuleAnswer, type Agent } from "@convos-pool/instance";
import { resolvePermissions } from "@convos-pool/kit/content";
import { signOperation } from "@convos-pool/kit/signing";
import { tool } from "@convos-pool/kit/testing";
import { waitFor } from "@convos-pool/testing";
import { startChatServer, type ChatServer, type RecordedRequest } from "@convos-pool/testing/chat-server";
import { personReply } from "@convos-pool/convos";
import type { Person } from "@convos-pool/convos/person";
import { said, saidMessage, type ConvosCli } from "@convos-pool/testing/convos-cli";
import { as } from "@convos-pool/claims/testing";
import { PeopleStack } from "./people-stack.js";

const people = new PeopleStack({
  stack: {
    name: "direct-approvals-e2e",
    conversationName: "Weekend away",
    host: { joinTimeoutMs: 15_000, tools: { approvalTimeoutMs: 120_000 }, llmLimits: { callsPerMinute: 0 } },
    claims: { smsRange: "+15550750000..+15550750019", pool: { target: 1 } },
  },
  template: { agent_name: "Concierge", tools: [tool("sms", "pool")], max_trust_level: "L3" },
  people: ["Ana"],
  // L3: texts go on the owner's word; a member's request waits for the owner (the default, ask).
  trust: { level: TrustLevel.OPERATOR },
});
const stack = people.stack;
const FRIEND = "+15550177051";
const WORDS = "the cabin key is under the mat";
/** What Saul tells the agent directly, and nobody else may read: not the model, not the group. */
const DOOR_CODE = "the door code is 4242";

/** A message as `convos conversation messages --json` lists it. */
interface Listed {
  id: string;
  senderInboxId: string;
  content: string;
}
/** A conversation as `convos conversations list --json` lists it. */
interface ListedConversation {
  conversationId: string;
  name: string;
  memberCount: number;
}

let saulCli: ConvosCli;
let ana: Person;
let agent: Agent;
let chat: ChatServer;

/** Every text the model was given in `r`. */
const everything = (r: RecordedRequest) => r.body.messages.map((m) => m.content ?? "").join("\n");

/** The agent's messages in a conversation, as Saul's Convos CLI lists them. */
async function agentSaid(conversationId: string): Promise<Listed[]> {
  const listed = await saulCli.run<Listed[]>(["conversation", "messages", conversationId, "--sync"]);
  return listed.filter((m) => m.senderInboxId === agent.inboxId && typeof m.content === "string");
}

/** Saul's direct conversation with the agent, and the agent's message in it that matches `match`, once it came. */
async function inSaulsDirect(match: RegExp): Promise<{ dm: string; message: Listed }> {
  let found: { dm: string; message: Listed } | undefined;
  await waitFor(
    `the agent saying ${match} to Saul directly`,
    async () => {
      const listed = await saulCli.run<ListedConversation[]>(["conversations", "list", "--sync"]);
      const direct = listed.find((c) => c.conversationId !== stack.ready.conversationId);
      if (!direct) return false;
      // A conversation of two, named for the agent, as Convos lists it.
      expect(direct).toMatchObject({ name: "Concierge · approvals", memberCount: 2 });
      const message = (await agentSaid(direct.conversationId)).find((m) => match.test(m.content));
      if (message) found = { dm: direct.conversationId, message };
      return found !== undefined;
    },
    60_000,
    1_000,
  );
  return found!;
}

beforeAll(async () => {
  ({ ownerCli: saulCli } = await people.start());
  ana = people.person("Ana");
  chat = await startChatServer((r) => {
    const system = r.body.messages[0]?.content ?? "";
    if (system.startsWith("You maintain the long-term memory")) return '{"entries":[]}';
    const last = r.body.messages.at(-1);
    if (system.startsWith(CHOOSER_PROMPT)) return chooseByRuleAnswer(last?.content ?? "");
    if (last?.role === "tool") return `Tool: ${last.content}`;
    if (last?.content?.includes(`text ${FRIEND}`))
      return { toolCalls: [{ name: "send_sms", arguments: { to: FRIEND, text: WORDS } }] };
    return "Noted.";
  });
  await stack.host!.close();
  await stack.startHost({ llm: { baseUrl: chat.baseUrl, apiKey: "sk-local-test" } });
  await waitFor("the agent back", () => people.agent.health().state === InstanceState.CLAIMED, 30_000);
  agent = people.agent;
  // Saul chooses to be asked directly, signing his permissions whole.
  const permissions = resolvePermissions({ approvals: ApprovalPlace.DIRECT });
  const owner = people.owner;
  const ownerSignature = await signOperation(owner.account, "SetPermissions", {
    inboxId: owner.inboxId,
    instanceId: people.agentId,
    ...permissions,
  });
  await stack.claimsSc!.client.setPermissions({ instanceId: people.agentId, permissions, ownerSignature }, as(owner));
}, 300_000);

afterAll(async () => {
  await chat?.close();
  await people.close();
}, 60_000);

describe("approvals in the owner's direct conversation", () => {
  it("the question goes to Saul directly, the group reads only that he was asked; nobody else's yes approves; his reply sends the text once", {
    timeout: 240_000,
  }, async () => {
    const friend = stack.sms!.phone(FRIEND);
    const from = saulCli.events.length;
    await ana.send(`Concierge, text ${FRIEND}: ${WORDS}`);

    // The group: one note, in reply to Ana, nothing of the act.
    const note = await saidMessage(saulCli, agent, from, /direct conversation/, 60_000);
    expect(note.content).toBe("I've asked Saul in our direct conversation; I'll go on once they answer.");
    // Saul, directly: the act in full, naming the conversation it is for.
    const { dm, message: question } = await inSaulsDirect(/^Saul, may I do this in “Weekend away”\?/);
    expect(question.content).toContain(`Send a text\nTo: ${FRIEND}\nText: ${WORDS}\nAsked by: Ana (member)`);

    // Ana's yes to the note; her reply to the question and her tap on its Approve, from a direct conversation of
    // her own with the agent (as if its id had leaked to her).
    await ana.reply(note.id, "yes");
    const anaDm = await ana.client.conversations.createDm(agent.inboxId);
    await anaDm.sendReply(personReply(question.id, "yes", agent.inboxId));
    await anaDm.sendIntent({ id: question.id, actionId: `approve:${question.id}` });
    // Saul writes "yes" and his door code, but not as a reply: he is told how to answer, and it waits.
    await saulCli.run(["conversation", "send-text", dm, "yes"]);
    await saulCli.run(["conversation", "send-text", dm, DOOR_CODE]);
    await inSaulsDirect(/^To answer, reply to my question with yes or no/);
    // Ana's turn answered (her yes to the note was only a message to it): still nothing sent.
    await said(saulCli, agent, from, /^Noted\.$/, 60_000);
    expect(friend.messages()).toEqual([]);
    expect((await agent.approvalCall(async (a) => a.waiting())).map((q) => q.id)).toEqual([question.id]);
    // Nobody but Saul read the act, or his door code: not the group, not the model.
    // (What the agent said in the group, without the CLI's quote of the message each reply answers: Ana's own words.)
    const group = (await agentSaid(stack.ready.conversationId))
      .map((m) => m.content.replace(/^reply to ".*" \([0-9a-f]+\): /s, ""))
      .join("\n");
    expect(group).toContain("I've asked Saul in our direct conversation");
    expect(group).not.toContain(FRIEND);
    expect(group).not.toContain("cabin key");
    expect(chat.requests.some((r) => everything(r).includes("4242"))).toBe(false);

    // Saul replies to the question: the text goes, once.
    const done = saulCli.events.length;
    await saulCli.run(["conversation", "send-reply", dm, question.id, "yes"]);
    expect(await said(saulCli, agent, done, /^Tool:/, 60_000)).toMatch(
      /^Tool: {"ok":true,"result":"texted \+15550177051/,
    );
    await friend.waitForMessage(() => true, 30_000);
    // A second yes to it answers nothing more.
    await saulCli.run(["conversation", "send-reply", dm, question.id, "yes"]);
    await said(saulCli, agent, await saulCli.send("Concierge, thanks"), /^Noted\.$/, 60_000);
    expect(friend.messages().map((m) => m.text)).toEqual([WORDS]);
    expect(chat.requests.some((r) => everything(r).includes("4242"))).toBe(false);
  });
});
