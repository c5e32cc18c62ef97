// Overload benchmark: the claims service offered more than it can do
// (docs/performance/overload.md, issue 79).
// Run: npm run bench:overload   (a throwaway PostgreSQL; a few minutes at most)
//
// The set-up of bench:claims' part 1 (bench/claims.ts): the claims service
// (its main.ts, in its own process, with deploy/compose.yaml's Node flags)
// and the templates service (its own process) on PostgreSQL, a public
// template with no pool tools, the TEST STAND-IN host in this process
// (services/claims/test/stand-in-host.ts: Configure and JoinConversation
// answered without XMTP work), idle rows inserted up front. Claims are made
// with the kit's service client as the gateway makes them, each with a
// deadline (BENCH_DEADLINE_MS, 2000) as a client that gives up would.
//
// 1. Capacity, closed loop: BENCH_CAPACITY_CLAIMS (1500) claims by 50
//    claimers after a warm-up; its claims a second are C.
// 2. Open loop at 0.5, 1, 2 and 4 times C, BENCH_LEVEL_SECONDS (5) each:
//    each claim starts on its schedule whatever the answers' pace, its
//    latency counted from its scheduled start (no coordinated omission).
//    Per level: the claims answered a second (goodput), the p99 of those
//    admitted, the p99 of the refusals (RESOURCE_EXHAUSTED) and what else
//    failed; the claims service's learned limit from its /metrics.
// 3. No claim half done: once the last answer is in, no row is left
//    `claiming`, and the claimed rows are the claims answered (a claim whose
//    caller gave up at its deadline may still have been completed).
// 4. The REST mix (bench/overload-rest.ts): the gateway's REST face offered
//    claims, store listings and dashboard reads at the same factors of the
//    mix's own capacity; BENCH_REST=0 leaves it out.
// Printed against the issue's goals, with the machine's load average and
// each level's CPU and event loop delay of the claims process (where a
// refusal's time goes before the admission sees the call). BENCH_ADMISSION
// is the claims service's POOL_ADMISSION (off: without its admission).
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import pg from "pg";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { callerHeaders, createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { createTestDatabase, TEST_METRICS_TOKEN } from "@convos-pool/testing";
import { newIdentity } from "@convos-pool/kit/testing";
import { SecretBox } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { composeServices, nodeFlagsOf } from "@convos-pool/e2e/deployed";
import { closeAll, fmt, publicTemplate, seedIdleInstances, size, startChild, type Child } from "./lib.js";
import { closedLoop, openLoop, processLoad, rpcCode, said, samples, scrape } from "./overload-loops.js";
import { levelFigures, overloadGoals } from "./overload-report.js";
import { restMix } from "./overload-rest.js";

const CAPACITY_CLAIMS = size("BENCH_CAPACITY_CLAIMS", 1500, 100);
const WARMUP = size("BENCH_OVERLOAD_WARMUP", 300, 20);
const LEVEL_SECONDS = size("BENCH_LEVEL_SECONDS", 5, 1);
const DEADLINE_MS = size("BENCH_DEADLINE_MS", 2000, 2000);
const CONCURRENCY = 50;
const LEVELS = [0.5, 1, 2, 4];
const CREDS = generateServiceCredentials();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "bench-overload-"));
  const [templatesDb, claimsDb] = await Promise.all([
    createTestDatabase("bench_overload_templates"),
    createTestDatabase("bench_overload_claims"),
  ]);
  const children: Child[] = [];
  const closers: (readonly [string, () => unknown])[] = [];
  try {
    console.log(`load average (1, 5, 15 min) at the start: ${load()}`);
    const templates = await startChild("services/templates/src/main.ts", {
      DATABASE_URL: templatesDb,
      ...serviceEnv(CREDS.templates),
    });
    children.push(templates);
    const templateId = await publicTemplate(templates.url, newIdentity(), CREDS.gateway);
    const people = Array.from({ length: 50 }, () => newIdentity());
    const standIn = await StandInHost.start(CREDS["instance-host"], { checkConfigure: false });
    closers.push(["the stand-in host", () => standIn.kill()]);
    const claims = await startChild(
      "services/claims/src/main.ts",
      {
        DATABASE_URL: claimsDb,
        ...serviceEnv(CREDS.claims),
        TEMPLATES_URL: templates.url,
        POOL_SECRETS_KEY: SecretBox.generateKey(),
        POOL_DATA_DIR: join(dir, "claims"),
        POOL_LIMITS: "claims.caller=off,agents.owner=100000,tools.owner=100000",
        CLAIM_LEASE_SECONDS: "3600",
        ...(process.env.BENCH_ADMISSION ? { POOL_ADMISSION: process.env.BENCH_ADMISSION } : {}),
      },
      { nodeArgs: nodeFlagsOf((await composeServices()).claims) },
    );
    children.push(claims);
    const sql = new pg.Client({ connectionString: claimsDb });
    await sql.connect();
    closers.push(["the benchmark's database client", () => sql.end()]);
    await seedIdleInstances(sql, standIn, "o", size("BENCH_OVERLOAD_ROWS", 60_000, 3_000));

    const client = createServiceClient(ClaimService, claims.url, CREDS.gateway);
    closers.push(["the claims client", () => client.close()]);
    let n = 0;
    let answered = 0;
    const claimOnce = async (): Promise<string> => {
      const i = n++;
      const requester = people[i % people.length]!.inboxId;
      try {
        await client.client.claim(
          { requester, templateId, conversationInvite: `https://dev.convos.org/v2?i=overload-${i}`, userConfig: {} },
          { headers: callerHeaders(requester), timeoutMs: DEADLINE_MS },
        );
        answered++;
        return "ok";
      } catch (err) {
        return rpcCode(err);
      }
    };
    const limit = (text: string) => samples(text, "pool_admission_limit");

    await closedLoop(WARMUP, CONCURRENCY, claimOnce);
    const closed = await closedLoop(CAPACITY_CLAIMS, CONCURRENCY, claimOnce);
    const capacity = closed.perSecond;
    console.log(
      `capacity (closed loop, ${CAPACITY_CLAIMS} claims by ${CONCURRENCY} claimers, deadline ${DEADLINE_MS} ms): ${capacity.toFixed(0)} claims/s answered (${closed.failed} failed); ` +
        `the claims service's limit ${limit(await scrape(claims.url, TEST_METRICS_TOKEN))}`,
    );
    const levels = [];
    for (const factor of LEVELS) {
      // This process's own lag: a late start here counts against the service (each latency runs from its schedule).
      const lag = monitorEventLoopDelay({ resolution: 5 });
      const before = await scrape(claims.url, TEST_METRICS_TOKEN);
      const t0 = performance.now();
      lag.enable();
      const outcomes = await openLoop(capacity * factor, LEVEL_SECONDS, claimOnce);
      lag.disable();
      const seconds = (performance.now() - t0) / 1000;
      const after = await scrape(claims.url, TEST_METRICS_TOKEN);
      const level = levelFigures(factor, capacity * factor, LEVEL_SECONDS, outcomes);
      levels.push(level);
      console.log(
        `${`${factor}x offered (${level.offered.toFixed(0)}/s)`.padEnd(26)} goodput ${level.goodput.toFixed(0).padStart(5)}/s  ` +
          `admitted p50 ${fmt(level.admitted.p50)} p99 ${fmt(level.admitted.p99)} ms  refused ${String(level.refused).padStart(5)} (${level.throttled} by the client) p99 ${fmt(level.refusedP99)} ms ` +
          `(the service's from their send ${fmt(level.serviceRefusedSentP99)} ms)  ` +
          `other ${JSON.stringify(level.other)}; limit ${limit(after)}; ` +
          `the claims service: ${processLoad(before, after, seconds)}; ` +
          `this process's event loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms; load average ${load()}`,
      );
      await sleep(1000);
    }
    // Claims still at work behind a deadline their caller gave up at end within it.
    await sleep(DEADLINE_MS + 1000);
    const { rows } = await sql.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from instances group by state order by state",
    );
    const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const metrics = await scrape(claims.url, TEST_METRICS_TOKEN);
    // In the server: refusals at once (waited under 0.5 ms) and those refused when their wait ran out.
    const atOnce = samples(metrics, "pool_admission_queue_seconds_bucket", 'le="0.0005"', 'outcome="refused"');
    const refusedAll = samples(metrics, "pool_admission_queue_seconds_count", 'outcome="refused"');
    console.log(`instances by state after the run: ${JSON.stringify(states)}; claims answered ${answered}`);
    console.log(
      `the claims service's refusals: ${samples(metrics, "pool_admission_refused_total")}; of them refused at once: ${atOnce} of ${refusedAll}`,
    );
    const goals = overloadGoals(levels, { claiming: states.claiming ?? 0, claimed: states.claimed ?? 0, answered });
    if (process.env.BENCH_REST !== "0")
      await restMix({
        templatesUrl: templates.url,
        claimsUrl: claims.url,
        gateway: CREDS.gateway,
        templateId,
        people,
        deadlineMs: DEADLINE_MS,
        levels: LEVELS,
        levelSeconds: LEVEL_SECONDS,
        children,
      });
    for (const [code, message] of said) console.log(`first ${code}: ${message}`);
    for (const line of goals) console.log(line);
    console.log(`load average (1, 5, 15 min) at the end: ${load()}`);
  } finally {
    await closeAll([...closers, ...children.map((c) => [`the process on port ${c.port}`, () => c.stop()] as const)]);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
