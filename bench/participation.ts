// What a message costs the agent it is not for: an agent in a group of three
// in `mention` mode (the default with more than one person), messages that
// do not name it against messages that do. An ignored message should cost
// no model call and a fraction of an answered one's CPU.
// Run: flock /tmp/bench.lock npm run bench:participation   (a throwaway PostgreSQL; about a minute)
//   BENCH_PARTICIPATION_MESSAGES (200)   messages that do not name it
//   BENCH_PARTICIPATION_ANSWERED (25)    messages that do: fewer, as its model budget is 60 calls a minute (two a turn)
//
// What it does: the local XMTP node and one instance host run in their own
// processes, as main.ts runs them, the host's model a local OpenAI-compatible
// server in this process (it answers at once, and counts the calls). One
// agent joins a conversation of its owner's (a sender client here) through a
// real invite; a second sender is added, so the group has three members.
// Then, one at a time: messages that name it ("Concierge, …"), each timed to
// its answer; and messages that do not, followed by one that names it (so
// that the host has handled them all when it answers). The host's CPU
// (utime + stime from /proc/<pid>/stat) and the model's calls are counted
// over each phase; the ignored phase's barrier answer is taken out at the
// answered phase's mean.
//
// What it does not exercise: a real model (whose time would dwarf both), the
// claims service, tools, more than one agent on the host.
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { newTemplateIdentity, signUpdateRelease } from "@convos-pool/kit/signing";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { startChatServer } from "@convos-pool/testing/chat-server";
import { startCreator } from "@convos-pool/convos/testing";
import { EXTRACTION_PROMPT, MODEL_CALLS_PER_MINUTE } from "@convos-pool/instance";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { closeAll, figures, fmt, size, startChild, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

const MESSAGES = size("BENCH_PARTICIPATION_MESSAGES", 200, 5);
// Its per-minute budget (MODEL_CALLS_PER_MINUTE, 60: an answer and its learning each take one) counts the warm-up and the barrier too.
const ANSWERED = Math.min(size("BENCH_PARTICIPATION_ANSWERED", 25, 3), MODEL_CALLS_PER_MINUTE / 2 - 3);
const log = (s: string) => process.stderr.write(`[bench:participation] ${s}\n`);
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** CPU time the process used so far, ms (user + system). */
function cpuMs(pid: number): number {
  // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

const dir = await mkdtemp(join(tmpdir(), "bench-participation-"));
const creds = generateServiceCredentials();
const chat = await startChatServer((req) =>
  req.body.messages[0]?.content.startsWith(EXTRACTION_PROMPT) ? '{"entries":[]}' : "Noted.",
);
const node = await startChild(
  "services/xmtp-devnode/src/main.ts",
  { DATABASE_URL: await createTestDatabase("bench_participation"), ...NODE_WITHOUT_RATE_LIMITS },
  { readyPrefix: "XMTP devnode:" },
);
const host = await startServiceProcess("bench/lone-host.ts", {
  env: {
    XMTP_API_URL: node.url,
    BENCH_MASTER_SEED: generateMnemonic(english),
    ...serviceEnv(creds["instance-host"]),
    INSTANCE_DATA_DIR: join(dir, "instances"),
    DORMANT_AFTER_MS: "0",
    LLM_BASE_URL: chat.baseUrl,
    LLM_API_KEY: "bench",
  },
  readyPrefix: "instance host:",
  timeoutMs: 120_000,
});
const closers: [string, () => unknown][] = [];
try {
  await mkdir(join(dir, "owner"));
  await mkdir(join(dir, "friend"));
  const owner = await startCreator(node.url, join(dir, "owner"));
  const friend = await startCreator(node.url, join(dir, "friend"));
  closers.push(["the owner's client", () => owner.close()], ["the friend's client", () => friend.close()]);
  const hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  const rpc = createServiceClient(InstanceService, host.url, creds.claims);
  closers.push(["the host's RPC client", () => hostRpc.close()], ["the instance's RPC client", () => rpc.close()]);
  const call = { headers: { "x-pool-instance": "agent" }, timeoutMs: 120_000 };
  const creator = newIdentity();
  const template = await signUpdateRelease(creator.account, {
    ...newTemplateIdentity(creator.inboxId),
    version: 2n,
    content: sampleContent({ agent_name: "Concierge", instructions: "You help the group.", tools: [] }),
  });
  const { inboxId } = await hostRpc.client.startInstance({ instanceId: "agent", walletIndex: 0 });
  await rpc.client.configure({ template, ownerId: owner.inboxId }, call);
  const conv = await owner.conversation("Weekend plans");
  await rpc.client.joinConversation({ conversationInvite: conv.invite }, call);
  await owner.group(conv.groupId)!.addMembers([friend.inboxId]);
  const members = (await owner.members()).get(conv.groupId)!.length + 1;
  log(`an agent in a group of ${members}; ${ANSWERED} messages that name it, ${MESSAGES} that do not`);

  const ask = (text: string) => owner.ask(conv.groupId, inboxId, text, 60_000);
  await ask("Concierge, hello"); // warm: its first turn loads what later turns reuse
  // Answered: each named, each waited for.
  let cpu0 = cpuMs(host.pid);
  let calls0 = chat.requests.length;
  const answerMs: number[] = [];
  for (let i = 0; i < ANSWERED; i++) {
    const t = performance.now();
    await ask(`Concierge, what should we do on day ${i}?`);
    answerMs.push(performance.now() - t);
  }
  const answeredCpu = (cpuMs(host.pid) - cpu0) / ANSWERED;
  const answeredCalls = (chat.requests.length - calls0) / ANSWERED;
  // Ignored: not named, then one named as the barrier.
  cpu0 = cpuMs(host.pid);
  calls0 = chat.requests.length;
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) await owner.send(conv.groupId, `the museum is open until ${i % 12} tonight`);
  await ask("Concierge, are you there?");
  const ignoredMs = (performance.now() - t0) / MESSAGES;
  const ignoredCpu = (cpuMs(host.pid) - cpu0 - answeredCpu) / MESSAGES;
  const ignoredCalls = (chat.requests.length - calls0 - answeredCalls) / MESSAGES;

  const a = figures(answerMs);
  console.log(
    `one agent in a group of ${members} (mention mode, the default), instance host process; ${ANSWERED} messages name it, ${MESSAGES} do not:`,
  );
  console.log(`                                   host CPU per message   model calls per message`);
  console.log(`  answered (names it)              ${fmt(answeredCpu, 10)} ms        ${fmt(answeredCalls, 10)}`);
  console.log(`  ignored (does not name it)       ${fmt(ignoredCpu, 10)} ms        ${fmt(ignoredCalls, 10)}`);
  console.log(`  ignored / answered CPU           ${fmt(ignoredCpu / answeredCpu, 10)}`);
  console.log(
    `  answered, send to answer: p50 ${fmt(a.p50, 0)} ms, p99 ${fmt(a.p99, 0)} ms; ignored, sent: ${fmt(ignoredMs, 0)} ms each`,
  );
} finally {
  await closeAll([
    ...closers.reverse(),
    ["the instance host", () => host.stop()],
    ["the XMTP node", () => node.stop()],
    ["the model stand-in", () => chat.close()],
    ["its directory", () => rm(dir, { recursive: true, force: true })],
  ]);
}
// Whatever a client's native side still holds, the benchmark is over (the other benchmarks end so too).
process.exit(0);
