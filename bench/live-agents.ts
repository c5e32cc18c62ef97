// Live agents per host: claimed agents, each in its own conversation (or
// several) and answering, in one instance host process, most of them
// dormant; what each costs, how fast a dormant one wakes, how fast an awake
// one answers.
// Run: flock /tmp/bench.lock npm run bench:live   (a throwaway PostgreSQL; about 10 minutes at 1,000)
//   BENCH_LIVE_AGENTS (1000)      claimed agents on the host
//   BENCH_LIVE_CONVERSATIONS (1)  conversations of each agent (at most 10): its home, the rest added by its owner
//   BENCH_LIVE_AWAKE (1000)       of them woken and kept awake for the awake figures (at most the agents)
//   BENCH_LIVE_MESSAGES (400)     messages to random conversations of random awake agents, 8 in flight
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
// creator-signed template release (as the claims service would), joins its
// own Convos conversation through a real invite (JoinConversation), and
// then each of its other conversations through AddConversation, signed by
// its owner (AddToConversation), SETUP_IN_FLIGHT agents at a time through
// the steps. The sender clients in this process (@xmtp/node-sdk,
// `startCreator`, one per GROUPS_PER_SENDER conversations) own the agents,
// create the conversations, hand out their invites and add the agent that
// asks to join. Whether an agent went dormant is read from the host, never
// assumed: an agent that may not sleep (one in several conversations, until
// its dormancy keeps a cursor per conversation) stays awake, and the figures
// say which state they measured.
//
// Then the host restarts with a quiet time longer than the run (timed: N
// agents brought back, against a restart of the host with none before
// setup) and is measured. Dormant agents picked at random get
// a message in a random one of their conversations, one at a time, then
// WAKE_BURST at once: each wake-to-answer is from the send to the answer on
// the sender's stream. Then agents are woken until AWAKE are awake, the
// host is measured again, and the senders message random conversations of
// awake agents at random, 8 in flight. What a dormant and an awake agent
// cost comes from the two measures of the same agents in two mixes of
// dormant and awake (one unknown only when a mix is all one state). Last,
// the host restarts once more with the agents as they are.
// Measured from outside, in the host's /proc/<pid>/status (VmRSS, Threads)
// and /proc/<pid>/fd.
//
// What it does not exercise: the claims service and its pool manager (no
// ClaimAgent, no AddToConversation through the pool; instances are started,
// configured and added straight on the host), a real model (the offline
// provider answers at once), tools, conversations with more than two
// members, and the XMTP network itself (the local node).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { newTemplateIdentity, signAddToConversation, signUpdateRelease } from "@convos-pool/kit/signing";
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
  QUICK,
  settledStatus,
  size,
  startChild,
  type Child,
  type ProcessStatus,
  NODE_WITHOUT_RATE_LIMITS,
} from "./lib.js";

const N = size("BENCH_LIVE_AGENTS", 1000, 6);
/** An agent's conversations: its home and the rest added by its owner (the host's MAX_CONVERSATIONS is 10). */
const CONVERSATIONS = size("BENCH_LIVE_CONVERSATIONS", 1, 1);
if (CONVERSATIONS > 10) throw new Error("BENCH_LIVE_CONVERSATIONS: an agent is in at most 10 conversations");
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
const SENDERS = Math.min(N, Math.max(4, Math.ceil((N * CONVERSATIONS) / GROUPS_PER_SENDER)));
const SETUP_IN_FLIGHT = 24;
const IN_FLIGHT = 8;
/** Longer than any run: after setup, no agent falls asleep while it is measured awake. */
const MEASURE_QUIET_MS = 6 * 60 * 60 * 1000;
/**
 * After setup, how long the number of dormant agents may stay the same before
 * the others are taken to stay awake: the quiet time and two of the host's
 * sweeps (every quiet time / 4, at most 30 s, host/group-watch.ts), and a margin.
 */
const DORMANT_STALL_MS = SETUP_QUIET_MS + 2 * Math.min(SETUP_QUIET_MS / 4, 30_000) + (QUICK ? 3_000 : 15_000);
const log = (s: string) => process.stderr.write(`[bench:live] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Per agent: the counts of `b` over those of `a`, divided by `count`, largest first. */
function perAgent(a: Map<string, number>, b: Map<string, number>, count: number): string {
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => [k, ((b.get(k) ?? 0) - (a.get(k) ?? 0)) / count] as const)
    .filter(([, v]) => Math.abs(v) >= 0.01)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(", ");
}

/** The host measured with `dormant` of its agents dormant and `awake` awake. */
interface Mix {
  st: ProcessStatus;
  dormant: number;
  awake: number;
}
type Cost = { mb: number; threads: number; fds: number };

/**
 * What one dormant and one awake agent cost over the host with none, from two
 * measures of the same agents in two mixes (x.dormant·d + x.awake·a = x − empty,
 * and y's): both when the mixes differ, else what one state alone tells.
 */
function costs(empty: ProcessStatus, x: Mix, y: Mix): { dormant?: Cost; awake?: Cost } {
  const over = (m: Mix) => ({
    mb: m.st.rssMb - empty.rssMb,
    threads: m.st.threads - empty.threads,
    fds: m.st.fds - empty.fds,
  });
  const X = over(x);
  const Y = over(y);
  const keys = ["mb", "threads", "fds"] as const;
  const each = (f: (k: (typeof keys)[number]) => number) => Object.fromEntries(keys.map((k) => [k, f(k)])) as Cost;
  const det = x.dormant * y.awake - y.dormant * x.awake;
  if (det !== 0)
    return {
      dormant: each((k) => (X[k] * y.awake - Y[k] * x.awake) / det),
      awake: each((k) => (x.dormant * Y[k] - y.dormant * X[k]) / det),
    };
  if (x.dormant === 0 && x.awake > 0) return { awake: each((k) => X[k] / x.awake) };
  if (x.awake === 0 && x.dormant > 0) return { dormant: each((k) => X[k] / x.dormant) };
  return {};
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

/** `xs` in a random order. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const k = Math.floor(Math.random() * (i + 1));
    [out[i], out[k]] = [out[k]!, out[i]!];
  }
  return out;
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
// A restart of the host with no agent: what every restart costs before its agents (the first start is colder:
// it also transpiles and migrates).
await host.stop();
const h0 = performance.now();
host = await startHost(SETUP_QUIET_MS);
const emptyStartS = (performance.now() - h0) / 1000;
/** A restart per agent over the host with none; a start's own noise (a loaded machine) can hide a small share. */
const restartPerAgent = (s: number, count: number) =>
  s > emptyStartS
    ? `${fmt(((s - emptyStartS) * 1000) / count, 1)} ms an agent over the ${emptyStartS.toFixed(1)} s of a host with none`
    : `no longer than the ${emptyStartS.toFixed(1)} s of a host with none (the agents' share within a start's noise)`;
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
  /** Each agent's state on the host, by id. */
  const states = async () =>
    new Map((await hostRpc.client.listInstances({})).instances.map((i) => [i.instanceId, i.state] as const));
  const countIn = async (state: InstanceState) => [...(await states()).values()].filter((s) => s === state).length;

  const empty = await settledStatus(host.pid);
  const emptyKinds = breakdown(host.pid);
  // Setup: each agent started, configured, joined at home and added to the rest; joined agents fall dormant as
  // they go quiet (those that may).
  const agents: { id: string; inboxId: string; sender: (typeof senders)[number]; groupIds: string[] }[] = [];
  const startMs: number[] = [];
  const joinMs: number[] = [];
  const addMs: number[] = [];
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
    const groupIds = [groupId];
    for (let k = 1; k < CONVERSATIONS; k++) {
      const other = await sender.conversation(`Live ${i}.${k}`);
      // The sender owns the agent: it signs the addition, as an owner does for the pool.
      const signature = await signAddToConversation(sender.account, {
        ownerId: sender.inboxId,
        instanceId: id,
        conversationInvite: other.invite,
      });
      t = performance.now();
      const added = await rpc.client.addConversation(
        { conversationInvite: other.invite, authorization: { ownerId: sender.inboxId, signature } },
        call(id),
      );
      addMs.push(performance.now() - t);
      if (added.conversationId !== other.groupId)
        throw new Error(`${id} was added to ${added.conversationId}, not ${other.groupId}`);
      groupIds.push(other.groupId);
    }
    agents[i] = { id, inboxId, sender, groupIds };
    if (++done % 25 === 0) {
      const st = procStatus(host.pid);
      if (st.rssMb > peak.rssMb) peak = st;
      if (done % 250 === 0 || CONVERSATIONS > 1)
        log(
          `${done} joined in ${((performance.now() - t0) / 1000).toFixed(0)} s; host ${st.rssMb.toFixed(0)} MB, ${st.fds} fds`,
        );
    }
  });
  const setupS = (performance.now() - t0) / 1000;
  // Agents are started in order and each started one finishes: those joined are 0 .. n-1.
  n = agents.length;
  if (n < N) log(`setup cut short after ${SETUP_MS / 60_000} minutes: ${n} of ${N} agents`);
  const listed = (await hostRpc.client.listInstances({})).instances;
  const claimed = listed.filter((i) => i.state === InstanceState.CLAIMED || i.state === InstanceState.DORMANT);
  if (claimed.length !== n) throw new Error(`expected ${n} claimed agents, the host lists ${claimed.length}`);
  const short = claimed.find((i) => i.conversations.length !== CONVERSATIONS);
  if (short)
    throw new Error(`${short.instanceId} is in ${short.conversations.length} conversations, not ${CONVERSATIONS}`);
  // Until every agent is dormant, or none has fallen asleep for longer than one that may would take.
  const d0 = performance.now();
  let dormantAfterSetup = await countIn(InstanceState.DORMANT);
  let changed = performance.now();
  while (dormantAfterSetup < n && performance.now() - changed < DORMANT_STALL_MS) {
    if (performance.now() - d0 > SETUP_QUIET_MS + 600_000) break;
    await sleep(QUICK ? 500 : 5_000);
    const now = await countIn(InstanceState.DORMANT);
    if (now !== dormantAfterSetup) changed = performance.now();
    dormantAfterSetup = now;
  }
  log(
    `setup: ${n} in ${setupS.toFixed(0)} s; ${dormantAfterSetup} of ${n} dormant ${((performance.now() - d0) / 1000).toFixed(0)} s later`,
  );
  const afterSetup = await settledStatus(host.pid);
  const s = figures(startMs);
  const j = figures(joinMs);
  const line = (label: string, st: ProcessStatus) =>
    `  ${label.padEnd(44)}${fmt(st.rssMb, 9)} MB ${String(st.threads).padStart(8)} ${String(st.fds).padStart(8)}`;
  const costLine = (label: string, p: Cost) =>
    `  ${label.padEnd(44)}${fmt(p.mb, 9)} MB ${p.threads.toFixed(2).padStart(8)} ${p.fds.toFixed(2).padStart(8)}`;
  const mixOf = (dormant: number, awake: number) =>
    awake === 0 ? `${dormant} dormant` : dormant === 0 ? `${awake} awake` : `${dormant} dormant, ${awake} awake`;
  console.log(
    CONVERSATIONS === 1
      ? `instance host process (offline model), ${n} claimed agents, each in its own conversation with one of ${SENDERS} senders:`
      : `instance host process (offline model), ${n} claimed agents, each in ${CONVERSATIONS} conversations (its home joined by invite, ${CONVERSATIONS - 1} added by its owner) with one of ${SENDERS} senders:`,
  );
  const added = addMs.length > 0 ? figures(addMs) : undefined;
  console.log(
    `  setup: ${n} started, configured and joined in ${setupS.toFixed(0)} s (${(n / setupS).toFixed(1)} a second, ${SETUP_IN_FLIGHT} in flight); start and configure p50 ${fmt(s.p50, 0)} ms, p99 ${fmt(s.p99, 0)} ms; join p50 ${fmt(j.p50, 0)} ms, p99 ${fmt(j.p99, 0)} ms${added ? `; add to a conversation (${addMs.length}) p50 ${fmt(added.p50, 0)} ms, p99 ${fmt(added.p99, 0)} ms` : ""}`,
  );
  console.log(
    `  dormant after setup: ${dormantAfterSetup} of ${n}${dormantAfterSetup < n ? ` (none more fell asleep within ${(DORMANT_STALL_MS / 1000).toFixed(0)} s: a quiet time, two sweeps and a margin)` : ""}`,
  );
  console.log(`  ${"".padEnd(44)}${"RSS".padStart(12)} ${"threads".padStart(8)} ${"fds".padStart(8)}`);
  console.log(line("host, no agent", empty));
  console.log(line("largest seen during setup", peak));
  console.log(line(`${n} agents (${mixOf(dormantAfterSetup, n - dormantAfterSetup)}), after setup`, afterSetup));

  // Restart with a quiet time longer than the run: every dormant agent comes back dormant, and stays so until
  // woken; an awake one comes back awake.
  rpc.close();
  hostRpc.close();
  await host.stop();
  const r0 = performance.now();
  host = await startHost(MEASURE_QUIET_MS);
  const restoreS = (performance.now() - r0) / 1000;
  hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  rpc = createServiceClient(InstanceService, host.url, creds.claims);
  const back = await states();
  const dormantIds = new Set(agents.filter((a) => back.get(a.id) === InstanceState.DORMANT).map((a) => a.id));
  const restarted: Mix = { st: await settledStatus(host.pid), dormant: dormantIds.size, awake: n - dormantIds.size };
  const restartedKinds = breakdown(host.pid);
  console.log(line(`${n} agents (${mixOf(restarted.dormant, restarted.awake)}), after a restart`, restarted.st));
  console.log(
    `  host restart: ${n} agents (${mixOf(restarted.dormant, restarted.awake)}) back in ${restoreS.toFixed(1)} s, ${restartPerAgent(restoreS, n)}`,
  );

  /** From a sender's message in a random conversation of the agent to its answer there, `inFlight` at a time. */
  async function ask(picks: number[], inFlight: number, ms: number): Promise<number[]> {
    const out: number[] = [];
    await pool(picks.length, inFlight, async (k) => {
      const a = agents[picks[k]!]!;
      const groupId = a.groupIds[Math.floor(Math.random() * a.groupIds.length)]!;
      const t = performance.now();
      await a.sender.ask(groupId, a.inboxId, `What is good to see today? (${k})`, ms);
      out.push(performance.now() - t);
    });
    return out;
  }
  // Dormant agents in a random order: each woken at most once below.
  const order = shuffled(agents.flatMap((a, i) => (dormantIds.has(a.id) ? [i] : [])));
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
  const where = CONVERSATIONS === 1 ? "" : `, each in a random one of its ${CONVERSATIONS} conversations`;
  const wakeMs = await ask(take(Math.min(WAKES, order.length)), 1, 30_000);
  if (wakeMs.length > 0)
    console.log(stat(`wake to answer, ${wakeMs.length} dormant agents one at a time${where}`, wakeMs));
  else console.log("  wake to answer: not measured, no agent was dormant");
  const burstMs: number[] = [];
  for (let b = 0; b < BURSTS && taken + WAKE_BURST <= order.length; b++) {
    burstMs.push(...(await ask(take(WAKE_BURST), WAKE_BURST, 60_000)));
    await sleep(2_000);
  }
  if (burstMs.length > 0)
    console.log(
      stat(`wake to answer, ${WAKE_BURST} dormant agents at once (${burstMs.length} in all)${where}`, burstMs),
    );
  log(`${taken} woken; waking more until ${AWAKE} are awake`);

  // More awake, until AWAKE: the awake figures are over the same host with those agents dormant.
  const w0 = performance.now();
  const restMs = await ask(take(Math.max(0, AWAKE - restarted.awake - taken)), IN_FLIGHT, 60_000);
  const now = await states();
  const awakeIdx = agents.flatMap((a, i) => (now.get(a.id) === InstanceState.CLAIMED ? [i] : []));
  log(`${awakeIdx.length} awake, ${restMs.length} woken in ${((performance.now() - w0) / 1000).toFixed(0)} s`);
  const awake: Mix = { st: await settledStatus(host.pid), dormant: n - awakeIdx.length, awake: awakeIdx.length };
  const awakeKinds = breakdown(host.pid);
  const random = (count: number) =>
    Array.from({ length: count }, () => awakeIdx[Math.floor(Math.random() * awakeIdx.length)]!);
  const replyMs = await ask(random(MESSAGES), IN_FLIGHT, 60_000);
  const afterReplies = await settledStatus(host.pid);
  console.log("");
  console.log(line(`${n} agents (${mixOf(awake.dormant, awake.awake)})`, awake.st));
  console.log(line(`  after ${MESSAGES} messages answered`, afterReplies));
  const cost = costs(empty, restarted, awake);
  const measured = `${mixOf(restarted.dormant, restarted.awake)}, then ${mixOf(awake.dormant, awake.awake)}`;
  if (cost.dormant) console.log(costLine("per dormant agent, over the host with none", cost.dormant));
  else console.log(`  per dormant agent: not measured, no agent was dormant (${measured})`);
  if (cost.dormant && cost.awake)
    console.log(
      costLine("per awake agent, over a dormant one", {
        mb: cost.awake.mb - cost.dormant.mb,
        threads: cost.awake.threads - cost.dormant.threads,
        fds: cost.awake.fds - cost.dormant.fds,
      }),
    );
  if (cost.awake)
    console.log(
      `  claimed, awake ${fmt(cost.awake.mb, 9)} MB per agent (${cost.dormant ? "a dormant one plus the above" : "over the host with none, every agent awake"}; measured ${measured})`,
    );
  else console.log(`  claimed, awake: not measured, no agent was awake (${measured})`);
  // Threads and descriptors by kind: where a state was measured alone.
  if (restarted.awake === 0) {
    console.log(`  per dormant agent, threads by name: ${perAgent(emptyKinds.threads, restartedKinds.threads, n)}`);
    console.log(`  per dormant agent, descriptors by kind: ${perAgent(emptyKinds.fds, restartedKinds.fds, n)}`);
    if (awake.awake > 0) {
      console.log(
        `  per awake agent, threads by name: ${perAgent(restartedKinds.threads, awakeKinds.threads, awake.awake)}`,
      );
      console.log(
        `  per awake agent, descriptors by kind: ${perAgent(restartedKinds.fds, awakeKinds.fds, awake.awake)}`,
      );
    }
  } else if (restarted.dormant === 0) {
    console.log(
      `  per awake agent over none, threads by name: ${perAgent(emptyKinds.threads, restartedKinds.threads, n)}`,
    );
    console.log(`  per awake agent over none, descriptors by kind: ${perAgent(emptyKinds.fds, restartedKinds.fds, n)}`);
  }
  console.log(
    stat(
      `reply, ${MESSAGES} messages to random awake agents (of ${awake.awake})${CONVERSATIONS === 1 ? "" : `, each in a random one of its ${CONVERSATIONS} conversations`}, ${IN_FLIGHT} in flight`,
      replyMs,
    ),
  );

  rpc.close();
  hostRpc.close();
  await host.stop();
  const r1 = performance.now();
  host = await startHost(MEASURE_QUIET_MS);
  const restoreMixedS = (performance.now() - r1) / 1000;
  hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  console.log(
    `  host restart: ${n} agents (${awake.awake} awake) back in ${restoreMixedS.toFixed(1)} s, ${restartPerAgent(restoreMixedS, n)}; ${await countIn(InstanceState.DORMANT)} dormant`,
  );
} finally {
  for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
  for (const s of senders) await s.close().catch(() => undefined);
  await host.stop().catch(() => undefined);
  await node.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
