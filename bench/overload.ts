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
// Printed against the issue's goals. BENCH_ADMISSION=off runs the claims
// service without its admission (POOL_ADMISSION=off), for comparison.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import pg from "pg";
import { Code, ConnectError } from "@connectrpc/connect";
import { ClaimService } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { callerHeaders, createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { createTestDatabase, TEST_METRICS_TOKEN } from "@convos-pool/testing";
import { newIdentity, sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { SecretBox } from "@convos-pool/claims";
import { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { composeServices, nodeFlagsOf } from "@convos-pool/e2e/deployed";
import { closeAll, fmt, size, startChild, type Child } from "./lib.js";
import { levelFigures, type Outcome, overloadGoals } from "./overload-report.js";

const CAPACITY_CLAIMS = size("BENCH_CAPACITY_CLAIMS", 1500, 100);
const WARMUP = size("BENCH_OVERLOAD_WARMUP", 300, 20);
const LEVEL_SECONDS = size("BENCH_LEVEL_SECONDS", 5, 1);
const DEADLINE_MS = size("BENCH_DEADLINE_MS", 2000, 2000);
const CONCURRENCY = 50;
const LEVELS = [0.5, 1, 2, 4];
const CREDS = generateServiceCredentials();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first message of each failure code, for the report. */
const said = new Map<string, string>();

/** Runs `n` jobs with `concurrency` in flight: the jobs done a second, and how many failed (a deadline on a busy machine). */
async function closedLoop(
  n: number,
  concurrency: number,
  job: () => Promise<unknown>,
): Promise<{ perSecond: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next++ < n)
        await job().catch((err: unknown) => {
          failed++;
          const e = ConnectError.from(err);
          const code = `closed loop ${Code[e.code] ?? "Unknown"}`;
          if (!said.has(code)) said.set(code, e.rawMessage.slice(0, 200));
        });
    }),
  );
  return { perSecond: (n - failed) / ((performance.now() - t0) / 1000), failed };
}

/** `rate` claims a second for `seconds`, each on its schedule; each outcome with its latency from its schedule. */
async function openLoop(rate: number, seconds: number, job: () => Promise<unknown>): Promise<Outcome[]> {
  const n = Math.round(rate * seconds);
  const t0 = performance.now() + 20;
  return Promise.all(
    Array.from({ length: n }, async (_, i): Promise<Outcome> => {
      const at = t0 + (i * 1000) / rate;
      await sleep(Math.max(0, at - performance.now()));
      const lateMs = Math.max(0, performance.now() - at);
      try {
        await job();
        return { ms: performance.now() - at, lateMs, code: "ok" };
      } catch (err) {
        const e = ConnectError.from(err);
        // A refusal of the kit client's own throttle (overload/throttle.ts) never reached the service.
        const code = e.rawMessage.includes("this client's throttle") ? "Throttled" : (Code[e.code] ?? "Unknown");
        if (!said.has(code)) said.set(code, e.rawMessage.slice(0, 200));
        return { ms: performance.now() - at, lateMs, code };
      }
    }),
  );
}

/** A public template of no pool tools, as bench/claims.ts makes it. */
async function publicTemplate(templatesUrl: string, creator: TestIdentity): Promise<string> {
  const sc = createServiceClient(TemplateService, templatesUrl, CREDS.gateway);
  try {
    const body = contentFromJson(sampleContent({ tools: [] }));
    const signature = await signOperation(creator.account, "CreateTemplate", {
      inboxId: creator.inboxId,
      contentHash: jsonHash(contentToJson(body)),
    });
    const t = (await sc.client.createTemplate({ creatorId: creator.inboxId, content: body, signature })).template!;
    const pub = await signOperation(creator.account, "SetTemplateVisibility", {
      inboxId: creator.inboxId,
      templateId: t.id,
      version: t.version,
      visibility: "public",
    });
    await sc.client.setTemplateVisibility({
      templateId: t.id,
      expectedVersion: t.version,
      visibility: Visibility.PUBLIC,
      signature: pub,
    });
    return t.id;
  } finally {
    sc.close();
  }
}

/** The samples of the claims process's /metrics whose line starts with `name`, its service label left out. */
async function metric(url: string, name: string, ...having: string[]): Promise<string> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })
  ).text();
  const lines = text.split("\n").filter((l) => l.startsWith(name) && having.every((h) => l.includes(h)));
  return lines.map((l) => l.replace(/\{[^}]*pool_service="[^"]*",?/, "{").replace("{}", "")).join("; ") || "none";
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "bench-overload-"));
  const [templatesDb, claimsDb] = await Promise.all([
    createTestDatabase("bench_overload_templates"),
    createTestDatabase("bench_overload_claims"),
  ]);
  const children: Child[] = [];
  const closers: (readonly [string, () => unknown])[] = [];
  try {
    const templates = await startChild("services/templates/src/main.ts", {
      DATABASE_URL: templatesDb,
      ...serviceEnv(CREDS.templates),
    });
    children.push(templates);
    const templateId = await publicTemplate(templates.url, newIdentity());
    const users = Array.from({ length: 50 }, () => newIdentity().inboxId);
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
    const seed = size("BENCH_OVERLOAD_ROWS", 40_000, 3_000);
    const { rows: seeded } = await sql.query<{ id: string; wallet_index: number; inbox_id: string }>(
      `insert into instances (id, state, host_url, inbox_id)
       select 'inst_o' || lpad(g::text, 15, '0'), 'idle', $1, md5('a' || g::text) || md5('b' || g::text)
       from generate_series(1, $2::int) as g
       returning id, wallet_index, inbox_id`,
      [standIn.url, seed],
    );
    for (const r of seeded)
      standIn.instances.set(r.id, {
        id: r.id,
        walletIndex: Number(r.wallet_index),
        inboxId: r.inbox_id,
        state: InstanceState.IDLE,
        releases: 0,
      });
    await sql.query("vacuum analyze instances");

    const client = createServiceClient(ClaimService, claims.url, CREDS.gateway);
    closers.push(["the claims client", () => client.close()]);
    let n = 0;
    let answered = 0;
    const claimOnce = async () => {
      const i = n++;
      const requester = users[i % users.length]!;
      await client.client.claim(
        { requester, templateId, conversationInvite: `https://dev.convos.org/v2?i=overload-${i}`, userConfig: {} },
        { headers: callerHeaders(requester), timeoutMs: DEADLINE_MS },
      );
      answered++;
    };

    await closedLoop(WARMUP, CONCURRENCY, claimOnce);
    const closed = await closedLoop(CAPACITY_CLAIMS, CONCURRENCY, claimOnce);
    const capacity = closed.perSecond;
    console.log(
      `capacity (closed loop, ${CAPACITY_CLAIMS} claims by ${CONCURRENCY} claimers, deadline ${DEADLINE_MS} ms): ${capacity.toFixed(0)} claims/s answered (${closed.failed} failed); ` +
        `the claims service's limit ${await metric(claims.url, "pool_admission_limit")}`,
    );
    const levels = [];
    for (const factor of LEVELS) {
      // This process's own lag: a late start here counts against the service (each latency runs from its schedule).
      const lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
      const outcomes = await openLoop(capacity * factor, LEVEL_SECONDS, claimOnce);
      lag.disable();
      const level = levelFigures(factor, capacity * factor, LEVEL_SECONDS, outcomes);
      levels.push(level);
      console.log(
        `${`${factor}x offered (${level.offered.toFixed(0)}/s)`.padEnd(26)} goodput ${level.goodput.toFixed(0).padStart(5)}/s  ` +
          `admitted p50 ${fmt(level.admitted.p50)} p99 ${fmt(level.admitted.p99)} ms  refused ${String(level.refused).padStart(5)} (${level.throttled} by the client) p99 ${fmt(level.refusedP99)} ms ` +
          `(the service's from their send ${fmt(level.serviceRefusedSentP99)} ms)  ` +
          `other ${JSON.stringify(level.other)}; limit ${await metric(claims.url, "pool_admission_limit")}; ` +
          `this process's event loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms`,
      );
      await sleep(1000);
    }
    // Claims still at work behind a deadline their caller gave up at end within it.
    await sleep(DEADLINE_MS + 1000);
    const { rows } = await sql.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from instances group by state order by state",
    );
    const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const refusals = await metric(claims.url, "pool_admission_refused_total");
    // In the server: refusals at once (waited under 0.5 ms) and those refused when their wait ran out.
    const atOnce = await metric(claims.url, "pool_admission_queue_seconds_bucket", 'le="0.0005"', 'outcome="refused"');
    const refusedAll = await metric(claims.url, "pool_admission_queue_seconds_count", 'outcome="refused"');
    for (const [code, message] of said) console.log(`first ${code}: ${message}`);
    console.log(`instances by state after the run: ${JSON.stringify(states)}; claims answered ${answered}`);
    console.log(`the claims service's refusals: ${refusals}; of them refused at once: ${atOnce} of ${refusedAll}`);
    for (const line of overloadGoals(levels, {
      claiming: states.claiming ?? 0,
      claimed: states.claimed ?? 0,
      answered,
    }))
      console.log(line);
  } finally {
    await closeAll([...closers, ...children.map((c) => [`the process on port ${c.port}`, () => c.stop()] as const)]);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
