// A flood of members' messages against the model's budget (agent/conversation/budget.ts,
// model/caps.ts; docs/instance.md "What a conversation may cost"): the
// local XMTP node (real PostgreSQL), an instance host in the test process
// with a budget of 6 calls a minute, an agent joined through a real invite
// to its owner's conversation, two members (@xmtp/node-sdk clients). The
// model is a local chat-completions server that counts its requests (the
// stand-in for a paid API). What must hold: one member's flood gets that
// member's share and then refusals, told once; another member gets what is
// left of members' part; the owner is still answered and learned from out
// of the reserve; a pasted message reaches the model cut, saying so. And a
// turn with tools (a wallet on the local chain, anvil) whose model calls a
// function in every answer: each round takes a call of the same budget, so a
// member's turn ends at the member's share, with a notice.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { english, generateMnemonic, generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, createServiceClient, generateServiceCredentials } from "@convos-pool/kit/server";
import { newTemplateIdentity, signUpdateRelease } from "@convos-pool/kit/signing";
import { createTestDatabase, waitFor } from "@convos-pool/testing";
import { newIdentity, sampleContent, tool } from "@convos-pool/kit/testing";
import { startLocalChain, type RunningChain } from "@convos-pool/local-providers";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { startCreator } from "@convos-pool/convos/testing";
import { startDevnode, type RunningDevnode } from "@convos-pool/xmtp-devnode";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { BUSY_NOTICE, shares } from "../agent/conversation/budget.js";
import { TOO_MANY_WAITING } from "../agent/turns/queue.js";
import { BUSY_ANSWER_SHORTLY } from "../agent/turns/backlog.js";
import { EXTRACTION_PROMPT } from "../memory/store.js";
import { CHOOSER_PROMPT, chooseByRuleAnswer } from "../model/chooser.js";
import { STOPPED_FOR_BUDGET } from "../model/turn.js";
import { instanceCall, startInstanceHost, type RunningInstanceHost } from "./host.js";

const CREDS = generateServiceCredentials();
const CALLS_PER_MINUTE = 6;
const PAYEE = privateKeyToAccount(generatePrivateKey()).address;

let node: RunningDevnode | undefined;
let chain: RunningChain | undefined;
let chat: ChatServer | undefined;
let host: RunningInstanceHost | undefined;
let dir: string;
type Person = Awaited<ReturnType<typeof startCreator>>;
const people: Person[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "instance-llm-cost-"));
  node = await startDevnode({ port: 0, databaseUrl: await createTestDatabase("instance_llm_cost") });
  chain = await startLocalChain();
  chat = await startChatServer((req) => {
    if (req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
    if (req.body.messages[0]?.content.startsWith(CHOOSER_PROMPT))
      return chooseByRuleAnswer(req.body.messages.at(-1)?.content ?? "");
    // Told to pay, and offered functions, it pays in every answer: each result brings another call.
    const asked = req.body.messages.findLast((m) => m.role === "user")?.content ?? "";
    if (req.body.tools && asked.includes("pay 0x"))
      return { toolCalls: [{ name: "send_payment", arguments: { to: PAYEE, amount_eth: "0.01" } }] };
    return "Noted.";
  });
  host = await startInstanceHost({
    xmtpApiUrl: node.url,
    masterSeed: generateMnemonic(english),
    dataDir: join(dir, "host"),
    credentials: CREDS["instance-host"],
    joinTimeoutMs: 20_000,
    dormantAfterMs: 0,
    llm: { baseUrl: chat.baseUrl, apiKey: "test", model: "m" },
    llmLimits: { callsPerMinute: CALLS_PER_MINUTE },
    tools: { chain: { rpcUrl: chain.rpcUrl } },
    log: createLogger("instance-host", { level: "silent" }),
  });
}, 90_000);

afterAll(async () => {
  await host?.close();
  for (const p of people) await p.close();
  await chat?.close();
  await chain?.close();
  await node?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function person(name: string): Promise<Person> {
  await mkdir(join(dir, name));
  const p = await startCreator(node!.url, join(dir, name));
  people.push(p);
  return p;
}

describe("a flood of members' messages", () => {
  it("ends in refusals past the members' shares, told once, while the owner is answered from the reserve", {
    timeout: 120_000,
  }, async () => {
    const s = shares(CALLS_PER_MINUTE);
    expect(s).toEqual({ total: 6, ownerReserve: 2, members: 4, perMember: 2, perConversation: 4 });
    const [owner, flooder, other] = [await person("owner"), await person("flooder"), await person("other")];
    const hostRpc = createServiceClient(InstanceHostService, host!.url, CREDS.claims);
    const rpc = createServiceClient(InstanceService, host!.url, CREDS.claims);
    try {
      const creator = newIdentity();
      const template = await signUpdateRelease(creator.account, {
        ...newTemplateIdentity(creator.inboxId),
        version: 2n,
        content: sampleContent({ agent_name: "Concierge", instructions: "You help the group.", tools: [] }),
      });
      const { inboxId } = await hostRpc.client.startInstance({ instanceId: "agent", walletIndex: 0 });
      await rpc.client.configure({ template, ownerId: owner.inboxId }, instanceCall("agent"));
      const conv = await owner.conversation("Busy");
      await rpc.client.joinConversation(
        { conversationInvite: conv.invite },
        { ...instanceCall("agent"), timeoutMs: 30_000 },
      );
      await owner.group(conv.groupId)!.addMembers([flooder.inboxId, other.inboxId]);

      // One member: a pasted page, then nine more; the other member: two.
      const paste = `Concierge, read this: ${"The whole itinerary again, day by day. ".repeat(600)}`;
      await flooder.send(conv.groupId, paste);
      for (let i = 1; i < 10; i++) await flooder.send(conv.groupId, `Concierge, question ${i}?`);
      await other.send(conv.groupId, "Concierge, and what about me?");
      await other.send(conv.groupId, "Concierge, still there?");
      const last = "Concierge, the owner asks: anything left?";
      await owner.send(conv.groupId, last);
      // The owner's turn goes ahead of members' waiting ones (agent/turns/queue.ts): once it is learned from, the rest are
      // waited for.
      await waitFor(
        "the owner's message learned from",
        () =>
          chat!.requests.some(
            (r) =>
              r.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT) &&
              r.body.messages.at(-1)?.content === "the owner asks: anything left?",
          ),
        60_000,
        100,
      );
      await host!.instances.get("agent")!.settled();
      const lastOf = (r: ChatServer["requests"][number]) => r.body.messages.at(-1)?.content ?? "";
      const turns = chat!.requests.filter((r) => !r.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT));
      // The flooder's share (an answer and its learning), the other member's, the owner's: 6 calls, no more.
      expect(chat!.requests).toHaveLength(6);
      // The paste first (it came to an empty queue); the owner's may overtake the other member's.
      expect(lastOf(turns[0]!)).toContain("Concierge, read this:");
      expect(turns.slice(1).map(lastOf)).toEqual(
        expect.arrayContaining([
          expect.stringContaining("Concierge, and what about me?"),
          expect.stringContaining("Concierge, the owner asks"),
        ]),
      );
      // The paste reached the model cut at 1,000 tokens, saying so.
      expect(lastOf(turns[0]!).length).toBeLessThan(4_200);
      expect(lastOf(turns[0]!)).toMatch(/\[cut here: the other \d+ of its \d+ characters are not shown\]$/);
      // What the conversation saw: three answers and one busy notice, for twelve messages; and, when the flooder had
      // more than their share of the queue waiting, one notice that the rest was dropped (how many waited at once
      // depends on how fast the paste's turn went).
      await waitFor(
        "the owner's answer",
        async () => (await owner.transcript(conv.groupId)).filter((m) => m.from === inboxId).length >= 4,
        20_000,
        200,
      );
      const said = (await owner.transcript(conv.groupId)).filter((m) => m.from === inboxId).map((m) => m.text);
      // Besides: each member behind two waiting messages told once that it is busy (turns/backlog.ts).
      const notices = new Set([TOO_MANY_WAITING, BUSY_ANSWER_SHORTLY]);
      expect(said.filter((t) => !notices.has(t)).sort()).toEqual(["Noted.", BUSY_NOTICE, "Noted.", "Noted."].sort());
      expect(said.filter((t) => t === BUSY_ANSWER_SHORTLY).length).toBeLessThanOrEqual(2);
      expect(said.filter((t) => t === TOO_MANY_WAITING).length).toBeLessThanOrEqual(1);
    } finally {
      hostRpc.close();
      rpc.close();
    }
  });
});

describe("a turn's rounds of function calls", () => {
  it("take a call of the budget each: a member's turn whose model calls in every answer ends at the member's share, with a notice, and the owner is still answered", {
    timeout: 120_000,
  }, async () => {
    const s = shares(CALLS_PER_MINUTE);
    const [owner, member] = [await person("payer-owner"), await person("payer-member")];
    const hostRpc = createServiceClient(InstanceHostService, host!.url, CREDS.claims);
    const rpc = createServiceClient(InstanceService, host!.url, CREDS.claims);
    try {
      const creator = newIdentity();
      const template = await signUpdateRelease(creator.account, {
        ...newTemplateIdentity(creator.inboxId),
        version: 2n,
        content: sampleContent({ agent_name: "Concierge", instructions: "You pay.", tools: [tool("crypto", "pool")] }),
      });
      // Its wallet holds nothing: each payment fails at once, and the model is told so in its next round.
      const key = generatePrivateKey();
      const { inboxId } = await hostRpc.client.startInstance({ instanceId: "payer", walletIndex: 1 });
      await rpc.client.configure(
        {
          template,
          ownerId: owner.inboxId,
          tools: [{ toolId: "crypto", handle: privateKeyToAccount(key).address, secrets: { private_key: key } }],
        },
        instanceCall("payer"),
      );
      const conv = await owner.conversation("Payments");
      await rpc.client.joinConversation(
        { conversationInvite: conv.invite },
        { ...instanceCall("payer"), timeoutMs: 30_000 },
      );
      await owner.group(conv.groupId)!.addMembers([member.inboxId]);
      // What it says from here on (it told its owner of its wallet when it joined).
      await waitFor(
        "its wallet told",
        async () => (await owner.transcript(conv.groupId)).some((m) => m.from === inboxId),
        30_000,
        200,
      );
      const before = (await owner.transcript(conv.groupId)).filter((m) => m.from === inboxId).length;
      const said = async () =>
        (await owner.transcript(conv.groupId))
          .filter((m) => m.from === inboxId)
          .slice(before)
          .map((m) => m.text);
      const turnOf = (text: string) =>
        chat!.requests.filter(
          (r) =>
            !r.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT) &&
            !r.body.messages[0]?.content.startsWith(CHOOSER_PROMPT) &&
            (r.body.messages.findLast((m) => m.role === "user")?.content ?? "").includes(text),
        );

      const ask = `Concierge, pay ${PAYEE} 0.01 ETH`;
      await member.send(conv.groupId, ask);
      await waitFor("the member's turn ended", async () => (await said()).length >= 1, 60_000, 200);
      // Its first completion and one more round: the member's share of the minute. Without the budget it would have
      // taken every round (MAX_TOOL_ROUNDS and the answer after them).
      expect(turnOf(ask)).toHaveLength(s.perMember);
      expect(await said()).toEqual([STOPPED_FOR_BUDGET]);

      // The owner is answered out of the reserve, which the member's rounds did not touch.
      await owner.send(conv.groupId, "Concierge, are you there?");
      await waitFor("the owner's answer", async () => (await said()).length >= 2, 30_000, 200);
      expect(await said()).toEqual([STOPPED_FOR_BUDGET, "Noted."]);
      expect(turnOf(ask)).toHaveLength(s.perMember);
    } finally {
      hostRpc.close();
      rpc.close();
    }
  });
});
