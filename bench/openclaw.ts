// What an OpenClaw agent costs its host, against the pool's own runtime: the
// install, a gateway's start, its resident memory idle and after turns, a
// turn's time and prompt, a dormant agent's wake with and without a warm
// gateway, and so how many such agents a host holds, awake and with dormancy.
// Run: flock /tmp/bench.lock npm run bench:openclaw   (about fifteen minutes, ten with STARTS=1 TURNS=5; installs OpenClaw first)
//   BENCH_OPENCLAW_STARTS (3)    gateway starts measured, one after another (never two at once)
//   BENCH_OPENCLAW_TURNS (20)    turns per runtime
//   BENCH_OPENCLAW_WAKES (3)     wakes measured each way: with the agent's own gateway starting, and with a warm one
//   BENCH_OPENCLAW_INSTALL=1     also time a fresh install into a temporary folder (about two minutes, 770 MB, deleted after)
//
// What it does: the model is a local OpenAI-compatible server in this
// process that answers at once and records every request (so a turn's time is
// the runtime's own, not a model's). The pool's runtime: its OpenAiProvider
// against that server, one chat completion a turn. OpenClaw: the host's
// OpenClawRuntime with one agent (a workspace in a temporary folder, a signed
// template's content), its gateway started, measured and stopped, then the
// same turns through it, in one conversation's session. RSS is the gateway's
// process group (/proc), after 10 s of rest. A wake is what AgentDormancy
// does to the runtime: `rest` (its gateway stopped, its files kept), then
// `apply` and a turn; timed from `apply` to the turn's answer. With a warm
// gateway the runtime keeps one spare started, and waits for it to be ready
// before each wake (two gateways at most run at once).
//
// What it does not exercise: XMTP (the same for both runtimes: the host keeps
// it), a real model (its seconds dwarf either runtime's overhead), tools.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createLogger } from "@convos-pool/kit/server";
import { TemplateContentSchema } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import {
  estimateTokens,
  findOpenClaw,
  Memory,
  OpenAiProvider,
  OpenClawRuntime,
  Workspace,
  type InstanceConfig,
} from "@convos-pool/instance";
import { startChatServer, type RecordedRequest } from "@convos-pool/testing/chat-server";
import { figures, fmt, median, size } from "./lib.js";

const STARTS = size("BENCH_OPENCLAW_STARTS", 3, 1);
const TURNS = size("BENCH_OPENCLAW_TURNS", 20, 3);
const WAKES = size("BENCH_OPENCLAW_WAKES", 3, 1);
const log = (s: string) => process.stderr.write(`[bench:openclaw] ${s}\n`);
const MB = 1024 * 1024;

/** A request's prompt in estimated tokens (characters / 4), its functions included. */
const promptTokens = (r: RecordedRequest) =>
  estimateTokens(
    r.body.messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join(""),
  ) + (r.body.tools ? estimateTokens(JSON.stringify(r.body.tools)) : 0);

async function timedInstall(): Promise<{ seconds: number; mb: number } | undefined> {
  if (process.env.BENCH_OPENCLAW_INSTALL !== "1") return undefined;
  const dir = await mkdtemp(join(tmpdir(), "bench-openclaw-install-"));
  try {
    const started = performance.now();
    await promisify(execFile)("bash", ["scripts/openclaw-install.sh", dir], { maxBuffer: 16 * MB });
    const seconds = (performance.now() - started) / 1000;
    const { stdout } = await promisify(execFile)("du", ["-sm", join(dir, "node_modules")]);
    return { seconds, mb: Number(stdout.split(/\s/)[0]) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const install = await timedInstall();
const openclaw = await findOpenClaw();
const chat = await startChatServer(() => "Noted.");
const upstream = { baseUrl: chat.baseUrl, apiKey: "sk-bench", model: "bench-model" };
const dir = await mkdtemp(join(tmpdir(), "bench-openclaw-"));
const content = create(TemplateContentSchema, {
  agentName: "Trip Planner",
  instructions: "You are a travel planning assistant. You help groups plan trips. Answer briefly.",
});
const turnInput = (i: number) => ({
  model: "bench-model",
  agentName: "Trip Planner",
  identity: `# Trip Planner\n\n${content.instructions}\n`,
  context: "Your trust level is L2 (advisor): you may suggest, never act.",
  memory: new Memory(),
  history: [
    { role: "user" as const, text: `Trip Planner, idea number ${i} for Kyoto?`, sender: "Saul", speaker: "owner" },
  ],
  role: "owner" as const,
});

/** Median ms and prompt tokens of `TURNS` turns of `reply`, after one turn not counted. */
async function turns(reply: (i: number) => Promise<string>): Promise<{ ms: number; first: number; tokens: number }> {
  let started = performance.now();
  await reply(0);
  const first = performance.now() - started;
  const from = chat.requests.length;
  const ms: number[] = [];
  for (let i = 1; i <= TURNS; i++) {
    started = performance.now();
    await reply(i);
    ms.push(performance.now() - started);
  }
  const sent = chat.requests.slice(from);
  return { ms: median(ms), first, tokens: median(sent.map(promptTokens)) };
}

try {
  // ---- the pool's runtime: one chat completion a turn ----
  const pool = new OpenAiProvider(upstream);
  const builtIn = await turns((i) => pool.reply(turnInput(i)));
  log(`pool runtime: ${builtIn.ms.toFixed(1)} ms a turn, ${builtIn.tokens} prompt tokens`);

  // ---- OpenClaw: one agent, its gateway ----
  const runtime = new OpenClawRuntime({
    install: openclaw,
    upstream,
    host: pool,
    log: createLogger("bench", { level: "silent" }),
  });
  const ws = new Workspace(dir, "bench_agent");
  await ws.create();
  const agent = {
    id: "bench_agent",
    ws,
    log: createLogger("bench", { level: "silent" }),
    config: { model: "bench-model" } as InstanceConfig,
    convo: { conversationId: "bench-conversation" } as never,
    runningContent: () => content,
  };
  const starts: number[] = [];
  const idleRss: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    await runtime.apply(agent);
    const gateway = runtime.gateways().get(agent.id)!;
    await gateway.ensure();
    starts.push(gateway.lastStartMs!);
    await sleep(10_000);
    idleRss.push(await gateway.rssBytes());
    log(
      `start ${i + 1}: ready in ${(gateway.lastStartMs! / 1000).toFixed(1)} s, ${(idleRss.at(-1)! / MB).toFixed(0)} MB idle`,
    );
    if (i < STARTS - 1) await runtime.stop(agent);
  }
  const provider = runtime.provider(agent);
  const claw = await turns((i) => provider.reply(turnInput(i)));
  await sleep(10_000);
  const gateway = runtime.gateways().get(agent.id)!;
  const busyRss = await gateway.rssBytes();
  log(`openclaw runtime: ${claw.ms.toFixed(1)} ms a turn, ${claw.tokens} prompt tokens`);

  // ---- sleep and wake: a dormant agent's gateway stopped, then a turn wakes it ----
  /** One wake: its gateway rests (as when it goes dormant), then `apply` and a turn (as when a message wakes it). */
  const wake = async (rt: OpenClawRuntime, i: number): Promise<number> => {
    await rt.rest(agent);
    await sleep(2_000);
    const started = performance.now();
    await rt.apply(agent);
    await rt.provider(agent).reply(turnInput(100 + i));
    return performance.now() - started;
  };
  const coldWakes: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    coldWakes.push(await wake(runtime, i));
    log(`wake ${i + 1} (its own gateway starting): ${(coldWakes.at(-1)! / 1000).toFixed(1)} s`);
  }
  await runtime.rest(agent);
  const { stdout: du } = await promisify(execFile)("du", ["-sk", ws.dir]);
  const dormantDiskMb = Number(du.split(/\s/)[0]) / 1024;
  await runtime.stop(agent);

  const warm = new OpenClawRuntime({
    install: openclaw,
    upstream,
    host: pool,
    log: createLogger("bench", { level: "silent" }),
    warmGateways: 1,
    spareDir: join(dir, "spares"),
  });
  warm.warm();
  const spareReady = async () => {
    while (!warm.spareGateways().some((g) => g.ready)) await sleep(500);
  };
  const warmWakes: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    await spareReady();
    warmWakes.push(await wake(warm, WAKES + i));
    log(`wake ${i + 1} (a warm gateway taken): ${(warmWakes.at(-1)! / 1000).toFixed(1)} s`);
  }
  await warm.release(agent);
  await warm.close();

  const ramMb = Number(/MemTotal:\s+(\d+)/.exec(await readFile("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024;
  const perAgent = Math.max(median(idleRss), busyRss) / MB;
  console.log(
    `OpenClaw ${openclaw.version} on Node ${process.version} (host), this machine: ${ramMb.toFixed(0)} MB RAM`,
  );
  if (install) console.log(`install (fresh):           ${fmt(install.seconds)} s, ${install.mb} MB`);
  console.log(
    `gateway start to ready:    ${fmt(median(starts) / 1000)} s median of ${STARTS} (${starts.map((s) => (s / 1000).toFixed(1)).join(", ")})`,
  );
  console.log(
    `gateway RSS idle:          ${fmt(median(idleRss) / MB)} MB; after ${TURNS + 1} turns ${fmt(busyRss / MB)} MB`,
  );
  console.log("turn (model answers at once)        median ms   first ms   prompt tokens");
  console.log(
    `  pool runtime               ${fmt(builtIn.ms, 12)} ${fmt(builtIn.first, 10)} ${String(builtIn.tokens).padStart(15)}`,
  );
  console.log(
    `  openclaw runtime           ${fmt(claw.ms, 12)} ${fmt(claw.first, 10)} ${String(claw.tokens).padStart(15)}`,
  );
  const awake = Math.floor((ramMb * 0.8) / perAgent);
  console.log(
    `agents a host holds by RAM:  about ${awake} OpenClaw gateways (80% of RAM at ${perAgent.toFixed(0)} MB each)`,
  );
  const cold = figures(coldWakes);
  const hot = figures(warmWakes);
  console.log(`wake, message to answer (XMTP left out)   p50 s   p99 s   of`);
  console.log(`  its own gateway starting          ${fmt(cold.p50 / 1000)} ${fmt(cold.p99 / 1000)}   ${WAKES}`);
  console.log(`  a warm gateway taken              ${fmt(hot.p50 / 1000)} ${fmt(hot.p99 / 1000)}   ${WAKES}`);
  console.log(
    `a dormant agent: no process of OpenClaw's, ${dormantDiskMb.toFixed(1)} MB of disk (its workspace and OpenClaw's state)`,
  );
  // With dormancy, RAM bounds the agents awake at once (a spare is one gateway idle); the dormant ones hold
  // no gateway, only what a dormant agent of the pool's own holds in the host process (live-agents.md).
  const withSpare = Math.floor((ramMb * 0.8 - median(idleRss) / MB) / perAgent);
  console.log(
    `agents awake at once with dormancy: ${awake} with no spare, ${withSpare} beside one spare; the others dormant, on disk`,
  );
} finally {
  await chat.close();
  await rm(dir, { recursive: true, force: true });
}
