// Claims benchmark on real PostgreSQL.
// Run: npm run bench:claims   (starts a throwaway PostgreSQL; prints figures)
//      BENCH_CLAIMS_JOIN=0 npm run bench:claims   (parts 1 and 2 only: about a minute)
//
// 1. Claim without join: BENCH_CLAIMS (3000) claims with 50 concurrent
//    claimers through the claims service (its main.ts, in its own process, as
//    in production, with the Node flags deploy/compose.yaml gives it), called
//    with the kit's service client as the gateway calls it; the templates
//    service real (its own process). The instance
//    runtime is the TEST STAND-IN host
//    (services/claims/test/stand-in-host.ts, in this process): it
//    answers Configure and JoinConversation over RPC without any XMTP work,
//    so this row measures the claims service alone (visibility check, atomic
//    claim, configure and join calls, final query). Idle rows are inserted
//    up front, more than are claimed: the pool never runs dry. 300 claims one
//    at a time first. After the rounds, the open loop at 200/s: its first
//    BENCH_OFFERED_WARMUP (2000) claims, 10 s in which V8 compiles the
//    request path as it first gets hot under this load, on a line of their
//    own; then BENCH_OFFERED_CLAIMS (4000) claims offered at the same rate,
//    the steady state (the p99 target; 20 s, long enough to hold the full
//    GCs that come every few seconds at this rate; BENCH_TAIL=1 prints its
//    slowest claims with their start, and the full GCs of both processes).
// 2. The bare claim query (CLAIM_SQL of claim-sql.ts) straight on
//    PostgreSQL, 50 connections, as many claims on fresh idle rows,
//    alternating with (1) in five rounds; claims/s of the service as a ratio
//    to it (the rate target), in the same run. The CPU of every process taking
//    part (claims, templates, this one, PostgreSQL's) is counted per claim for
//    both. BENCH_PROFILE=<dir>: the claims service's CPU profiles;
//    BENCH_CLAIMS_QUERIES=1: its database queries per claim (below);
//    BENCH_HEAP_PROFILE=<file>: what fills its old generation during the
//    open loop (BENCH_HEAP_PROFILE_ALL=1: all it allocates), by source.
// 3. Claim with the XMTP join: the real instance host (startInstanceHost,
//    offline model) on the local XMTP node (its own process, a free port), the
//    claims service running its warm pool on that host, and a real Convos
//    conversation per claim: an in-bench creator (one @xmtp/node-sdk client)
//    creates the groups with Convos app data tags, signs their invites, and
//    adds whoever sends it a join_request for one of them.
//    BENCH_JOIN_CLAIMS (30) claims, BENCH_JOIN_CONCURRENCY (10) concurrent
//    (1: the latency of one join on an unloaded host).
// 4. Replacement: after a claim, the time until the pool manager (target T,
//    default interval) has a new idle instance on the real host.
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, performance } from "node:perf_hooks";
import pg from "pg";
import { Code, ConnectError } from "@connectrpc/connect";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { startInstanceHost } from "@convos-pool/instance";
import {
  createLogger,
  callerHeaders,
  createServiceClient,
  generateServiceCredentials,
  serviceEnv,
} from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import { CLAIM_SQL, claimArgs } from "@convos-pool/claims";
import { SecretBox } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { composeServices, nodeFlagsOf } from "@convos-pool/e2e/deployed";
import { startCreator } from "@convos-pool/convos/testing";
import {
  QUICK,
  figures,
  fmt,
  heapBySource,
  median,
  publicTemplate,
  sampleHeap,
  seedIdleInstances,
  size,
  startChild,
  type Child,
  NODE_WITHOUT_RATE_LIMITS,
} from "./lib.js";

const CLAIMS = size("BENCH_CLAIMS", 3000, 100);
const CONCURRENCY = 50;
const ROUNDS = QUICK ? 1 : 5;
const WARMUP = QUICK ? 20 : 200;
/** Claims made one at a time (no concurrency): the latency of one claim on an unloaded service. */
const SINGLE = QUICK ? 20 : 300;
/** Open loop: claims offered at the target rate by the 50 claimers, whatever the answers' pace. */
const OFFERED_RATE = 200;
const OFFERED = size("BENCH_OFFERED_CLAIMS", 4000, 50);
/**
 * The open loop's first claims, before those measured against the target: for
 * about 5 s after a process first takes 200 claims/s, TurboFan compiles the
 * request path (the pg and MikroORM part last) on threads that take both cores.
 */
const OFFERED_FIRST = size("BENCH_OFFERED_WARMUP", 2000, 50);
const JOIN_CLAIMS = size("BENCH_JOIN_CLAIMS", 30, 2);
const JOIN_CONCURRENCY = size("BENCH_JOIN_CONCURRENCY", 10, 10);
const REPLACEMENTS = size("BENCH_REPLACEMENTS", 6, 1);
/** BENCH_TAIL=1: the open loop's slowest claims with their scheduled start: a stall shows as a run of neighbours. */
const TAIL = process.env.BENCH_TAIL === "1";
/** BENCH_CLAIMS_JOIN=0: parts 1 and 2 only (the claims service alone), without the XMTP node and the real host. */
const WITH_JOIN = process.env.BENCH_CLAIMS_JOIN !== "0";
/**
 * BENCH_CLAIMS_QUERIES=1: a diagnosis, not a measurement: the claims
 * service's sessions log every query with its duration
 * (log_min_duration_statement = 0), and those of the claims made one at a
 * time are counted in the server's log (scripts/with-postgres.sh writes it
 * beside the data directory): queries per claim, by kind, and how long
 * each kind took in the server.
 * Logging every query slows PostgreSQL: the run's other figures are not comparable.
 */
const COUNT_QUERIES = process.env.BENCH_CLAIMS_QUERIES === "1";
/**
 * BENCH_HEAP_PROFILE=<file>: a diagnosis too: V8's sampling heap profile of
 * the claims service over the open loop, written to the file, and its bytes
 * per claim by source: by default those that outlived the young generation
 * (what brings the full GCs), with BENCH_HEAP_PROFILE_ALL=1 all it allocated.
 */
const HEAP_PROFILE = process.env.BENCH_HEAP_PROFILE;
/** The warm pool's target in parts 3 and 4: every claim of part 3 (and its warm-up) finds an idle instance. */
const TARGET = JOIN_CLAIMS + 1;
/** The claims service's connection pool (its main.ts takes the kit's default). */
const CLAIMS_DB_CONNECTIONS = 10;
/** The service's claims a second against the bare query's, in the same run (docs/performance/claims.md). */
const RATIO_TARGET = 0.5;

/** Each service its own credential; the benchmark calls the claims service as the gateway does. */
const CREDS = generateServiceCredentials();
const SECRETS_KEY = SecretBox.generateKey();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- helpers

/** Runs `n` jobs with `concurrency` in flight; returns each job's latency and the wall time. */
async function timed(n: number, concurrency: number, job: (i: number, worker: number) => Promise<unknown>) {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async (_, worker) => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await job(i, worker);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, perSecond: n / ((performance.now() - t0) / 1000) };
}

/**
 * Open loop: claim i starts at its scheduled time (i / rate seconds in), spread
 * over `claimers`, whether or not earlier ones have answered; its latency counts
 * from the scheduled time, so a slow answer cannot hide the queue behind it
 * (no coordinated omission). This is latency at a given load; `timed` above is
 * the most a closed loop of claimers can push through. Past the service's
 * capacity the queue grows and some claims time out: counted by code, not fatal.
 */
async function atRate(
  n: number,
  rate: number,
  job: () => Promise<unknown>,
  tail = TAIL,
): Promise<{ ms: number[]; failed: Map<string, number>; said: Map<string, string> }> {
  const ms: number[] = [];
  const failed = new Map<string, number>();
  /** The first message of each failure code. */
  const said = new Map<string, string>();
  /** Each answered claim's latency and scheduled start from the loop's start, for BENCH_TAIL. */
  const when: [number, number][] = [];
  const lag = monitorEventLoopDelay({ resolution: 5 });
  if (tail) lag.enable();
  const t0 = performance.now() + 20;
  // This process's full GCs (start from the loop's start, main-thread pause): its concurrent marking also takes cores.
  const majorGcs: [number, number][] = [];
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR)
        majorGcs.push([e.startTime - t0, e.duration]);
    }
  });
  if (tail) gcs.observe({ entryTypes: ["gc"] });
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const at = t0 + (i * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
      try {
        await job();
        ms.push(performance.now() - at);
        when.push([performance.now() - at, at - t0]);
      } catch (err) {
        const e = ConnectError.from(err);
        const code = Code[e.code] ?? "Unknown";
        failed.set(code, (failed.get(code) ?? 0) + 1);
        if (!said.has(code)) said.set(code, e.rawMessage.slice(0, 160));
      }
    }),
  );
  if (tail) {
    const slowest = when.sort((a, b) => b[0] - a[0]).slice(0, Math.ceil(n / 40));
    console.log(
      `open loop, slowest claims (latency ms @ start ms): ${slowest.map(([l, o]) => `${l.toFixed(0)}@${o.toFixed(0)}`).join(" ")}`,
    );
    console.log(
      `open loop, this process's event loop delay: max ${(lag.max / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms; ` +
        `its full GCs: ${majorGcs.map(([at, ms]) => `at ${at.toFixed(0)} ms (pause ${ms.toFixed(0)} ms)`).join(", ") || "none"}`,
    );
    lag.disable();
    gcs.disconnect();
  }
  return { ms, failed, said };
}

/** How many of an open loop's claims failed, whatever the code. */
const failures = (loop: { failed: Map<string, number> }) => [...loop.failed.values()].reduce((a, b) => a + b, 0);

/** From two scrapes of a process's Prometheus metrics: its event loop's worst lag, and its GC pauses in between. */
function processPauses(before: string, after: string): string {
  // A sample's value by its name and one of its labels (every sample also carries pool_service).
  const value = (text: string, name: string, label = "") =>
    Number(
      text
        .split("\n")
        .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label))
        ?.split(" ")
        .at(-1) ?? 0,
    );
  const gc = ["minor", "major", "incremental"].map((kind) => {
    const delta = (name: string) => value(after, name, `kind="${kind}"`) - value(before, name, `kind="${kind}"`);
    return `${kind} ${delta("nodejs_gc_duration_seconds_count")} (${(delta("nodejs_gc_duration_seconds_sum") * 1000).toFixed(0)} ms)`;
  });
  return `event loop lag max ${(value(after, "nodejs_eventloop_lag_max_seconds") * 1000).toFixed(0)} ms; GC ${gc.join(", ")}`;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks a second). */
function cpuMs(pid: number | "self"): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU time of a PostgreSQL server, in ms: its postmaster and every backend,
 * live ones read one by one, ended ones through the postmaster's count of
 * its waited-for children. Backends of other servers on the machine are not
 * its children.
 */
function serverCpuMs(postmaster: number): number {
  const ticks = (f: string[], from: number, to: number) => f.slice(from, to + 1).reduce((a, b) => a + Number(b), 0);
  const own = readFileSync(`/proc/${postmaster}/stat`, "utf8").split(") ")[1]!.split(" ");
  let total = ticks(own, 11, 14);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let f: string[];
    try {
      f = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ");
    } catch {
      continue; // ended meanwhile
    }
    if (Number(f[1]) === postmaster) total += ticks(f, 11, 14);
  }
  return total * 10;
}

/**
 * Counts the queries the server logs from now until `until(claims)`:
 * per claim, by kind (the query's first words). Marks the log with a
 * query of this session's, whose own lines are left out.
 */
async function queriesFrom(sql: pg.Client, logFile: string): Promise<{ until(claims: number): Promise<string[]> }> {
  const mark = randomBytes(6).toString("hex");
  await sql.query("set log_statement = 'all'");
  const pid = (await sql.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
  await sql.query(`select 'from ${mark}'`);
  return {
    async until(claims) {
      await sql.query(`select 'until ${mark}'`);
      // The server writes its log on its own: read once the closing mark is in it.
      const deadline = Date.now() + 10_000;
      while (!readFileSync(logFile, "utf8").includes(`until ${mark}`) && Date.now() < deadline) await sleep(20);
      const log = readFileSync(logFile, "utf8");
      const from = log.indexOf(`from ${mark}`);
      const until = log.indexOf(`until ${mark}`);
      if (from < 0 || until < 0) return [`queries: not found in ${logFile}`];
      const kinds = new Map<string, { n: number; ms: number }>();
      for (const line of log.slice(from, until).split("\n")) {
        const m = /\[(\d+)\] LOG: {2}duration: ([\d.]+) ms {2}statement: (.*)$/.exec(line);
        if (!m || Number(m[1]) === pid) continue;
        const kind = m[3]!
          .replace(/\s+/g, " ")
          .replace(/[('].*$/, "…")
          .slice(0, 60);
        const k = kinds.get(kind) ?? { n: 0, ms: 0 };
        k.n++;
        k.ms += Number(m[2]);
        kinds.set(kind, k);
      }
      const total = [...kinds.values()].reduce((a, b) => a + b.n, 0);
      return [
        `database queries per claim, one at a time (BENCH_CLAIMS_QUERIES=1, ${claims} claims): ${(total / claims).toFixed(2)}`,
        `  per claim  mean ms in the server  query`,
        ...[...kinds]
          .sort((a, b) => b[1].n - a[1].n)
          .map(
            ([kind, k]) =>
              `  ${(k.n / claims).toFixed(2).padStart(9)}  ${(k.ms / k.n).toFixed(3).padStart(19)}  ${kind}`,
          ),
      ];
    },
  };
}

/** MikroORM-style `?` placeholders to pg's `$n`. */
function toPg(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "bench-claims-"));
  const [templatesDb, claimsDb, joinClaimsDb, nodeDb] = await Promise.all([
    createTestDatabase("bench_claims_templates"),
    createTestDatabase("bench_claims"),
    createTestDatabase("bench_claims_join"),
    createTestDatabase("bench_claims_xmtp"),
  ]);
  const children: Child[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const templates = await startChild("services/templates/src/main.ts", {
      DATABASE_URL: templatesDb,
      ...serviceEnv(CREDS.templates),
    });
    children.push(templates);
    const creatorOfTemplate = newIdentity();
    const templateId = await publicTemplate(templates.url, creatorOfTemplate, CREDS.gateway);
    const users = Array.from({ length: 50 }, () => newIdentity().inboxId);
    const claimsEnv = (databaseUrl: string, data: string, extra: Record<string, string> = {}) => ({
      DATABASE_URL: databaseUrl,
      ...serviceEnv(CREDS.claims),
      TEMPLATES_URL: templates.url,
      POOL_SECRETS_KEY: SECRETS_KEY,
      POOL_DATA_DIR: join(dir, data),
      // 50 requesters make thousands of claims: no per-caller rate; the caps per owner are
      // checked with every claim, as by default, but set too high to be reached (BENCH_POOL_LIMITS).
      POOL_LIMITS: process.env.BENCH_POOL_LIMITS ?? "claims.caller=off,agents.owner=100000,tools.owner=100000",
      ...(process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` } : {}),
      ...extra,
    });

    // ======================================== 1 and 2: without join, and the bare query
    // The claims service alone: the stand-in does not check the release's signature (the real host does, below).
    const standIn = await StandInHost.start(CREDS["instance-host"], { checkConfigure: false });
    closers.push(() => standIn.kill());
    // The bare query's rows stay `claiming` with no process renewing them: a lease of an hour keeps
    // the service's sweep (which would take them back after the default 20 s) off them for the run.
    // The claims service's Node flags as deploy/compose.yaml gives them (docs/scaling.md, "GC on few cores").
    // npm run bench:claims runs this process with GC on its main thread too: the claimers and the
    // stand-in host share the cores with the service, and their GC bursts are not the service's.
    const claimsNodeArgs = nodeFlagsOf((await composeServices()).claims);
    const claims = await startChild(
      "services/claims/src/main.ts",
      claimsEnv(claimsDb, "claims", {
        CLAIM_LEASE_SECONDS: "3600",
        ...(COUNT_QUERIES ? { PGOPTIONS: "-c log_min_duration_statement=0" } : {}),
      }),
      { nodeArgs: HEAP_PROFILE ? [...claimsNodeArgs, "--inspect=127.0.0.1:0"] : claimsNodeArgs },
    );
    children.push(claims);
    const sql = new pg.Client({ connectionString: claimsDb });
    await sql.connect();
    closers.push(() => sql.end());
    const dataDir = (await sql.query<{ data_directory: string }>("show data_directory")).rows[0]!.data_directory;
    const postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);

    // Idle instances on the stand-in host: rows inserted directly, and the host told it runs them.
    const total = Math.ceil((WARMUP + CLAIMS) * 2 * 1.1) + SINGLE + OFFERED_FIRST + OFFERED;
    await seedIdleInstances(sql, standIn, "b", total);

    const claimsSc = createServiceClient(ClaimService, claims.url, CREDS.gateway);
    closers.push(async () => claimsSc.close());
    let n = 0;
    const claimOnce = () => {
      const i = n++;
      const requester = users[i % users.length]!;
      // As the gateway forwards a signed-in requester.
      return claimsSc.client.claim(
        { requester, templateId, conversationInvite: `https://dev.convos.org/v2?i=bench-${i}`, userConfig: {} },
        { headers: callerHeaders(requester) },
      );
    };
    const bareClients = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const c = new pg.Client({ connectionString: claimsDb });
        await c.connect();
        return c;
      }),
    );
    closers.push(() => Promise.all(bareClients.map((c) => c.end())));
    const bareSql = toPg(CLAIM_SQL);
    let bareClaimed = 0;
    const bareOnce = async (worker: number) => {
      const { rows } = await bareClients[worker]!.query(
        bareSql,
        claimArgs({
          claimId: `bare-${randomBytes(8).toString("hex")}`,
          ownerId: users[worker % users.length]!,
          templateId,
          templateVersion: 1,
          agentName: "Trip Planner",
          model: "gpt-oss-20b",
          modelOverridden: false,
          userConfig: {},
        }),
      );
      if (rows.length !== 1) throw new Error("the bare claim found no idle row: seed more");
      bareClaimed++;
    };

    await timed(WARMUP, CONCURRENCY, claimOnce);
    await timed(WARMUP, CONCURRENCY, (_i, w) => bareOnce(w));
    const counted = COUNT_QUERIES ? await queriesFrom(sql, join(dirname(dataDir), "server.log")) : undefined;
    const single = figures((await timed(SINGLE, 1, claimOnce)).ms);
    const queries = counted ? await counted.until(SINGLE) : undefined;
    const perRound = Math.ceil(CLAIMS / ROUNDS);
    const serviceMs: number[] = [];
    const bareMs: number[] = [];
    const serviceRates: number[] = [];
    const bareRates: number[] = [];
    // CPU of every process on the machine that takes part, during the service's rounds and during the bare query's.
    const cpu = { claims: 0, templates: 0, bench: 0, postgres: 0 };
    const bareCpu = { bench: 0, postgres: 0 };
    let lastRoundQueries: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = {
        claims: cpuMs(claims.pid),
        templates: cpuMs(templates.pid),
        bench: cpuMs("self"),
        postgres: serverCpuMs(postmaster),
      };
      const countedRound =
        COUNT_QUERIES && round === ROUNDS - 1
          ? await queriesFrom(sql, join(dirname(dataDir), "server.log"))
          : undefined;
      const s = await timed(perRound, CONCURRENCY, claimOnce);
      if (countedRound)
        lastRoundQueries = (await countedRound.until(perRound)).map((l) =>
          l.replace("one at a time", `${CONCURRENCY} concurrent, last round`),
        );
      cpu.claims += cpuMs(claims.pid) - before.claims;
      cpu.templates += cpuMs(templates.pid) - before.templates;
      cpu.bench += cpuMs("self") - before.bench;
      cpu.postgres += serverCpuMs(postmaster) - before.postgres;
      serviceMs.push(...s.ms);
      serviceRates.push(s.perSecond);
      const bareBefore = { bench: cpuMs("self"), postgres: serverCpuMs(postmaster) };
      const b = await timed(perRound, CONCURRENCY, (_i, w) => bareOnce(w));
      bareCpu.bench += cpuMs("self") - bareBefore.bench;
      bareCpu.postgres += serverCpuMs(postmaster) - bareBefore.postgres;
      bareMs.push(...b.ms);
      bareRates.push(b.perSecond);
    }
    // The open loop at 200/s: its first seconds apart, then the steady state, measured against the target.
    const firstSeconds = await atRate(OFFERED_FIRST, OFFERED_RATE, claimOnce, false);
    // BENCH_TAIL: the claims process's own view of the open loop (its event loop lag is reset by each scrape).
    const scrape = async () => (TAIL ? await (await fetch(`${claims.url}/metrics`)).text() : "");
    const metricsBefore = await scrape();
    // And PostgreSQL's: queries over 30 ms and lock waits over 20 ms, logged by the throwaway server.
    const logFile = join(dirname(dataDir), "server.log");
    const logFrom = TAIL ? readFileSync(logFile, "utf8").length : 0;
    if (TAIL) {
      for (const setting of ["log_min_duration_statement = 30", "log_lock_waits = on", "deadlock_timeout = '20ms'"])
        await sql.query(`alter system set ${setting}`);
      await sql.query("select pg_reload_conf()");
      await sleep(200);
    }
    const heap = HEAP_PROFILE ? await sampleHeap(claims, process.env.BENCH_HEAP_PROFILE_ALL === "1") : undefined;
    const openLoop = await atRate(OFFERED, OFFERED_RATE, claimOnce);
    if (heap) {
      const profile = await heap.stop();
      writeFileSync(HEAP_PROFILE!, JSON.stringify(profile));
      const { total, bySource } = heapBySource(profile);
      const kb = (bytes: number) => `${(bytes / 1024 / OFFERED).toFixed(1)} KB`;
      console.log(
        `open loop, the claims process ${process.env.BENCH_HEAP_PROFILE_ALL === "1" ? "allocated" : "filled its old generation with"} (sampled) ` +
          `${kb(total)} a claim: ${[...bySource].map(([source, bytes]) => `${source} ${kb(bytes)}`).join(", ")}; profile in ${HEAP_PROFILE}`,
      );
    }
    if (TAIL) console.log(`open loop, the claims process: ${processPauses(metricsBefore, await scrape())}`);
    if (TAIL) {
      const slow = readFileSync(logFile, "utf8")
        .slice(logFrom)
        .split("\n")
        .filter((l) => /duration: |still waiting/.test(l));
      console.log(
        `open loop, PostgreSQL: ${slow.length} queries over 30 ms or lock waits over 20 ms${slow.map((l) => `\n  ${l.slice(0, 240)}`).join("")}`,
      );
    }
    const offered = figures(openLoop.ms);
    const first = figures(firstSeconds.ms);
    const offeredFailed = failures(openLoop);
    // Every service claim a distinct instance, claimed; every bare claim a distinct row, claiming.
    const { rows: check } = await sql.query<{ claimed: number; claiming: number; idle: number }>(
      `select count(*) filter (where state = 'claimed')::int as claimed, count(*) filter (where state = 'claiming')::int as claiming,
              count(*) filter (where state = 'idle')::int as idle from instances`,
    );
    // A claim the open loop gave up on may still have completed behind its timeout.
    const firstFailed = failures(firstSeconds);
    const serviceClaims = WARMUP + SINGLE + perRound * ROUNDS + OFFERED_FIRST + OFFERED;
    const claimedOk =
      check[0]!.claimed <= serviceClaims && check[0]!.claimed >= serviceClaims - offeredFailed - firstFailed;
    if (!claimedOk || check[0]!.claiming !== bareClaimed) {
      throw new Error(
        `expected ${serviceClaims} claimed and ${bareClaimed} claiming rows, found ${JSON.stringify(check[0])}; ` +
          `failed: the open loop ${JSON.stringify([...openLoop.failed])} ${JSON.stringify([...openLoop.said])}, ` +
          `the first seconds ${JSON.stringify([...firstSeconds.failed])} ${JSON.stringify([...firstSeconds.said])}`,
      );
    }
    const idleLeft = check[0]!.idle;
    const standInCalls = standIn.calls.filter((c) => c.step === "configure" || c.step === "join").length;
    await claims.stop();
    children.splice(children.indexOf(claims), 1);

    // Parts 3 and 4 (BENCH_CLAIMS_JOIN=0 leaves them out: the claims service alone, in about a minute).
    const runJoinParts = async () => {
      // ======================================== 3: with the XMTP join, real host, real conversations
      const node = await startChild(
        "services/xmtp-devnode/src/main.ts",
        { DATABASE_URL: nodeDb, ...NODE_WITHOUT_RATE_LIMITS },
        { readyPrefix: "XMTP devnode:" },
      );
      children.push(node);
      const host = await startInstanceHost({
        xmtpApiUrl: node.url,
        masterSeed: randomBytes(32).toString("hex"),
        dataDir: join(dir, "host"),
        credentials: CREDS["instance-host"],
        joinTimeoutMs: 60_000,
        log: createLogger("instance-host", { level: "error" }),
      });
      closers.push(() => host.close());
      const creator = await startCreator(node.url, dir);
      closers.push(() => creator.close());
      const joinClaims = await startChild(
        "services/claims/src/main.ts",
        claimsEnv(joinClaimsDb, "claims-join", { INSTANCE_HOST_URLS: host.url, POOL_TARGET_IDLE: String(TARGET) }),
        { nodeArgs: claimsNodeArgs },
      );
      children.push(joinClaims);
      const jsql = new pg.Client({ connectionString: joinClaimsDb });
      await jsql.connect();
      closers.push(() => jsql.end());
      const joinSc = createServiceClient(ClaimService, joinClaims.url, CREDS.gateway);
      closers.push(async () => joinSc.close());

      const idleIds = async () =>
        (await jsql.query<{ id: string }>(`select id from instances where state = 'idle'`)).rows.map((r) => r.id);
      const untilPoolFull = async () => {
        const deadline = Date.now() + 180_000;
        while ((await idleIds()).length < TARGET) {
          if (Date.now() > deadline) throw new Error(`the warm pool did not reach ${TARGET} idle instances`);
          await sleep(100);
        }
      };
      const conversations: { groupId: string; invite: string }[] = [];
      for (let i = 0; i < 1 + JOIN_CLAIMS + REPLACEMENTS; i++)
        conversations.push(await creator.conversation(`Bench ${i}`));
      let c = 0;
      const joinClaim = async () => {
        const conv = conversations[c++]!;
        const { instanceId } = await joinSc.client.claim(
          { requester: creator.inboxId, templateId, conversationInvite: conv.invite, userConfig: {} },
          { timeoutMs: 120_000, headers: callerHeaders(creator.inboxId) },
        );
        return { instanceId, groupId: conv.groupId };
      };
      await untilPoolFull();
      await joinClaim(); // warm-up: the host's inbox resolver, first join
      const joined: { instanceId: string; groupId: string }[] = [];
      const withJoin = await timed(JOIN_CLAIMS, JOIN_CONCURRENCY, async () => joined.push(await joinClaim()));
      for (const j of joined) {
        const { rows } = await jsql.query<{ state: string; conversation_id: string }>(
          `select state, conversation_id from instances where id = $1`,
          [j.instanceId],
        );
        const onHost = host.instances.get(j.instanceId);
        if (
          rows[0]?.state !== "claimed" ||
          rows[0].conversation_id !== j.groupId ||
          onHost?.conversationId !== j.groupId
        ) {
          throw new Error(`instance ${j.instanceId} is not in its conversation ${j.groupId}`);
        }
      }
      if (new Set(joined.map((j) => j.instanceId)).size !== JOIN_CLAIMS)
        throw new Error("an instance was claimed twice");

      // ======================================== 4: replacement of a claimed instance
      const replaceFromRequest: number[] = [];
      const replaceFromAnswer: number[] = [];
      const startInstanceMs: number[] = [];
      const waitForPass: number[] = [];
      for (let k = 0; k < REPLACEMENTS; k++) {
        await untilPoolFull();
        // Claims arrive at any point of the pool manager's 5 s cycle; a quick run's figures mean nothing, so it skips that.
        if (!QUICK) await sleep(Math.random() * 5_000);
        const before = new Set((await jsql.query<{ id: string }>(`select id from instances`)).rows.map((r) => r.id));
        const t0 = Date.now();
        await joinClaim();
        const t1 = Date.now();
        for (;;) {
          const { rows } = await jsql.query<{ id: string; created_at: Date; updated_at: Date }>(
            `select id, created_at, updated_at from instances where state = 'idle' and created_at >= $1 order by created_at`,
            [new Date(t0 - 1)],
          );
          const fresh = rows.find((r) => !before.has(r.id));
          if (fresh) {
            replaceFromRequest.push(fresh.updated_at.getTime() - t0);
            replaceFromAnswer.push(fresh.updated_at.getTime() - t1);
            startInstanceMs.push(fresh.updated_at.getTime() - fresh.created_at.getTime());
            waitForPass.push(fresh.created_at.getTime() - t0);
            break;
          }
          if (Date.now() - t0 > 60_000) throw new Error("no replacement within 60 s");
          await sleep(20);
        }
      }
      return {
        withJoin,
        replaceFromRequest,
        replaceFromAnswer,
        startInstanceMs,
        waitForPass,
        joinRequests: creator.joinRequests,
        creatorErrors: creator.errors,
      };
    };
    const joinParts = WITH_JOIN ? await runJoinParts() : undefined;

    // ======================================== report
    const svc = figures(serviceMs);
    const bare = figures(bareMs);
    const serviceRate = median(serviceRates);
    const bareRate = median(bareRates);
    const ratio = median(serviceRates.map((r, i) => r / bareRates[i]!));
    const cores = availableParallelism();
    const perClaim = (ms: number) => (ms / (perRound * ROUNDS)).toFixed(2);
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    const secs = (xs: number[]) =>
      `p50 ${(median(xs) / 1000).toFixed(2)} s, max ${(Math.max(...xs) / 1000).toFixed(2)} s`;
    const lines = [
      `npm run bench:claims   (bench/claims.ts)`,
      `claims service (its main.ts, own process, ${claimsNodeArgs.join(" ") || "no Node flags"}, ${CLAIMS_DB_CONNECTIONS} database connections) and templates service (own process) on PostgreSQL;`,
      `template public, no pool tools; each claim: GetTemplate, the claim query, Configure, JoinConversation, the final query`,
      ``,
      `without join: the instance runtime is the TEST STAND-IN host (services/claims/test/stand-in-host.ts),`,
      `which answers Configure and JoinConversation over RPC with no XMTP work: the claims service alone.`,
      `${perRound * ROUNDS} claims in ${ROUNDS} rounds (after ${WARMUP} warm-up), ${CONCURRENCY} concurrent, alternating with the bare query;`,
      `${total} idle rows seeded, ${idleLeft} still idle at the end; ${standInCalls / 2} configure+join pairs on the stand-in.`,
      ``,
      `                                              p50 ms   p99 ms  mean ms   claims/s (range)   target`,
      `${"claim without join (service, RPC)".padEnd(43)}${fmt(svc.p50)} ${fmt(svc.p99)} ${fmt(svc.mean)}   ${serviceRate.toFixed(0).padStart(8)} (${range(serviceRates)})   p99 <= 50 ms, >= 200/s`,
      `${`bare claim query (SQL, ${CONCURRENCY} conns)`.padEnd(43)}${fmt(bare.p50)} ${fmt(bare.p99)} ${fmt(bare.mean)}   ${bareRate.toFixed(0).padStart(8)} (${range(bareRates)})`,
      `${`claim without join at ${OFFERED_RATE}/s, first ${OFFERED_FIRST / OFFERED_RATE} s`.padEnd(43)}${fmt(first.p50)} ${fmt(first.p99)} ${fmt(first.mean)}   ${String(OFFERED_RATE).padStart(8)}` +
        (firstFailed > 0 ? `; ${firstFailed} of ${OFFERED_FIRST} failed` : ""),
      `${`claim without join at ${OFFERED_RATE}/s (open loop)`.padEnd(43)}${fmt(offered.p50)} ${fmt(offered.p99)} ${fmt(offered.mean)}   ${String(OFFERED_RATE).padStart(8)}   p99 <= 50 ms at 200/s` +
        (offeredFailed > 0
          ? `; ${offeredFailed} of ${OFFERED} failed (${[...openLoop.failed].map(([c, n]) => `${c} ${n}: "${openLoop.said.get(c)}"`).join(", ")})`
          : ""),
      `${"claim without join, one at a time".padEnd(43)}${fmt(single.p50)} ${fmt(single.p99)} ${fmt(single.mean)}   ${(1000 / single.mean).toFixed(0).padStart(8)}`,
      `${"claims/s service / bare query".padEnd(43 + 29)}${ratio.toFixed(2).padStart(8)}   >= ${RATIO_TARGET}`,
      `targets: ratio ${ratio.toFixed(2)} at ${CONCURRENCY} concurrent (>= ${RATIO_TARGET}: ${ratio >= RATIO_TARGET ? "met" : "NOT met"}); ` +
        `p99 ${offered.p99.toFixed(1)} ms at ${OFFERED_RATE}/s offered (<= 50 ms: ${offered.p99 <= 50 && offeredFailed === 0 ? "met" : "NOT met"})`,
      `CPU per claim without join (${CONCURRENCY} concurrent): claims process ${perClaim(cpu.claims)} ms, templates process ${perClaim(cpu.templates)} ms,`,
      `this process (claimers, stand-in host) ${perClaim(cpu.bench)} ms, PostgreSQL ${perClaim(cpu.postgres)} ms: ` +
        `${perClaim(cpu.claims + cpu.templates + cpu.bench + cpu.postgres)} ms in all; ${cores} cores`,
      `CPU per bare claim query: PostgreSQL ${perClaim(bareCpu.postgres)} ms, this process (pg clients) ${perClaim(bareCpu.bench)} ms: ` +
        `${perClaim(bareCpu.postgres + bareCpu.bench)} ms in all`,
      ...(queries ? [``, ...queries, ...lastRoundQueries] : []),
    ];
    if (joinParts) {
      const j = joinParts;
      const wj = figures(j.withJoin.ms);
      lines.push(
        `${`claim with XMTP join (${JOIN_CLAIMS}, ${JOIN_CONCURRENCY} concurrent)`.padEnd(43)}${fmt(wj.p50)} ${fmt(wj.p99)} ${fmt(wj.mean)}   ${j.withJoin.perSecond.toFixed(1).padStart(8)}`,
        ``,
        `with join: real instance host in this process (offline model), local XMTP node in its own process, claims service running`,
        `its warm pool (target ${TARGET}) on that host; one conversation per claim, created by an in-bench SDK creator that adds`,
        `each instance on its join_request (${j.joinRequests} join requests answered); every instance checked in its group.`,
        ``,
        `replacement of a claimed instance (pool target ${TARGET}, pass every 5 s, ${REPLACEMENTS} claims with join, one at a time):`,
        `  from the claim request until a new instance is idle   ${secs(j.replaceFromRequest)}`,
        `  from the claim's answer                               ${secs(j.replaceFromAnswer)}`,
        `  of which waiting for the pool manager's pass          ${secs(j.waitForPass)}`,
        `  of which StartInstance (row created -> idle)          ${secs(j.startInstanceMs)}`,
      );
      if (j.creatorErrors.length > 0) lines.push(`creator errors: ${j.creatorErrors.slice(0, 3).join("; ")}`);
    } else {
      lines.push(``, `with join and replacement: not run (BENCH_CLAIMS_JOIN=0)`);
    }
    console.log(lines.join("\n"));
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
