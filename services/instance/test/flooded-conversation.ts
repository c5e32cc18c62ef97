/**
 * TEST FIXTURE (@convos-pool/instance/testing/flood). A conversation that
 * floods its agent, for the queue's test (src/agent/conversation/flood.int.test.ts) and
 * its benchmark (bench/flood.ts): OneHost's local XMTP node and instance
 * host, with one agent that holds a phone number on the local SMS stand-in,
 * joined through a real invite to its owner's conversation. Two members are
 * people as the Convos app shows them: plain @xmtp/node-sdk clients the owner
 * adds, which never declare themselves agents (the Convos CLI always does,
 * and then meets the agent's rules for other agents instead). Outsiders text
 * its number through the stand-in and the host's signed webhook. The model
 * is a stand-in that takes `modelMs` for every call (an answer, a lesson):
 * a member's answered text costs two.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startCreator } from "@convos-pool/convos/testing";
import { tool } from "@convos-pool/kit/testing";
import { startLocalSms, type LocalSms } from "@convos-pool/local-providers";
import { waitFor } from "@convos-pool/testing";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import { EXTRACTION_PROMPT, instanceCall, CHOOSER_PROMPT, chooseByRuleAnswer } from "../src/index.js";
import { OneHost, type Creator } from "./one-host.js";

export const AGENT_NUMBER = "+15550100045";
/** Whom a member asks the agent to text (which only the owner may approve). */
export const FRIEND = "+15550188045";
export const OWNER_QUESTION = "Concierge, when is checkout?";
export const OWNER_ANSWER = "Checkout is at noon.";
/** What a member says to have the agent text FRIEND: a question to the owner. */
export const TEXT_MY_FRIEND = "Concierge, please text my friend that I said hello";
const INSTANCE = "flooded";

export interface FloodedConversationOptions {
  name: string;
  /** What every model call takes. */
  modelMs: number;
  /** How long an approval question waits; default two minutes. */
  approvalTimeoutMs?: number;
  /** The agent's model calls a minute (0: no budget); default the host's (MODEL_CALLS_PER_MINUTE). */
  callsPerMinute?: number;
  /** How long a member's message may wait and still be answered (0: always); default the host's (ANSWER_WITHIN_MS). */
  answerWithinMs?: number;
  /**
   * The model's answer to a turn whose newest line is `text`, before the
   * fixture's own: a string answers it, undefined leaves it to the fixture; it may
   * take as long as the test needs (a turn held while others queue).
   */
  answer?: (text: string) => Promise<string | undefined>;
}

export class FloodedConversation {
  one!: OneHost;
  chat!: ChatServer;
  sms!: LocalSms;
  owner!: Creator;
  members: Creator[] = [];
  agentInbox = "";
  groupId = "";

  constructor(private readonly opts: FloodedConversationOptions) {}

  async start(): Promise<this> {
    const { modelMs } = this.opts;
    this.sms = await startLocalSms();
    this.chat = await startChatServer(async (req) => {
      const system = req.body.messages[0]?.content ?? "";
      // The chooser reads the request alone, faithfully (no model time: the flood measures the turns).
      if (system.startsWith(CHOOSER_PROMPT)) return chooseByRuleAnswer(req.body.messages.at(-1)?.content ?? "");
      await sleep(modelMs);
      const last = req.body.messages.at(-1);
      if (system.startsWith(EXTRACTION_PROMPT)) return '{"entries":[]}';
      if (last?.role === "tool") return "I asked.";
      const text = last?.content ?? "";
      const answered = await this.opts.answer?.(text);
      if (answered !== undefined) return answered;
      if (text.includes("A text message came to your number")) return "A text came to my number.";
      if (text.includes(TEXT_MY_FRIEND) && req.body.tools)
        return { toolCalls: [{ name: "send_sms", arguments: { to: FRIEND, text: "Ana says hello" } }] };
      if (text.includes(OWNER_QUESTION)) return OWNER_ANSWER;
      return "Here is a fact for you.";
    });
    this.one = new OneHost({
      name: this.opts.name,
      host: {
        joinTimeoutMs: 20_000,
        llm: { baseUrl: this.chat.baseUrl, apiKey: "sk-test", model: "m" },
        llmLimits: { callsPerMinute: this.opts.callsPerMinute, answerWithinMs: this.opts.answerWithinMs },
        tools: {
          sms: {
            apiUrl: this.sms.url,
            apiKey: this.sms.apiKey,
            webhookPublicKey: this.sms.webhookPublicKey,
            webhookPort: 0,
          },
          approvalTimeoutMs: this.opts.approvalTimeoutMs ?? 120_000,
        },
      },
      content: { instructions: "You answer.", tools: [tool("sms", "pool")] },
    });
    await this.one.start();
    this.owner = this.one.creator!;
    for (const name of ["ana", "bob"]) {
      await mkdir(join(this.one.dir, name));
      this.members.push(await startCreator(this.one.node.url, join(this.one.dir, name)));
    }
    const one = this.one;
    this.agentInbox = (await one.hostRpc.client.startInstance({ instanceId: INSTANCE, walletIndex: 0 })).inboxId;
    await one.rpc.client.configure(
      {
        template: await one.release(2n),
        ownerId: this.owner.inboxId,
        tools: [{ toolId: "sms", handle: AGENT_NUMBER }],
      },
      instanceCall(INSTANCE),
    );
    const conv = await this.owner.conversation("Flood");
    this.groupId = conv.groupId;
    await one.rpc.client.joinConversation(
      { conversationInvite: conv.invite },
      { ...instanceCall(INSTANCE), timeoutMs: 30_000 },
    );
    await this.owner.group(conv.groupId)!.addMembers(this.members.map((m) => m.inboxId));
    return this;
  }

  /** What the agent said in the conversation, oldest first. */
  async said(): Promise<{ id: string; text: string }[]> {
    return (await this.owner.transcript(this.groupId)).filter((m) => m.from === this.agentInbox);
  }

  /** The owner asks OWNER_QUESTION: how long until the agent's answer to it is in the conversation, ms. */
  async ownerAsks(timeoutMs = 120_000): Promise<number> {
    const answers = async () => (await this.said()).filter((m) => m.text === OWNER_ANSWER).length;
    const before = await answers();
    const t0 = performance.now();
    await this.owner.send(this.groupId, OWNER_QUESTION);
    await waitFor("the owner's answer", async () => (await answers()) > before, timeoutMs, 50);
    return performance.now() - t0;
  }

  /**
   * The flood: each member names the agent as fast as they can send, and
   * strangers (ten numbers in turn) text its number every `textEveryMs`.
   * Resolves with a stop that ends it.
   */
  flood(textEveryMs = 200): { stop(): Promise<void> } {
    let flooding = true;
    const member = async (p: Creator, who: number) => {
      for (let i = 0; flooding; i++) await p.send(this.groupId, `Concierge, member ${who} wants fact ${i}`);
    };
    const outsider = async () => {
      for (let i = 0; flooding; i++) {
        await this.sms.phone(`+155501990${i % 10}`).send(AGENT_NUMBER, `a stranger's text ${i}`);
        await sleep(textEveryMs);
      }
    };
    const running = [...this.members.map((m, i) => member(m, i)), outsider()];
    return {
      stop: async () => {
        flooding = false;
        await Promise.all(running);
      },
    };
  }

  /** Resolves when every message the agent received so far has been handled. */
  async settled(): Promise<void> {
    await this.one.host.instances.get(INSTANCE)!.settled();
  }

  async close(): Promise<void> {
    for (const p of this.members) await p.close();
    await this.one?.close();
    await this.chat?.close();
    await this.sms?.close();
  }
}
