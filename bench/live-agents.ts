// Live agents per host: claimed agents, each in its own conversation and
// answering, in one instance host process; what each costs, how fast it
// answers, and what dormancy saves.
// Run: flock /tmp/bench.lock npm run bench:live   (a throwaway PostgreSQL; about 9 minutes at 1,000)
//   BENCH_LIVE_AGENTS (1000)      claimed agents on the host
//   BENCH_LIVE_MESSAGES (400)     messages to random awake agents, 8 in flight
//   BENCH_LIVE_WAKES (40)         dormant agents woken, one at a time
//   BENCH_LIVE_DORMANT_MS (20000) the quiet time of the dormancy phase; 0: no dormancy phase
//
// What it does: the local XMTP node and one instance host run in their own
// processes, exactly as main.ts runs them (offline model; first with
// DORMANT_AFTER_MS=0, so no agent sleeps while it is measured awake). The host starts N
// instances (StartInstance), each is configured over InstanceService with a
// creator-signed template release (as the claims service would), and joins
// its own Convos conversation through a real invite (JoinConversation): four
// sender clients in this process (@xmtp/node-sdk, `startCreator`) each create
// a quarter of the conversations, hand out their invites and add the agent
// that asks to join. Then the senders message agents at random, 8 messages
// in flight, and time each from the send to the agent's answer on the
// sender's stream. Measured from outside, in the host's /proc/<pid>/status
// (VmRSS, Threads) and /proc/<pid>/fd.
//
// Then dormancy: the host restarts on the same data directory with
// DORMANT_AFTER_MS short (BENCH_LIVE_DORMANT_MS, default 20 s); every agent
// comes back awake, falls quiet, goes dormant (its XMTP client closed, its
// memory dropped; the host's one subscription watches its group), and the
// host is measured again. Then agents picked at random, one at a time, get a
// message: the wake-to-answer latency is from the send to the answer. Last,
// the host restarts once more: dormant agents come back dormant (the time to
// restore them is printed).
//
// What it does not exercise: the claims service and its pool manager (no
// ClaimAgent; instances are started and configured straight on the host),
// a real model (the offline provider answers at once), tools, conversations
// with more than two members, many agents waking at once, and the XMTP
// network itself (the local node).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import {
  createServiceClient,
  generateServiceCredentials,
  newTemplateIdentity,
  serviceEnv,
  signUpdateRelease,
} from "@convos-pool/kit";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { startCreator } from "@convos-pool/convos/testing";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { figures, fmt, settledStatus, size, startChild, type Child, type ProcessStatus } from "./lib.js";

const N = size("BENCH_LIVE_AGENTS", 1000, 6);
const MESSAGES = size("BENCH_LIVE_MESSAGES", 400, 12);
const WAKES = size("BENCH_LIVE_WAKES", 40, 3);
// 0: no dormancy phase (the awake figures only).
const DORMANT_MS = process.env.BENCH_LIVE_DORMANT_MS === "0" ? 0 : size("BENCH_LIVE_DORMANT_MS", 20_000, 3_000);
const SENDERS = Math.min(4, N);
const START_CONCURRENCY = 8;
const JOIN_CONCURRENCY = 16;
const IN_FLIGHT = 8;
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

/** Per agent: the counts of `b` over those of `a`, divided by N, largest first. */
function perAgent(a: Map<string, number>, b: Map<string, number>): string {
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => [k, ((b.get(k) ?? 0) - (a.get(k) ?? 0)) / N] as const)
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
const creds = generateServiceCredentials();
const seed = generateMnemonic(english);
const node = await startChild(
  "services/xmtp-devnode/src/main.ts",
  { DATABASE_URL: await createTestDatabase("bench_live") },
  { readyPrefix: "XMTP devnode:" },
);

/** The host in its own process; `dormantMs` 0: its agents never go dormant. */
function startHost(dormantMs: number): Promise<Child> {
  return startServiceProcess("services/instance/src/main.ts", {
    env: {
      XMTP_API_URL: node.url,
      POOL_MASTER_SEED: seed,
      ...serviceEnv(creds["instance-host"]),
      INSTANCE_DATA_DIR: join(dir, "instances"),
      MAX_INSTANCES: String(N),
      DORMANT_AFTER_MS: String(dormantMs),
    },
    readyPrefix: "instance host:",
    // Bringing back N awake agents (a client each, a sync, a stream) takes a while.
    timeoutMs: 600_000,
    onLine: (line) => {
      if (line.includes('"level":"error"') && !line.includes("sqlcipherCodecAttach"))
        process.stderr.write(`[instance] ${line}\n`);
    },
  });
}

const senders: Awaited<ReturnType<typeof startCreator>>[] = [];
let host = await startHost(0);
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

  const empty = await settledStatus(host.pid);
  const emptyKinds = breakdown(host.pid);
  // Start, configure and join every agent.
  const agents: { id: string; inboxId: string; sender: (typeof senders)[number]; groupId: string }[] = [];
  const t0 = performance.now();
  await pool(N, START_CONCURRENCY, async (i) => {
    const id = `live-${i}`;
    const { inboxId } = await hostRpc.client.startInstance({ instanceId: id, walletIndex: i });
    const sender = senders[i % SENDERS]!;
    await rpc.client.configure({ template, ownerId: sender.inboxId }, call(id));
    agents[i] = { id, inboxId, sender, groupId: "" };
  });
  const startedS = (performance.now() - t0) / 1000;
  log(`${N} started and configured in ${startedS.toFixed(0)} s`);
  const idleConfigured = await settledStatus(host.pid);
  const joinMs: number[] = [];
  const t1 = performance.now();
  await pool(N, JOIN_CONCURRENCY, async (i) => {
    const a = agents[i]!;
    const conv = await a.sender.conversation(`Live ${i}`);
    const t = performance.now();
    a.groupId = (await rpc.client.joinConversation({ conversationInvite: conv.invite }, call(a.id))).conversationId;
    joinMs.push(performance.now() - t);
    if (a.groupId !== conv.groupId) throw new Error(`${a.id} joined ${a.groupId}, not ${conv.groupId}`);
    if ((i + 1) % 100 === 0) log(`${i + 1} joined`);
  });
  const joinedS = (performance.now() - t1) / 1000;
  const claimed = (await hostRpc.client.listInstances({})).instances.filter(
    (i) => i.state === InstanceState.CLAIMED,
  ).length;
  if (claimed !== N) throw new Error(`expected ${N} claimed agents, the host lists ${claimed}`);
  const awake = await settledStatus(host.pid);
  const awakeKinds = breakdown(host.pid);

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
  const random = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * N));
  const replyMs = await ask(random(MESSAGES), IN_FLIGHT, 60_000);
  log(`${MESSAGES} answered (all awake)`);
  const afterReplies = await settledStatus(host.pid);

  const per = (st: ProcessStatus, base: ProcessStatus) => ({
    mb: (st.rssMb - base.rssMb) / N,
    threads: (st.threads - base.threads) / N,
    fds: (st.fds - base.fds) / N,
  });
  const line = (label: string, st: ProcessStatus) =>
    `  ${label.padEnd(44)}${fmt(st.rssMb, 9)} MB ${String(st.threads).padStart(8)} ${String(st.fds).padStart(8)}`;
  const perLine = (label: string, st: ProcessStatus) => {
    const p = per(st, empty);
    return `  ${label.padEnd(44)}${fmt(p.mb, 9)} MB ${p.threads.toFixed(2).padStart(8)} ${p.fds.toFixed(2).padStart(8)}`;
  };
  const r = figures(replyMs);
  const j = figures(joinMs);
  console.log(
    `instance host process (offline model), ${N} claimed agents, each in its own conversation with one of ${SENDERS} senders:`,
  );
  console.log(`  ${"".padEnd(44)}${"RSS".padStart(12)} ${"threads".padStart(8)} ${"fds".padStart(8)}`);
  console.log(line("host, no agent", empty));
  console.log(line(`${N} started and configured (idle clients)`, idleConfigured));
  console.log(line(`${N} claimed, awake, streaming`, awake));
  console.log(line(`  after ${MESSAGES} messages answered`, afterReplies));
  console.log("");
  console.log(`  per agent, over the host with none:           RSS        threads      fds`);
  console.log(perLine("started and configured (idle)", idleConfigured));
  console.log(perLine("claimed, awake", awake));
  console.log(perLine("claimed, awake, after answering", afterReplies));
  console.log(`  per awake agent, threads by name: ${perAgent(emptyKinds.threads, awakeKinds.threads)}`);
  console.log(`  per awake agent, descriptors by kind: ${perAgent(emptyKinds.fds, awakeKinds.fds)}`);
  console.log(
    `  reply, all awake, ${MESSAGES} messages to random agents, ${IN_FLIGHT} in flight: p50 ${fmt(r.p50, 0)} ms, p99 ${fmt(r.p99, 0)} ms, mean ${fmt(r.mean, 0)} ms`,
  );
  console.log(
    `  setup: ${N} started and configured in ${startedS.toFixed(0)} s; joined in ${joinedS.toFixed(0)} s (${JOIN_CONCURRENCY} in flight, join p50 ${fmt(j.p50, 0)} ms, p99 ${fmt(j.p99, 0)} ms)`,
  );
  if (DORMANT_MS > 0) {
    // Dormancy: restart with a short quiet time; every agent comes back awake, then falls asleep.
    rpc.close();
    hostRpc.close();
    await host.stop();
    const r0 = performance.now();
    host = await startHost(DORMANT_MS);
    const restoreAwakeS = (performance.now() - r0) / 1000;
    hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
    rpc = createServiceClient(InstanceService, host.url, creds.claims);
    const dormantCount = async () =>
      (await hostRpc.client.listInstances({})).instances.filter((i) => i.state === InstanceState.DORMANT).length;
    const d0 = performance.now();
    while ((await dormantCount()) < N) {
      if (performance.now() - d0 > DORMANT_MS + 300_000)
        throw new Error(`only ${await dormantCount()} of ${N} agents went dormant`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    log(`all ${N} dormant, ${((performance.now() - d0) / 1000).toFixed(0)} s after the restart`);
    const dormant = await settledStatus(host.pid);
    const dormantKinds = breakdown(host.pid);

    // One at a time: each wake is the only one in progress.
    const wakePicks = [...new Set(random(WAKES * 2))].slice(0, WAKES);
    const wakeMs = await ask(wakePicks, 1, 30_000);
    const woken = N - (await dormantCount());
    log(`${wakePicks.length} woken and answered`);

    rpc.close();
    hostRpc.close();
    await host.stop();
    const r1 = performance.now();
    host = await startHost(DORMANT_MS);
    const restoreDormantS = (performance.now() - r1) / 1000;
    hostRpc = createServiceClient(InstanceHostService, host.url, creds.claims);
    const backDormant = await dormantCount();

    const w = figures(wakeMs);
    console.log("");
    console.log(line(`${N} dormant (after a restart)`, dormant));
    console.log(perLine("dormant", dormant));
    console.log(`  per dormant agent, threads by name: ${perAgent(emptyKinds.threads, dormantKinds.threads)}`);
    console.log(`  per dormant agent, descriptors by kind: ${perAgent(emptyKinds.fds, dormantKinds.fds)}`);
    console.log(
      `  wake to answer, ${wakeMs.length} dormant agents one at a time: p50 ${fmt(w.p50, 0)} ms, p99 ${fmt(w.p99, 0)} ms, max ${fmt(Math.max(...wakeMs), 0)} ms   (target <= 1000 ms); ${woken} awake afterwards`,
    );
    console.log(
      `  host restart: ${N} awake agents back in ${restoreAwakeS.toFixed(1)} s; ${N} (${woken} awake) back in ${restoreDormantS.toFixed(1)} s, ${backDormant} dormant`,
    );
  }
} finally {
  for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
  for (const s of senders) await s.close().catch(() => undefined);
  await host.stop().catch(() => undefined);
  await node.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
