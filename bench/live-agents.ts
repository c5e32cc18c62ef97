// Live agents per host: claimed agents, each in its own conversation and
// answering, in one instance host process, most of them dormant; what each
// costs, how fast a dormant one wakes, how fast an awake one answers.
// Run: flock /tmp/bench.lock npm run bench:live   (a throwaway PostgreSQL; about 10 minutes at 1,000)
//   BENCH_LIVE_AGENTS (1000)      claimed agents on the host
//   BENCH_LIVE_AWAKE (1000)       of them woken and kept awake for the awake figures (at most the agents)
//   BENCH_LIVE_MESSAGES (400)     messages to random awake agents, 8 in flight
//   BENCH_LIVE_WAKES (40)         dormant agents woken one at a time
//   BENCH_LIVE_BURSTS (5)         times WAKE_BURST (20) dormant agents are woken at once
//   BENCH_LIVE_SETUP_QUIET_MS (15000) the quiet time after which an agent sleeps during setup
//   BENCH_LIVE_SETUP_MINUTES (unset) setup stops starting agents after this long; the run goes on with those joined
//   BENCH_LIVE_PROF (unset)       a directory: the host processes run with --cpu-prof into it
//
// What it does: the local XMTP node and one instance host run in their own
// processes, exactly as main.ts runs them (offline model). Setup: the host
// runs with a short quiet time (BENCH_LIVE_SETUP_QUIET_MS) so that an agent
// that has joined falls dormant soon after (its XMTP client closed: memory
// and descriptors stay bounded by the agents in setup, not by N). Each agent
// is started (StartInstance), configured over InstanceService with a
// creator-signed template release (as the claims service would), and joins
// its own Convos conversation through a real invite (JoinConversation),
// SETUP_IN_FLIGHT agents at a time through the three steps. The sender
// clients in this process (@xmtp/node-sdk, `startCreator`, one per
// GROUPS_PER_SENDER agents) create the conversations, hand out their
// invites and add the agent that asks to join.
//
// Then the host restarts with a quiet time longer than the run (timed: N
// dormant agents brought back) and is measured with every agent dormant.
// Dormant agents picked at random get a message, one at a time, then
// WAKE_BURST at once: each wake-to-answer is from the send to the answer on
// the sender's stream. Then agents are woken until AWAKE are awake, the
// host is measured again (what an awake agent costs over a dormant one),
// and the senders message awake agents at random, 8 in flight. Last, the
// host restarts once more with AWAKE awake agents and the rest dormant.
// Measured from outside, in the host's /proc/<pid>/status (VmRSS, Threads)
// and /proc/<pid>/fd.
//
// What it does not exercise: the claims service and its pool manager (no
// ClaimAgent; instances are started and configured straight on the host),
// a real model (the offline provider answers at once), tools, conversations
// with more than two members, and the XMTP network itself (the local node).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { newTemplateIdentity, signUpdateRelease } from "@convos-pool/kit/signing";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { startCreator } from "@convos-pool/convos/testing";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  figures,
  fmt,
  procStatus,
  settledStatus,
  size,
  startChild,
  type Child,
  type ProcessStatus,
  NODE_WITHOUT_RATE_LIMITS,
} from "./lib.js";

const N = size("BENCH_LIVE_AGENTS", 1000, 6);
const AWAKE = Math.min(N, size("BENCH_LIVE_AWAKE", 1000, 4));
const MESSAGES = size("BENCH_LIVE_MESSAGES", 400, 12);
const WAKES = size("BENCH_LIVE_WAKES", 40, 2);
const BURSTS = size("BENCH_LIVE_BURSTS", 5, 1);
const WAKE_BURST = Math.min(20, Math.max(1, Math.floor((N - WAKES) / BURSTS)));
const SETUP_QUIET_MS = size("BENCH_LIVE_SETUP_QUIET_MS", 15_000, 2_000);
const PROF = process.env.BENCH_LIVE_PROF;
/** On a machine shared with other work, setup may be cut short: the figures are then for the agents that joined. */
const SETUP_MS = process.env.BENCH_LIVE_SETUP_MINUTES
  ? Number(process.env.BENCH_LIVE_SETUP_MINUTES) * 60_000
  : Infinity;
/** The agents on the host once setup is over: N, or fewer when setup was cut short. */
let n = N;
/**
 * A sender streams all its groups and adds every joiner itself: a few
 * senders with thousands of groups each would measure the senders, not the
 * host, so each gets at most this many.
 */
const GROUPS_PER_SENDER = 250;
const SENDERS = Math.min(N, Math.max(4, Math.ceil(N / GROUPS_PER_SENDER)));
const SETUP_IN_FLIGHT = 24;
const IN_FLIGHT = 8;
/** Longer than any run: after setup, no agent falls asleep while it is measured awake. */
const MEASURE_QUIET_MS = 6 * 60 * 60 * 1000;
const log = (s: string) => process.stderr.write(`[bench:live] ${s}\n`);

/** What the host's threads and descriptors are: threads by name, descriptors by what they point at. */
function breakdown(pid: number): { threads: Map<string, number>; fds: Map<string, number> } {
  const threads = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, "utf8").trim().replace(/-\d+$/, "-*");
      threads.set(name, (threads.get(name) ?? 0) + 1);
    } catch {
      // ended meanwhile
    }
  }
  const fds = new Map<string, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind = /\.db3$/.test(target)
      ? "XMTP database"
      : /\.db3-wal$/.test(target)
        ? "XMTP database WAL"
        : /\.db3-shm$/.test(target)
          ? "XMTP database shared memory"
          : target.startsWith("socket:")
            ? "socket"
            : target.startsWith("anon_inode:")
              ? target.replace(/\[.*$/, "")
              : target.startsWith("pipe:")
                ? "pipe"
                : "other";
    fds.set(kind, (fds.get(kind) ?? 0) + 1);
  }
  return { threads, fds };
}

/** Per agent: the counts of `b` over those of `a`, divided by `n`, largest first. */
function perAgent(a: Map<string, number>, b: Map<string, number>, count = n): string {
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => [k, ((b.get(k) ?? 0) - (a.get(k) ?? 0)) / count] as const)
    .filter(([, v]) => Math.abs(v) >= 0.01)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(", ");
}

/** Runs `job(i)` for i in [0, n) with `concurrency` at a time. */
async function pool(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

const dir = await mkdtemp(join(tmpdir(), "bench-live-"));
if (PROF) await mkdir(PROF, { recursive: true });
const creds = generateServiceCredentials();
const seed = generateMnemonic(english);
const node = await startChild(
  "services/xmtp-devnode/src/main.ts",
  { DATABASE_URL: await createTestDatabase("bench_live"), ...NODE_WITHOUT_RATE_LIMITS },
  { readyPrefix: "XMTP devnode:" },
);

/** The host in its own process; its agents go dormant after `dormantMs` of quiet. */
function startHost(dormantMs: number): Promise<Child> {
  return startServiceProcess("bench/lone-host.ts", {
    env: {
      XMTP_API_URL: node.url,
      BENCH_MASTER_SEED: seed,
      ...serviceEnv(creds["instance-host"]),
      INSTANCE_DATA_DIR: join(dir, "instances"),
      MAX_INSTANCES: String(N),
      DORMANT_AFTER_MS: String(dormantMs),
    },
    readyPrefix: "instance host:",
    ...(PROF ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", PROF, "--cpu-prof-interval", "2000"] } : {}),
    // Bringing back N agents takes a while; its close (every agent stopped) too.
    timeoutMs: 1_800_000,
    stopGraceMs: 300_000,
    onLine: (line) => {
      if (line.includes('"level":"error"') && !line.includes("sqlcipherCodecAttach"))
        process.stderr.write(`[instance] ${line}\n`);
    },
  });
}

const senders: Awaited<ReturnType<typeof startCreator>>[] = [];
let host = await startHost(SETUP_QUIET_MS);
const closers: (() => unknown)[] = [];
try {
  for (let i = 0; i < SENDERS; i++) {
    await mkdir(join(dir, `sender-${i}`));
    senders.push(await startCreator(node.url, join(dir, `sender-${i}`)));
  }
  let hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  let rpc = createServiceClient(InstanceService, host.url, creds.claims);
  closers.push(
    () => hostRpc.close(),
    () => rpc.close(),
  );
  const call = (id: string) => ({ headers: { "x-pool-instance": id }, timeoutMs: 120_000 });
  const creator = newIdentity();
  const template = await signUpdateRelease(creator.account, {
    ...newTemplateIdentity(creator.inboxId),
    version: 2n,
    content: sampleContent({
      agent_name: "Concierge",
      instructions: "You answer questions about the city.",
      tools: [],
    }),
  });
  const countIn = async (state: InstanceState) =>
    (await hostRpc.client.listInstances({})).instances.filter((i) => i.state === state).length;

  const empty = await settledStatus(host.pid);
  const emptyKinds = breakdown(host.pid);
  // Setup: each agent started, configured and joined; joined agents fall dormant as they go quiet.
  const agents: { id: string; inboxId: string; sender: (typeof senders)[number]; groupId: string }[] = [];
  const startMs: number[] = [];
  const joinMs: number[] = [];
  let peak: ProcessStatus = procStatus(host.pid);
  const t0 = performance.now();
  let done = 0;
  await pool(N, SETUP_IN_FLIGHT, async (i) => {
    if (performance.now() - t0 > SETUP_MS) return;
    const id = `live-${i}`;
    const sender = senders[i % SENDERS]!;
    let t = performance.now();
    const { inboxId } = await hostRpc.client.startInstance({ instanceId: id, walletIndex: i });
    await rpc.client.configure({ template, ownerId: sender.inboxId }, call(id));
    startMs.push(performance.now() - t);
    const conv = await sender.conversation(`Live ${i}`);
    t = performance.now();
    const groupId = (await rpc.client.joinConversation({ conversationInvite: conv.invite }, call(id))).conversationId;
    joinMs.push(performance.now() - t);
    if (groupId !== conv.groupId) throw new Error(`${id} joined ${groupId}, not ${conv.groupId}`);
    agents[i] = { id, inboxId, sender, groupId };
    if (++done % 250 === 0) {
      const st = procStatus(host.pid);
      if (st.rssMb > peak.rssMb) peak = st;
      log(
        `${done} joined in ${((performance.now() - t0) / 1000).toFixed(0)} s; host ${st.rssMb.toFixed(0)} MB, ${st.fds} fds`,
      );
    }
  });
  const setupS = (performance.now() - t0) / 1000;
  // Agents are started in order and each started one finishes: those joined are 0 .. n-1.
  n = agents.length;
  if (n < N) log(`setup cut short after ${SETUP_MS / 60_000} minutes: ${n} of ${N} agents`);
  const claimed = (await hostRpc.client.listInstances({})).instances.filter(
    (i) => i.state === InstanceState.CLAIMED || i.state === InstanceState.DORMANT,
  ).length;
  if (claimed !== n) throw new Error(`expected ${n} claimed agents, the host lists ${claimed}`);
  const d0 = performance.now();
  while ((await countIn(InstanceState.DORMANT)) < n) {
    if (performance.now() - d0 > SETUP_QUIET_MS + 600_000)
      throw new Error(`only ${await countIn(InstanceState.DORMANT)} of ${n} agents went dormant`);
    await new Promise((r) => setTimeout(r, 5_000));
  }
  log(`setup: ${n} in ${setupS.toFixed(0)} s; all dormant ${((performance.now() - d0) / 1000).toFixed(0)} s later`);
  const afterSetup = await settledStatus(host.pid);
  const s = figures(startMs);
  const j = figures(joinMs);
  const per = (st: ProcessStatus, base: ProcessStatus, count = n) => ({
    mb: (st.rssMb - base.rssMb) / count,
    threads: (st.threads - base.threads) / count,
    fds: (st.fds - base.fds) / count,
  });
  const line = (label: string, st: ProcessStatus) =>
    `  ${label.padEnd(44)}${fmt(st.rssMb, 9)} MB ${String(st.threads).padStart(8)} ${String(st.fds).padStart(8)}`;
  const perLine = (label: string, st: ProcessStatus, base = empty, count = n) => {
    const p = per(st, base, count);
    return `  ${label.padEnd(44)}${fmt(p.mb, 9)} MB ${p.threads.toFixed(2).padStart(8)} ${p.fds.toFixed(2).padStart(8)}`;
  };
  console.log(
    `instance host process (offline model), ${n} claimed agents, each in its own conversation with one of ${SENDERS} senders:`,
  );
  console.log(
    `  setup: ${n} started, configured and joined in ${setupS.toFixed(0)} s (${(n / setupS).toFixed(1)} a second, ${SETUP_IN_FLIGHT} in flight); start and configure p50 ${fmt(s.p50, 0)} ms, p99 ${fmt(s.p99, 0)} ms; join p50 ${fmt(j.p50, 0)} ms, p99 ${fmt(j.p99, 0)} ms`,
  );
  console.log(`  ${"".padEnd(44)}${"RSS".padStart(12)} ${"threads".padStart(8)} ${"fds".padStart(8)}`);
  console.log(line("host, no agent", empty));
  console.log(line("largest seen during setup", peak));
  console.log(line(`${n} dormant, after setup`, afterSetup));

  // Restart with a quiet time longer than the run: every agent comes back dormant, and stays so until woken.
  rpc.close();
  hostRpc.close();
  await host.stop();
  const r0 = performance.now();
  host = await startHost(MEASURE_QUIET_MS);
  const restoreDormantS = (performance.now() - r0) / 1000;
  hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  rpc = createServiceClient(InstanceService, host.url, creds.claims);
  const backDormant = await countIn(InstanceState.DORMANT);
  const dormant = await settledStatus(host.pid);
  const dormantKinds = breakdown(host.pid);
  console.log(line(`${n} dormant, after a restart`, dormant));
  console.log(perLine("per dormant agent, over the host with none", dormant));
  console.log(`  per dormant agent, threads by name: ${perAgent(emptyKinds.threads, dormantKinds.threads)}`);
  console.log(`  per dormant agent, descriptors by kind: ${perAgent(emptyKinds.fds, dormantKinds.fds)}`);
  console.log(`  host restart: ${n} dormant agents back in ${restoreDormantS.toFixed(1)} s (${backDormant} dormant)`);

  /** From a sender's message to the agent's answer, `inFlight` at a time. */
  async function ask(picks: number[], inFlight: number, ms: number): Promise<number[]> {
    const out: number[] = [];
    await pool(picks.length, inFlight, async (k) => {
      const a = agents[picks[k]!]!;
      const t = performance.now();
      await a.sender.ask(a.groupId, a.inboxId, `What is good to see today? (${k})`, ms);
      out.push(performance.now() - t);
    });
    return out;
  }
  // Agents in a random order: each woken at most once below.
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(Math.random() * (i + 1));
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  let taken = 0;
  const take = (count: number) => {
    const picked = order.slice(taken, taken + count);
    taken += picked.length;
    return picked;
  };
  const stat = (label: string, ms: number[]) => {
    const f = figures(ms);
    return `  ${label}: p50 ${fmt(f.p50, 0)} ms, p99 ${fmt(f.p99, 0)} ms, max ${fmt(Math.max(...ms), 0)} ms   (target <= 1000 ms)`;
  };
  const wakeMs = await ask(take(Math.min(WAKES, n)), 1, 30_000);
  console.log(stat(`wake to answer, ${wakeMs.length} dormant agents one at a time`, wakeMs));
  const burstMs: number[] = [];
  for (let b = 0; b < BURSTS && taken + WAKE_BURST <= n; b++) {
    burstMs.push(...(await ask(take(WAKE_BURST), WAKE_BURST, 60_000)));
    await new Promise((r) => setTimeout(r, 2_000));
  }
  if (burstMs.length > 0)
    console.log(stat(`wake to answer, ${WAKE_BURST} dormant agents at once (${burstMs.length} in all)`, burstMs));
  log(`${taken} woken; waking more until ${AWAKE} are awake`);

  // More awake, until AWAKE: the awake figures are over the same host with those agents dormant.
  const w0 = performance.now();
  const restMs = await ask(take(Math.max(0, AWAKE - taken)), IN_FLIGHT, 60_000);
  const awakeNow = await countIn(InstanceState.CLAIMED);
  log(`${awakeNow} awake, ${restMs.length} woken in ${((performance.now() - w0) / 1000).toFixed(0)} s`);
  const awake = await settledStatus(host.pid);
  const awakeKinds = breakdown(host.pid);
  const awakePicks = order.slice(0, taken);
  const random = (n: number) => Array.from({ length: n }, () => awakePicks[Math.floor(Math.random() * taken)]!);
  const replyMs = await ask(random(MESSAGES), IN_FLIGHT, 60_000);
  const afterReplies = await settledStatus(host.pid);
  console.log("");
  console.log(line(`${awakeNow} awake, ${n - awakeNow} dormant`, awake));
  console.log(line(`  after ${MESSAGES} messages answered`, afterReplies));
  console.log(perLine("per awake agent, over a dormant one", awake, dormant, awakeNow));
  console.log(
    `  claimed, awake ${fmt(per(awake, dormant, awakeNow).mb + per(dormant, empty).mb, 9)} MB per agent (a dormant one plus the above)`,
  );
  console.log(`  per awake agent, threads by name: ${perAgent(dormantKinds.threads, awakeKinds.threads, awakeNow)}`);
  console.log(`  per awake agent, descriptors by kind: ${perAgent(dormantKinds.fds, awakeKinds.fds, awakeNow)}`);
  console.log(
    stat(`reply, ${MESSAGES} messages to random awake agents (of ${awakeNow}), ${IN_FLIGHT} in flight`, replyMs),
  );

  rpc.close();
  hostRpc.close();
  await host.stop();
  const r1 = performance.now();
  host = await startHost(MEASURE_QUIET_MS);
  const restoreMixedS = (performance.now() - r1) / 1000;
  hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  console.log(
    `  host restart: ${n} agents (${awakeNow} awake) back in ${restoreMixedS.toFixed(1)} s, ${await countIn(InstanceState.DORMANT)} dormant`,
  );
} finally {
  for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
  for (const s of senders) await s.close().catch(() => undefined);
  await host.stop().catch(() => undefined);
  await node.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
