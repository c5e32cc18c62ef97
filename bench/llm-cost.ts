// What a busy group costs an agent's model: 100 messages from members, each
// naming the agent, against an agent whose memory is full, counted in model
// calls and prompt tokens; once with no limits (LLM_CALLS_PER_MINUTE=0 and
// every cap 0: all of memory, every message whole, the last 20 lines
// whatever their size, no budget), once with the host's defaults (60 calls
// a minute with the owner's reserve; 1,000 tokens a message, 3,000 of
// history, 3,000 of memory). Tokens are estimated as the caps estimate them:
// characters / 4 (prompt-caps.ts), over every message's content.
// Run: flock /tmp/bench.lock npm run bench:llm-cost   (a throwaway PostgreSQL; about two minutes)
//   BENCH_LLM_COST_MESSAGES (100)   members' messages in the flood
//   BENCH_LLM_COST_MEMORY (1000)    memory entries it holds, up to 500 characters each
//
// What it does: the local XMTP node in its own process, the model a local
// OpenAI-compatible server in this process (it answers at once, and records
// every request). For each phase an instance host in its own process, as
// main.ts runs it, with the phase's limits in its environment: one agent
// joins a conversation of its owner's through a real invite, three members
// are added, the host is stopped, memory.json is filled (the owner's training
// and members' facts: an agent that has learned for a long time) and the
// host started again. Then the members send the flood, round robin, as fast
// as their clients send (every fifth message a 20,000-character paste);
// then the owner names it once more, and the phase ends when that message
// has reached the model and no call has come for QUIET_MS (the owner's turn
// goes ahead of members' waiting ones, so it is not the last: the calls of
// the flood are all the others). Each member has at most 3 messages waiting
// for their turn (docs/instance.md, "Whose turn comes next"), in both
// phases: what is past it is dropped, never a call.
//
// What it does not exercise: a real model (which answers with tokens and
// takes seconds: the flood would take longer than a minute and the budget
// would refill along the way), tools (a turn with tools makes up to 6 calls,
// not 1), more than one agent on the host.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { newTemplateIdentity, signUpdateRelease } from "@convos-pool/kit/signing";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { startChatServer, type RecordedRequest } from "@convos-pool/testing/chat-server";
import { startCreator } from "@convos-pool/convos/testing";
import { BUSY_NOTICE, estimateTokens, EXTRACTION_PROMPT, LLM_LIMITS } from "@convos-pool/instance";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { fmt, size, startChild, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

const MESSAGES = size("BENCH_LLM_COST_MESSAGES", 100, 10);
const MEMORY = Math.min(size("BENCH_LLM_COST_MEMORY", 1000, 100), 1000);
const MEMBERS = 3;
const log = (s: string) => process.stderr.write(`[bench:llm-cost] ${s}\n`);
const PASTE =
  `Concierge, please read this: ${"Here is the whole itinerary again, day by day, with every train. ".repeat(320)}`.slice(
    0,
    20_000,
  );

/** Waits for `done`, at most 10 minutes. */
/** How long without a model call ends a phase, ms. */
const QUIET_MS = 3_000;

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`waited 10 minutes for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Estimated prompt tokens of a request: every message's content (characters / 4), and its functions if any. */
function promptTokens(req: RecordedRequest): number {
  const text = req.body.messages.map((m) => m.content ?? "").join("");
  return estimateTokens(text) + (req.body.tools ? estimateTokens(JSON.stringify(req.body.tools)) : 0);
}

/** A memory that has learned for a long time: the owner's rules, then members' facts, up to 500 characters each. */
function fullMemory(ownerId: string, memberIds: string[], count: number) {
  const filler =
    " They said it twice, with the dates, the places and who would come along, and asked to keep it in mind.";
  return {
    version: 1,
    entries: Array.from({ length: count }, (_, i) => {
      const owner = i % 20 === 0;
      const from = owner ? ownerId : memberIds[i % memberIds.length]!;
      const text = owner
        ? `Always mention the museum pass number ${i} when someone plans a visit.${filler.repeat(4)}`
        : `Member fact ${i}: they like the restaurant on street ${i} and the walk along canal ${i % 37}.${filler.repeat(4)}`;
      return {
        id: `mem_${i.toString(16).padStart(12, "0")}`,
        kind: owner ? "training" : "personalization",
        text: text.slice(0, 500),
        from,
        role: owner ? "owner" : "member",
        via: "llm",
        createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      };
    }),
  };
}

const dir = await mkdtemp(join(tmpdir(), "bench-llm-cost-"));
const creds = generateServiceCredentials();
const learning = (req: RecordedRequest) => req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT) === true;
const chat = await startChatServer((req) => (learning(req) ? '{"entries":[]}' : "Noted."));
const node = await startChild(
  "services/xmtp-devnode/src/main.ts",
  { DATABASE_URL: await createTestDatabase("bench_llm_cost"), ...NODE_WITHOUT_RATE_LIMITS },
  { readyPrefix: "XMTP devnode:" },
);

interface Phase {
  calls: number;
  tokens: number;
  meanTokens: number;
  maxTokens: number;
  answers: number;
  notices: number;
  seconds: number;
}

/** One phase: a host with `limits` in its environment, a full memory, the flood; what reached the model. */
async function phase(name: string, limits: Record<string, string>): Promise<Phase> {
  const phaseDir = join(dir, name);
  await mkdir(join(phaseDir, "owner"), { recursive: true });
  const env = {
    XMTP_API_URL: node.url,
    BENCH_MASTER_SEED: generateMnemonic(english),
    ...serviceEnv(creds["instance-host"]),
    INSTANCE_DATA_DIR: join(phaseDir, "data"),
    DORMANT_AFTER_MS: "0",
    LLM_BASE_URL: chat.baseUrl,
    LLM_API_KEY: "bench",
    ...limits,
  };
  const start = () =>
    startServiceProcess("bench/lone-host.ts", { env, readyPrefix: "instance host:", timeoutMs: 120_000 });
  let host = await start();
  const owner = await startCreator(node.url, join(phaseDir, "owner"));
  const members = [];
  for (let i = 0; i < MEMBERS; i++) {
    await mkdir(join(phaseDir, `member${i}`));
    members.push(await startCreator(node.url, join(phaseDir, `member${i}`)));
  }
  try {
    const call = { headers: { "x-pool-instance": "agent" }, timeoutMs: 120_000 };
    const creator = newIdentity();
    const template = await signUpdateRelease(creator.account, {
      ...newTemplateIdentity(creator.inboxId),
      version: 2n,
      content: sampleContent({ agent_name: "Concierge", instructions: "You help the group plan.", tools: [] }),
    });
    let inboxId: string;
    let groupId: string;
    {
      const hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
      const rpc = createServiceClient(InstanceService, host.url, creds.claims);
      try {
        inboxId = (await hostRpc.client.startInstance({ instanceId: "agent", walletIndex: 0 })).inboxId;
        await rpc.client.configure({ template, ownerId: owner.inboxId }, call);
        const conv = await owner.conversation(`Busy group (${name})`);
        await rpc.client.joinConversation({ conversationInvite: conv.invite }, call);
        await owner.group(conv.groupId)!.addMembers(members.map((m) => m.inboxId));
        groupId = conv.groupId;
      } finally {
        hostRpc.close();
        rpc.close();
      }
    }
    // An agent that has learned for a long time: its memory written while the host is down.
    await host.stop();
    const memory = fullMemory(
      owner.inboxId,
      members.map((m) => m.inboxId),
      MEMORY,
    );
    await writeFile(join(phaseDir, "data", "instances", "agent", "memory.json"), JSON.stringify(memory), {
      mode: 0o600,
    });
    host = await start();
    // Warm: its first turn loads what later turns reuse; then its learning call for it, before counting starts.
    const warm = chat.requests.length;
    await owner.ask(groupId, inboxId, "Concierge, hello there", 120_000);
    await until(`${name}: the warm-up's learning call`, () =>
      chat.requests.some((r, i) => i >= warm && r.body.messages.at(-1)?.content === "hello there"),
    );

    const first = chat.requests.length;
    const t0 = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      const text = i % 5 === 4 ? PASTE : `Concierge, what should we do on day ${i}? Something near the canal, please.`;
      await members[i % MEMBERS]!.send(groupId, text);
    }
    // The owner's turn goes ahead of members' waiting ones: once it reached the model, the flood is done when the calls stop.
    const barrier = `that is all for now (${name})`;
    await owner.send(groupId, `Concierge, ${barrier}`);
    const owners = (r: (typeof chat.requests)[number]) => r.body.messages.at(-1)?.content?.includes(barrier) === true;
    await until(`${name}: the owner's message reaching the model`, () =>
      chat.requests.some((r, i) => i >= first && owners(r)),
    );
    let calls = chat.requests.length;
    let lastCallAt = performance.now();
    await until(`${name}: no call for ${QUIET_MS} ms`, () => {
      if (chat.requests.length !== calls) [calls, lastCallAt] = [chat.requests.length, performance.now()];
      return performance.now() - lastCallAt >= QUIET_MS;
    });
    const seconds = (lastCallAt - t0) / 1000;
    const flood = chat.requests.slice(first).filter((r) => !owners(r));
    const tokens = flood.map(promptTokens);
    const said = (await owner.transcript(groupId)).filter((m) => m.from === inboxId);
    const notices = said.filter((m) => m.text === BUSY_NOTICE).length;
    const answers = flood.filter((r) => !learning(r)).length;
    log(`${name}: ${flood.length} calls in ${seconds.toFixed(1)} s`);
    return {
      calls: flood.length,
      tokens: tokens.reduce((a, b) => a + b, 0),
      meanTokens: tokens.length ? tokens.reduce((a, b) => a + b, 0) / tokens.length : 0,
      maxTokens: Math.max(0, ...tokens),
      answers,
      notices,
      seconds,
    };
  } finally {
    for (const m of members) await m.close();
    await owner.close();
    await host.stop();
  }
}

try {
  const before = await phase("before", {
    LLM_CALLS_PER_MINUTE: "0",
    LLM_MESSAGE_TOKENS: "0",
    LLM_HISTORY_TOKENS: "0",
    LLM_MEMORY_TOKENS: "0",
  });
  const after = await phase("after", {});
  const per100 = (x: number) => (x * 100) / MESSAGES;
  const row = (label: string, p: Phase) =>
    `  ${label.padEnd(34)}${fmt(per100(p.calls), 9)}${Math.round(per100(p.tokens)).toLocaleString("en").padStart(16)}` +
    `${Math.round(p.meanTokens).toLocaleString("en").padStart(11)}${Math.round(p.maxTokens).toLocaleString("en").padStart(10)}` +
    `${String(p.answers).padStart(9)}${String(p.notices).padStart(9)}${p.seconds.toFixed(1).padStart(9)}`;
  console.log(
    `a busy group: one agent, its owner and ${MEMBERS} members; ${MESSAGES} messages from members, each naming it (every fifth a 20,000-character paste), sent as fast as their clients send; its memory ${MEMORY} entries (up to 500 characters each)`,
  );
  console.log(
    `after: the host's defaults, ${LLM_LIMITS.callsPerMinute} calls a minute, ${LLM_LIMITS.messageTokens} tokens a message, ${LLM_LIMITS.historyTokens} of history, ${LLM_LIMITS.memoryTokens} of memory; before: all of them off (0). Tokens estimated as characters / 4.`,
  );
  console.log(`                                    per 100 member messages      tokens per call`);
  console.log(
    `                                  model calls   prompt tokens       mean       max  answers  notices  seconds`,
  );
  console.log(row("before (no budget, no caps)", before));
  console.log(row("after (the defaults)", after));
  console.log(
    `  after / before                    ${fmt(after.calls / before.calls, 9)}${fmt(after.tokens / before.tokens, 16)}`,
  );
} finally {
  await node.stop();
  await chat.close();
  await rm(dir, { recursive: true, force: true });
}
