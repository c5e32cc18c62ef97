// Learning from feedback end to end (docs/instance.md, "Learning from
// feedback"): the local XMTP node on a throwaway PostgreSQL, an instance host
// with the offline model, a Convos conversation created and served by the
// real Convos CLI (the person: its reactions and replies are the CLI's own
// `react` and `send … replyTo` commands), and another agent that joined with
// a real node-sdk client. The CLI reaches the node on this file's own port
// through its bridge (@convos-pool/testing/xmtp-port).
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { english, generateMnemonic, generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { XmtpInboxResolver, createXmtpClient, joinConversation } from "@convos-pool/convos";
import { OneHost } from "@convos-pool/instance/testing";
import type { ConvosCli, CliEvent, ReadyEvent } from "@convos-pool/testing/convos-cli";
import type { RunningDevnode } from "@convos-pool/xmtp-devnode";
import { startInstanceHost, type RunningInstanceHost } from "../host/host.js";
import { EXTRACTION_PROMPT, type MemoryEntry, type MemoryFile } from "./store.js";
import { startChatServer, type ChatServer } from "@convos-pool/testing/chat-server";
import type { AgentClient } from "../platform/xmtp.js";
import type { SignalsFile } from "../agent/state/signals.js";
import type { InstanceConfig } from "../agent/state/settings.js";

const ID = "inst-feedback";
/** The agents' owner: nobody in the conversation. */
const OWNER = `${"0".repeat(63)}1`;
const logs: string[] = [];
const one = new OneHost({
  name: "instance-feedback",
  host: {
    joinTimeoutMs: 20_000,
    maxInstances: 1,
    log: createLogger("instance-host", { level: "debug", sink: (l) => logs.push(l) }),
  },
  content: { agent_name: "Dinner Planner", instructions: "You plan dinners." },
  conversations: { serve: ["--name", "Dinner plans", "--profile-name", "Saul"] },
});

let node: RunningDevnode | undefined;
let cli: ConvosCli | undefined;
let ready: ReadyEvent;
let dir: string;
let host: RunningInstanceHost | undefined;
let otherAgent: AgentClient | undefined;
let chat: ChatServer | undefined;
let llmHost: RunningInstanceHost | undefined;
let agentInbox: string;

beforeAll(async () => {
  ({ node, cli, ready, dir, host } = await one.start());
  agentInbox = await one.joinedServed(ID, 0, { ownerId: OWNER });
}, 120_000);

async function startHost(): Promise<void> {
  ({ host } = await one.startHost());
}

afterAll(async () => {
  await otherAgent?.close();
  await llmHost?.close();
  await chat?.close();
  await one.close();
}, 30_000);

type AgentMessageEvent = CliEvent & { id: string; content: string };

/** The person says something and the agent answers it. */
async function ask(text: string, agent = agentInbox): Promise<AgentMessageEvent> {
  const from = await cli!.send(text);
  return await cli!.messageFrom(agent, from);
}

/** The person replies to a message (XMTP reply content type) and the agent answers it. */
async function reply(messageId: string, text: string, agent = agentInbox): Promise<AgentMessageEvent> {
  const { from } = await cli!.reply(messageId, text);
  return await cli!.messageFrom(agent, from);
}

/** The person reacts to a message (XMTP reaction content type), or takes a reaction back. */
async function react(messageId: string, emoji: string, action: "add" | "remove" = "add"): Promise<void> {
  await cli!.react(messageId, emoji, action);
}

async function memory(workspace = join(dir, "host", "instances", ID)): Promise<MemoryEntry[]> {
  return (JSON.parse(await readFile(join(workspace, "memory.json"), "utf8")) as MemoryFile).entries;
}

/** memory.json once `check` holds (a reaction is not answered: nothing else says it was handled). */
async function memoryWhen(
  what: string,
  check: (entries: MemoryEntry[]) => boolean,
  ms = 15_000,
  workspace?: string,
): Promise<MemoryEntry[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const entries = await memory(workspace);
    if (check(entries)) return entries;
    if (Date.now() > deadline)
      throw new Error(
        `memory.json: not ${what} within ${ms} ms: ${JSON.stringify(entries.map((e) => [e.kind, e.text, e.feedback]))}`,
      );
    await sleep(200);
  }
}

const feedbackOf = (entries: MemoryEntry[]) => entries.filter((e) => e.feedback);

describe("learning from feedback in a real conversation", () => {
  it("a 👎 on an answer changes the answer to the same question; taking the 👎 back brings it back", {
    timeout: 90_000,
  }, async () => {
    expect((await ask("remember that my diet is vegan")).content).toBe("[offline model] Noted: your diet is vegan.");
    const first = await ask("what is my diet?");
    expect(first.content).toBe("[offline model] From what I remember: your diet is vegan.");

    await react(first.id, "👎");
    const marked = await memoryWhen("holding the 👎", (m) => feedbackOf(m).length === 1);
    expect(feedbackOf(marked)).toEqual([
      expect.objectContaining({
        kind: "training",
        from: ready.inboxId,
        feedback: { messageId: first.id, signal: "down", about: first.content },
      }),
    ]);
    const again = await ask("what is my diet?");
    expect(again.content).not.toBe(first.content);
    expect(again.content).toMatch(/^\[offline model\] I was told that what I answered to this before was wrong/);

    await react(first.id, "👎", "remove");
    await memoryWhen("without the 👎", (m) => feedbackOf(m).length === 0);
    expect((await ask("what is my diet?")).content).toBe(first.content);
  });

  it("a correction as a reply is answered, replaces the wrong fact, and changes the next answer", {
    timeout: 90_000,
  }, async () => {
    const wrong = await ask("what is my diet?");
    expect(wrong.content).toBe("[offline model] From what I remember: your diet is vegan.");
    const ack = await reply(wrong.id, "no, I said vegetarian");
    expect(ack.content).toBe("[offline model] Thanks for the correction. Noted: your diet is vegetarian.");
    const entries = await memoryWhen("corrected", (m) => feedbackOf(m).length === 1);
    expect(entries.map((e) => e.text)).not.toContain("my diet is vegan");
    expect(entries).toContainEqual(
      expect.objectContaining({ kind: "personalization", text: "my diet is vegetarian", from: ready.inboxId }),
    );
    expect(feedbackOf(entries)).toEqual([
      expect.objectContaining({
        kind: "training",
        from: ready.inboxId,
        feedback: { messageId: wrong.id, signal: "correction", about: wrong.content },
      }),
    ]);
    expect((await ask("what is my diet?")).content).toBe(
      "[offline model] From what I remember: your diet is vegetarian.",
    );
  });

  it("a text that starts like a correction, just after the agent's answer, corrects it too", {
    timeout: 90_000,
  }, async () => {
    expect((await ask("remember that our restaurant is in Shinjuku")).content).toBe(
      "[offline model] Noted: your restaurant is in Shinjuku.",
    );
    const wrong = await ask("where is our restaurant?");
    expect(wrong.content).toBe("[offline model] From what I remember: your restaurant is in Shinjuku.");
    expect((await ask("actually, Shibuya")).content).toBe(
      "[offline model] Thanks for the correction. Noted: your restaurant is in Shibuya.",
    );
    expect((await ask("where is our restaurant?")).content).toBe(
      "[offline model] From what I remember: your restaurant is in Shibuya.",
    );
    const entries = await memory();
    expect(entries.map((e) => e.text)).not.toContain("our restaurant is in Shinjuku");
    expect(feedbackOf(entries).map((e) => e.feedback)).toContainEqual({
      messageId: wrong.id,
      signal: "correction",
      about: wrong.content,
    });
  });

  it("a reaction from another agent, to someone else's message, or with another emoji teaches nothing", {
    timeout: 90_000,
  }, async () => {
    otherAgent = await createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
      apiUrl: node!.url,
      dbPath: join(dir, `other-agent-${randomBytes(4).toString("hex")}.db3`),
      dbEncryptionKey: randomBytes(32),
    });
    const resolver = await XmtpInboxResolver.connect({ apiUrl: node!.url, cacheMs: 0 });
    const { group } = await joinConversation(otherAgent, ready.inviteUrl, {
      resolver,
      profileName: "Other Agent",
      timeoutMs: 20_000,
    });
    await cli!.waitFor("member_joined", (e) => e.event === "member_joined" && e.inboxId === otherAgent!.inboxId);

    // Three members now, the other agent among them: Saul names the agent he asks.
    const answer = await ask("Dinner Planner, what is my diet?");
    const question = cli!.events.findLast(
      (e) => e.event === "sent" && e.text === "Dinner Planner, what is my diet?",
    ) as CliEvent & {
      id: string;
    };
    const before = await memory();
    await group.sync();
    // ReactionAction.Added, ReactionSchema.Unicode (const enums of the bindings).
    await group.sendReaction({
      reference: answer.id,
      referenceInboxId: agentInbox,
      action: 1,
      content: "👎",
      schema: 1,
    });
    await react(question.id, "👎");
    await react(answer.id, "😂");
    // Messages are handled in order: once this is answered, the reactions were read.
    expect((await ask("Dinner Planner, what is my diet?")).content).toBe(
      "[offline model] From what I remember: your diet is vegetarian.",
    );
    await host!.instances.get(ID)!.settled();
    expect(await memory()).toEqual(before);
    // Only the first test's 👎 was ever learned.
    expect(logs.filter((l) => l.includes("reaction learned"))).toHaveLength(1);
  });

  it("a 👍 given while the host was down is learned when it is back, as a liked answer in the prompt", {
    timeout: 90_000,
  }, async () => {
    const liked = await ask("Dinner Planner, what is my diet?");
    await host!.close();
    await react(liked.id, "👍");
    await startHost();
    const entries = await memoryWhen("holding the 👍", (m) => feedbackOf(m).some((e) => e.feedback!.signal === "up"));
    expect(feedbackOf(entries).filter((e) => e.feedback!.signal === "up")).toEqual([
      expect.objectContaining({
        kind: "training",
        from: ready.inboxId,
        feedback: { messageId: liked.id, signal: "up", about: liked.content },
      }),
    ]);
    expect(host!.instances.get(ID)!.memorySnapshot!.render()).toContain(
      `answer in the same way:\n\n- Your answer "${liked.content}" was marked good.`,
    );
  });

  it("with a real model, a 👎 and a correction reach the next turns' prompts and change the answer", {
    timeout: 90_000,
  }, async () => {
    const wrongAnswer = "You are vegan.";
    chat = await startChatServer((req) => {
      const system = req.body.messages[0]?.content ?? "";
      const last = req.body.messages.at(-1)?.content ?? "";
      if (system.startsWith(EXTRACTION_PROMPT)) {
        if (last.includes("remember that I am vegan"))
          return '{"entries":[{"kind":"personalization","text":"I am vegan"}]}';
        if (last.startsWith(`Your earlier answer: "${wrongAnswer}"`))
          return '{"entries":[{"kind":"personalization","text":"I am vegetarian"}]}';
        return '{"entries":[]}';
      }
      if (last.includes("remember")) return "Noted.";
      if (system.includes("- I am vegetarian")) return "You are vegetarian.";
      if (system.includes(`Your answer "${wrongAnswer}" was marked wrong.`))
        return "I was told my last answer was wrong. What is your diet?";
      return wrongAnswer;
    });
    llmHost = await startInstanceHost(
      one.hostOptions({
        masterSeed: generateMnemonic(english),
        dataDir: join(dir, "llm-host"),
        llm: { baseUrl: chat.baseUrl, apiKey: "sk-test" },
      }),
    );
    const llmInbox = await one.joinedServed("inst-llm", 0, {
      ownerId: OWNER,
      content: { agent_name: "Diet Coach" },
      on: llmHost,
    });
    const workspace = join(dir, "llm-host", "instances", "inst-llm");
    const lastTurn = () =>
      chat!.requests.findLast((r) => !r.body.messages[0]!.content.startsWith(EXTRACTION_PROMPT))!.body.messages;

    expect((await ask("Diet Coach, remember that I am vegan", llmInbox)).content).toBe("Noted.");
    const wrong = await ask("Diet Coach, what is my diet?", llmInbox);
    expect(wrong.content).toBe(wrongAnswer);
    await react(wrong.id, "👎");
    await memoryWhen("holding the 👎", (m) => feedbackOf(m).length === 1, 15_000, workspace);
    expect((await ask("Diet Coach, what is my diet?", llmInbox)).content).toBe(
      "I was told my last answer was wrong. What is your diet?",
    );
    expect(lastTurn()[0]!.content).toContain(
      `## Feedback on your earlier answers\n\nMembers marked these answers of yours wrong.`,
    );

    await reply(wrong.id, "no, I said vegetarian", llmInbox);
    expect(lastTurn().at(-1)!.content).toBe(
      `[member] Saul: no, I said vegetarian\n(This corrects your earlier answer: "${wrongAnswer}")`,
    );
    const entries = await memoryWhen("corrected", (m) => feedbackOf(m).length === 2, 15_000, workspace);
    expect(entries.map((e) => e.text)).toContain("I am vegetarian");
    expect(entries.map((e) => e.text)).not.toContain("I am vegan");
    expect(feedbackOf(entries).map((e) => e.feedback)).toEqual([
      { messageId: wrong.id, signal: "down", about: wrongAnswer },
      { messageId: wrong.id, signal: "correction", about: wrongAnswer },
    ]);
    expect((await ask("Diet Coach, what is my diet?", llmInbox)).content).toBe("You are vegetarian.");
    // The offline agent beside it took nothing from feedback on another agent's message.
    expect(feedbackOf(await memory()).filter((e) => e.feedback!.messageId === wrong.id)).toEqual([]);
  });

  it("no log line holds what was said or learned", () => {
    const all = logs.join("\n");
    for (const said of ["vegan", "vegetarian", "Shinjuku", "Shibuya", "what is my diet"])
      expect(all, said).not.toContain(said);
  });

  it("keeps the day's counts for its version across a restart: answers, each person once, 👍 and 👎, a correction, a forget request; no id and no text", {
    timeout: 90_000,
  }, async () => {
    const workspace = join(dir, "host", "instances", ID);
    const counts = async () =>
      (JSON.parse(await readFile(join(workspace, "signals.json"), "utf8")) as SignalsFile).current;
    const before = await counts();
    // The earlier tests' answers, counted before the host restarted, are still there.
    expect(before.counts.answers).toBeGreaterThan(10);
    const answered = await ask("Dinner Planner, what is my diet?");
    await react(answered.id, "👍");
    await react(answered.id, "👎");
    await reply(answered.id, "no, I said pescatarian");
    await ask("Dinner Planner, forget what you learned from me");
    await host!.instances.get(ID)!.settled();
    const after = await counts();
    const config = JSON.parse(await readFile(join(workspace, "config.json"), "utf8")) as InstanceConfig;
    expect(after).toMatchObject({ templateId: config.templateId, version: config.templateVersion });
    expect(after.day).toBe(new Date().toISOString().slice(0, 10));
    expect(after.counts).toEqual({
      ...before.counts,
      answers: before.counts.answers + 3,
      thumbsUp: before.counts.thumbsUp + 1,
      thumbsDown: before.counts.thumbsDown + 1,
      corrections: before.counts.corrections + 1,
      forgetRequests: before.counts.forgetRequests + 1,
      // Saul is the only person who ever spoke to it; the other agent only reacted.
      people: 1,
    });
    const file = await readFile(join(workspace, "signals.json"), "utf8");
    for (const kept of [ready.inboxId, agentInbox, ready.conversationId, otherAgent!.inboxId, "pescatarian", "diet"])
      expect(file, kept).not.toContain(kept);
  });
});
