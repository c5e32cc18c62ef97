// OpenClaw agents sleep too, end to end, every part real: PostgreSQL, the
// local XMTP node, the template and claims services, an instance host on the
// OpenClaw runtime (the npm `openclaw` package) that puts quiet agents to
// sleep after 8 s and keeps one warm spare gateway, and a Convos conversation
// served by the real Convos CLI. The model behind OpenClaw is a local
// chat-completions server (testing/chat-server.ts) that says whether the
// prompt OpenClaw sent it holds what the agent was taught.
//
// An owner claims an agent and teaches it; quiet, it goes dormant and its
// gateway's process is gone; a message wakes it, a warm gateway takes it, and
// it answers with what it was taught before it slept. Two gateways at most
// run at once (the agent's and the spare): each holds about a gigabyte.
//
// Not in `npm test`: `npm run test:openclaw` (docs/testing.md).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import type { Client } from "@connectrpc/connect";
import type { Agent, RunningInstanceHost } from "@convos-pool/instance";
import {
  startChatServer,
  type ChatAnswer,
  type ChatServer,
  type RecordedRequest,
  type WireMessage,
} from "@convos-pool/testing/chat-server";
import { newIdentity, sampleContent, signedTemplate, type TestIdentity } from "@convos-pool/kit/testing";
import { as } from "@convos-pool/claims/testing";
import { RealStack } from "./real-stack.js";

const PREFERENCE = `I am vegetarian (${randomBytes(3).toString("hex")})`;

const textOf = (m: WireMessage | undefined): string =>
  typeof m?.content === "string"
    ? m.content
    : Array.isArray(m?.content)
      ? (m.content as { text?: string }[]).map((p) => p.text ?? "").join("")
      : "";
const systemOf = (r: RecordedRequest) => textOf(r.body.messages.find((m) => m.role === "system"));
const fromOpenClaw = (r: RecordedRequest) => systemOf(r).includes("running inside OpenClaw");

/** The model: the host's learning keeps "remember that …"; OpenClaw's turns say whether MEMORY.md holds it. */
function answer(r: RecordedRequest): ChatAnswer {
  const last = textOf(r.body.messages.at(-1));
  if (!fromOpenClaw(r)) {
    const fact = /remember that (.*?)[.!]?$/i.exec(last)?.[1];
    return JSON.stringify({ entries: fact ? [{ kind: "personalization", text: fact }] : [] });
  }
  return systemOf(r).includes(PREFERENCE) ? `I remember: ${PREFERENCE}.` : "I remember nothing.";
}

/** Whether a process is there (signal 0 only asks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let chat: ChatServer;
let stack: RealStack;
let host: RunningInstanceHost;
let client: Client<typeof ClaimService>;
let owner: TestIdentity;
let agentId: string;

const onHost = (id: string): Agent => host.instances.get(id)!;
const readySpares = () => host.runtime!.spareGateways().filter((g) => g.ready).length;

async function ask(agent: Agent, text: string, ms = 200_000): Promise<{ text: string; ms: number }> {
  const cli = stack.cli!;
  const started = performance.now();
  const from = await cli.send(text);
  const reply = await cli.messageFrom(agent.inboxId, from, ms);
  return { text: reply.content, ms: Math.round(performance.now() - started) };
}

beforeAll(async () => {
  chat = await startChatServer(answer);
  stack = new RealStack({
    name: "openclaw-sleep",
    conversationName: "Dinner club",
    host: {
      joinTimeoutMs: 20_000,
      runtime: "openclaw",
      llm: { baseUrl: chat.baseUrl, apiKey: "sk-test" },
      dormantAfterMs: 8_000,
      openclawMaxGateways: 2,
      openclawWarmGateways: 1,
    },
    claims: { pool: { target: 1 }, sync: { scanIntervalMs: 200 } },
  });
  await stack.start();
  host = stack.host!;
  client = stack.claimsSc!.client;
  owner = newIdentity();
  await stack.idleAgents(1);
}, 400_000);

afterAll(async () => {
  await stack?.close();
  await chat?.close();
}, 120_000);

describe("a dormant OpenClaw agent", () => {
  it("sleeps with its gateway's process gone, and a message wakes it: a warm gateway takes it and it answers with what it was taught", {
    timeout: 700_000,
  }, async () => {
    // The host keeps a spare started from its start.
    await expect.poll(readySpares, { timeout: 300_000, interval: 1_000 }).toBe(1);
    const template = await signedTemplate(
      stack.templatesSc!.client,
      newIdentity(),
      sampleContent({ agent_name: "Chef", tools: [], runtime: "openclaw" }),
      "public",
    );
    const claimed = await client.claim(
      { requester: owner.inboxId, templateId: template.id, conversationInvite: stack.ready.inviteUrl },
      as(owner),
    );
    agentId = claimed.instanceId;
    const agent = onHost(agentId);

    // Claimed: it took the warm spare, and a new spare starts for the next one.
    const taught = await ask(agent, `Chef, remember that ${PREFERENCE}.`);
    console.info(`first answer after the claim (a warm gateway taken): ${taught.ms} ms`);
    await expect
      .poll(() => agent.memorySnapshot?.entries.map((e) => e.text), { timeout: 30_000 })
      .toContain(PREFERENCE);

    // Quiet for 8 s: dormant, and its gateway's process (and its group) gone.
    const before = host.runtime!.gateways().get(agentId)!;
    const pid = before.pid!;
    expect(alive(pid)).toBe(true);
    await expect.poll(() => agent.state, { timeout: 120_000, interval: 500 }).toBe(InstanceState.DORMANT);
    await expect.poll(() => alive(pid), { timeout: 20_000 }).toBe(false);
    expect(host.runtime!.gateways().get(agentId)!.active).toBe(false);

    // A spare is ready again (started when the first was taken) before the message comes.
    await expect.poll(readySpares, { timeout: 300_000, interval: 1_000 }).toBe(1);

    const woke = await ask(agent, "Chef, what do you know about me?");
    console.info(`wake to answer with a warm gateway: ${woke.ms} ms`);
    expect(woke.text).toBe(`I remember: ${PREFERENCE}.`);
    expect(agent.state).toBe(InstanceState.CLAIMED);
    const after = host.runtime!.gateways().get(agentId)!;
    expect(after.pid).not.toBe(pid);
    expect(after.running).toBe(true);
    // Under a minute: it did not wait for a gateway to start.
    expect(woke.ms).toBeLessThan(after.lastStartMs!);
  });
});
