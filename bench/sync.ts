// Instruction sync benchmark on real PostgreSQL.
// Run: npm run bench:sync   (starts a throwaway PostgreSQL; prints figures)
//      BENCH_SYNC_SIZES=1000,10000 npm run bench:sync   (other sizes, at most four)
//      BENCH_SYNC_PER_AGENT=0 npm run bench:sync   (without the per-agent delivery of before, for comparison)
//      BENCH_SYNC_SHARED_CHECK=0 npm run bench:sync   (a signature check per instance, as before that)
//
// For N = 100 and N = 1,000 (by default): N live (claimed) instances of a
// real template, rows in the claims database, served by ENDPOINTS lightweight
// instance-host processes (bench/sync-endpoint.ts, each serving many
// instances over real gRPC and really verifying each release's creator
// signature with the kit, once per release per process as an instance host
// does). The templates service and the claims service run their main.ts,
// each in its own process, as in production (the relay's kick after each
// commit; the fan-out's defaults: 64 calls in flight, 250 agents per call).
//
// Three measures per round, one after the other, ROUNDS rounds after a warm-up:
// - Per host: from the creator's signed UpdateTemplate call on the templates
//   service until the claims database records all N instances at the new
//   version (polled): committed with its outbox row, pushed, stored, fanned
//   out per host (InstanceHostService.UpdateTemplates, each endpoint checking
//   the release once and each instance its own template and version),
//   recorded.
// - Per agent (as before): the same for N instances of another template on
//   ENDPOINTS other endpoints that do not serve UpdateTemplates
//   (BENCH_SYNC_BATCH=0 there, UNIMPLEMENTED, as a host that predates it): the
//   claims service falls back to one InstanceService.UpdateTemplate per agent.
// - Bare: UpdateTemplates calls straight to the per-host endpoints, as many
//   agents per call and calls in flight as the fan-out's defaults, for N other
//   instances there (of a template only the benchmark signs).
// p50 and max of each, the ratio per host / per agent (same run) and per
// host / bare, and the CPU each process spent per update.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import {
  DerivedInboxResolver,
  releaseOperation,
  SignatureVerifier,
  signOperation,
  signUpdateRelease,
  newTemplateIdentity,
  LOCAL_POOL_ID,
} from "@convos-pool/kit/signing";
import { createTestDatabase } from "@convos-pool/testing";
import { newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { SecretBox } from "@convos-pool/claims";
import { QUICK, fmt, median, size, startChild, type Child } from "./lib.js";

const SIZES = sizes();
const ENDPOINTS = size("BENCH_SYNC_ENDPOINTS", 4, 1);
const ROUNDS = size("BENCH_SYNC_ROUNDS", 5, 1);
const CONCURRENCY = 64;
/** Agents per UpdateTemplates call: the claims service's default (sync.ts). */
const BATCH = 250;
/** Also the per-agent delivery of before, on endpoints that do not take batches. */
const PER_AGENT = process.env.BENCH_SYNC_PER_AGENT !== "0";
/** Every instance starts on version 1: the template as created. */
const BASE_VERSION = 1;
/** The targets: 1,000 within 2 s, 10,000 within 10 s. */
const TARGETS_MS = new Map([
  [1000, 2000],
  [10_000, 10_000],
]);
/** As the endpoints check releases: once per process, or (BENCH_SYNC_SHARED_CHECK=0) once per instance. */
const SHARED_CHECK = process.env.BENCH_SYNC_SHARED_CHECK !== "0";
const CREDS = generateServiceCredentials();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sizes(): number[] {
  const value = process.env.BENCH_SYNC_SIZES;
  if (!value) return QUICK ? [20] : [100, 1000];
  const list = value.split(",").map(Number);
  if (list.length > 4 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`BENCH_SYNC_SIZES must be at most four whole numbers above 0, comma-separated, not "${value}"`);
  }
  return list;
}

/** What one check of a release's signature costs here, in ms: recovering the signer and asking the resolver (median of 50). */
async function oneCheckMs(
  creator: ReturnType<typeof newIdentity>,
  content: ReturnType<typeof sampleContent>,
): Promise<number> {
  const verifier = new SignatureVerifier({ poolId: LOCAL_POOL_ID, resolver: new DerivedInboxResolver() });
  const expected = newTemplateIdentity(creator.inboxId);
  const release = await signUpdateRelease(creator.account, { ...expected, version: 2n, content });
  const { operation, fields } = releaseOperation(release);
  const ms: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now();
    await verifier.verify(operation, fields, release.creatorSignature, "template", { anyAge: true });
    if (i >= 10) ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, 100 ticks a second); 0 once it is gone. */
function cpuMs(pid: number | "self"): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time of a process's children that have exited (backends of closed connections), in ms. */
function reapedCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** The PostgreSQL server's processes: its postmaster and every backend and worker under it. */
function postgresPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]!.split(" ")[1]) === postmaster)
        pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

interface Fleet {
  letter: string;
  n: number;
  templateId: string;
  /** On the endpoints that take batches, or on those that do not. */
  batched: boolean;
  /** Instance ids and their endpoint index (in its set). */
  instances: { id: string; endpoint: number }[];
  version: number;
}

function fleet(letter: string, n: number, templateId: string, batched = true): Fleet {
  return {
    letter,
    n,
    templateId,
    batched,
    instances: Array.from({ length: n }, (_, i) => ({ id: instanceId(letter, i), endpoint: i % ENDPOINTS })),
    version: BASE_VERSION,
  };
}

const instanceId = (letter: string, i: number) => `inst_${letter}${String(i).padStart(15, "0")}`;

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-sync-"));
  const creator = newIdentity();
  const owner = newIdentity();
  const content = sampleContent({ tools: [] });
  const children: Child[] = [];
  const clients: { close(): void }[] = [];
  const [claimsDb, templatesDb] = [
    await createTestDatabase("bench_sync"),
    await createTestDatabase("bench_sync_templates"),
  ];
  const sql = new pg.Client({ connectionString: claimsDb });
  try {
    const claims = await startChild("services/claims/src/main.ts", {
      DATABASE_URL: claimsDb,
      ...serviceEnv(CREDS.claims),
      // The fan-out never asks the template service; claims would.
      TEMPLATES_URL: "http://127.0.0.1:9",
      POOL_SECRETS_KEY: SecretBox.generateKey(),
      POOL_DATA_DIR: dataDir,
    });
    children.push(claims);
    const templatesService = await startChild("services/templates/src/main.ts", {
      DATABASE_URL: templatesDb,
      ...serviceEnv(CREDS.templates),
      // One creator updates round after round: no limit on its writes.
      POOL_LIMITS: "template-writes.caller=off",
      CLAIMS_URL: claims.url,
    });
    children.push(templatesService);
    const templates = createServiceClient(TemplateService, templatesService.url, CREDS.gateway);
    clients.push(templates);
    // Each template's creation nonce, which the releases the benchmark signs itself carry (kit ids.ts).
    const creationNonces = new Map<string, string>();
    const create = async () => {
      const signature = await signOperation(creator.account, "CreateTemplate", {
        inboxId: creator.inboxId,
        contentHash: jsonHash(content),
      });
      const id = (
        await templates.client.createTemplate({
          creatorId: creator.inboxId,
          content: contentFromJson(content),
          signature,
        })
      ).template!.id;
      creationNonces.set(id, signature.nonce);
      return id;
    };
    // Per size: instances of a real template (updated through the templates
    // service) and as many of one the benchmark signs itself (the bare calls).
    const sized = [];
    for (const [k, n] of SIZES.entries()) {
      const bare = newTemplateIdentity(creator.inboxId);
      creationNonces.set(bare.templateId, bare.creationNonce);
      const bareId = bare.templateId;
      sized.push({
        n,
        pool: fleet("abcd"[k]!, n, await create()),
        perAgent: PER_AGENT ? fleet("mnop"[k]!, n, await create(), false) : undefined,
        bare: fleet("ghij"[k]!, n, bareId),
      });
    }
    const fleets = sized.flatMap((x) => [x.pool, ...(x.perAgent ? [x.perAgent] : []), x.bare]);
    const endpointEnv = {
      ...serviceEnv(CREDS["instance-host"]),
      BENCH_CREATOR: creator.inboxId,
      BENCH_TEMPLATES: fleets.map((f) => `${f.letter}=${f.templateId}`).join(","),
      BENCH_BASE_VERSION: String(BASE_VERSION),
      BENCH_SYNC_SHARED_CHECK: SHARED_CHECK ? "1" : "0",
    };
    const endpoints = await Promise.all(
      Array.from({ length: ENDPOINTS }, () => startChild("bench/sync-endpoint.ts", endpointEnv)),
    );
    children.push(...endpoints);
    const oldEndpoints = PER_AGENT
      ? await Promise.all(
          Array.from({ length: ENDPOINTS }, () =>
            startChild("bench/sync-endpoint.ts", { ...endpointEnv, BENCH_SYNC_BATCH: "0" }),
          ),
        )
      : [];
    children.push(...oldEndpoints);
    await sql.connect();
    const backend = (await sql.query<{ pid: number }>(`select pg_backend_pid() as pid`)).rows[0]!.pid;
    const postmaster = Number(readFileSync(`/proc/${backend}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    /** CPU used so far by each part, in ms: what an update costs where, beside how long it takes. */
    const cpuNow = () => ({
      claims: cpuMs(claims.pid),
      endpoints: [...endpoints, ...oldEndpoints].reduce((sum, e) => sum + cpuMs(e.pid), 0),
      templates: cpuMs(templatesService.pid),
      postgres: postgresPids(postmaster).reduce((sum, pid) => sum + cpuMs(pid), reapedCpuMs(postmaster)),
      bench: cpuMs("self"),
    });
    type Cpu = ReturnType<typeof cpuNow>;
    const timedCpu = async (into: Cpu, run: () => Promise<number>): Promise<number> => {
      const before = cpuNow();
      const ms = await run();
      const after = cpuNow();
      for (const k of Object.keys(into) as (keyof Cpu)[]) into[k] += after[k] - before[k];
      return ms;
    };

    // Claimed instances as claims leave them, on the endpoints round-robin.
    for (const f of fleets) {
      await sql.query(
        `insert into instances (id, state, host_url, inbox_id, template_id, template_version, applied_key, agent_name, owner_id,
           conversation_id, model, claimed_at)
         select v.id, 'claimed', v.host, encode(sha256(convert_to(v.id, 'utf8')), 'hex'), $3, $4, array[$4::int], 'Bench', $5, 'conversation', 'gpt-oss-20b', now()
         from unnest($1::text[], $2::text[]) as v(id, host)`,
        [
          f.instances.map((i) => i.id),
          f.instances.map((i) => (f.batched ? endpoints : oldEndpoints)[i.endpoint]!.url),
          f.templateId,
          BASE_VERSION,
          owner.inboxId,
        ],
      );
    }
    const direct = endpoints.map((e) => createServiceClient(InstanceHostService, e.url, CREDS.claims));
    clients.push(...direct);
    const instructionsAt = (version: number) => ({
      ...content,
      instructions: `${content.instructions} (version ${version})`,
    });

    const sign = (f: Fleet, version: number): Promise<SignedTemplate> =>
      signUpdateRelease(creator.account, {
        templateId: f.templateId,
        creatorId: creator.inboxId,
        creationNonce: creationNonces.get(f.templateId) ?? "",
        version: BigInt(version),
        content: instructionsAt(version),
      });

    /** Time PostgreSQL spent answering the benchmark's polls, per fleet letter (its CPU is counted with the update's). */
    const pollMs = new Map<string, number>();

    /** The creator's full update (PUT) of the fleet's template, as the CLI signs it. */
    async function viaPool(f: Fleet): Promise<number> {
      const next = contentFromJson(instructionsAt(f.version + 1));
      const signature = await signOperation(creator.account, "UpdateTemplate", {
        inboxId: creator.inboxId,
        templateId: f.templateId,
        version: BigInt(f.version),
        contentHash: jsonHash(contentToJson(next)),
      });
      const t0 = performance.now();
      const res = await templates.client.updateTemplate({
        templateId: f.templateId,
        expectedVersion: BigInt(f.version),
        content: next,
        signature,
      });
      const version = Number(res.template!.version);
      f.version = version;
      for (;;) {
        const p0 = performance.now();
        const { rows } = await sql.query<{ n: number }>(
          `select count(*)::int as n from instances where template_id = $1 and template_version >= $2`,
          [f.templateId, version],
        );
        pollMs.set(f.letter, (pollMs.get(f.letter) ?? 0) + performance.now() - p0);
        if (rows[0]!.n === f.n) return performance.now() - t0;
        const elapsed = performance.now() - t0;
        if (elapsed > 60_000) throw new Error(`only ${rows[0]!.n} of ${f.n} applied after 60 s`);
        // Within 1% of the time taken: polling a count of 10,000 rows every 2 ms would cost PostgreSQL a core.
        await sleep(Math.max(2, elapsed / 100));
      }
    }

    /** UpdateTemplates straight to the endpoints: BATCH instances of one endpoint per call, CONCURRENCY calls in flight. */
    async function bare(f: Fleet): Promise<number> {
      const version = ++f.version;
      const release = await sign(f, version);
      const calls: { endpoint: number; ids: string[] }[] = [];
      for (let e = 0; e < ENDPOINTS; e++) {
        const ids = f.instances.filter((i) => i.endpoint === e).map((i) => i.id);
        for (let k = 0; k < ids.length; k += BATCH) calls.push({ endpoint: e, ids: ids.slice(k, k + BATCH) });
      }
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < calls.length) {
            const call = calls[next++]!;
            const res = await direct[call.endpoint]!.client.updateTemplates(
              { template: release, instances: call.ids.map((instanceId) => ({ instanceId })) },
              { timeoutMs: 60_000 },
            );
            const refused = res.outcomes.find((o) => o.outcome.case !== "applied");
            if (refused)
              throw new Error(`instance ${refused.instanceId} refused: ${JSON.stringify(refused.outcome.value)}`);
          }
        }),
      );
      return performance.now() - t0;
    }

    const check = SHARED_CHECK ? "a signature check per release per process" : "a signature check per instance";
    console.log(
      `instruction sync: ${ENDPOINTS} endpoint processes per kind (${check}), fan-out ${CONCURRENCY} calls in flight of up to ${BATCH} agents, ` +
        `${ROUNDS} rounds per size (after a warm-up)\n`,
    );
    console.log(`${"".padEnd(46)}${"p50 ms".padStart(10)}${"max ms".padStart(10)}`);
    const zero = (): Cpu => ({ claims: 0, endpoints: 0, templates: 0, postgres: 0, bench: 0 });
    type Kind = "host" | "agent" | "bare";
    const results: {
      n: number;
      ms: Record<Kind, number[]>;
      cpu: Record<Kind, Cpu>;
      pollMs: { host: number; agent: number };
    }[] = [];
    for (const { n, pool, perAgent, bare: other } of sized) {
      await viaPool(pool);
      if (perAgent) await viaPool(perAgent);
      await bare(other);
      const r = {
        n,
        ms: { host: [], agent: [], bare: [] } as Record<Kind, number[]>,
        cpu: { host: zero(), agent: zero(), bare: zero() },
      };
      pollMs.clear();
      for (let round = 0; round < ROUNDS; round++) {
        r.ms.host.push(await timedCpu(r.cpu.host, () => viaPool(pool)));
        if (perAgent) r.ms.agent.push(await timedCpu(r.cpu.agent, () => viaPool(perAgent)));
        r.ms.bare.push(await timedCpu(r.cpu.bare, () => bare(other)));
      }
      results.push({
        ...r,
        pollMs: { host: pollMs.get(pool.letter) ?? 0, agent: perAgent ? (pollMs.get(perAgent.letter) ?? 0) : 0 },
      });
      const line = (label: string, ms: number[]) =>
        console.log(`${label.padEnd(46)}${fmt(median(ms), 10)}${fmt(Math.max(...ms), 10)}`);
      const ratio = (label: string, a: number[], b: number[]) =>
        console.log(`${label.padEnd(46)}${fmt(median(a) / median(b), 10)}${fmt(Math.max(...a) / Math.max(...b), 10)}`);
      line(`N = ${n}: update, delivered per host`, r.ms.host);
      if (perAgent) line(`N = ${n}: update, delivered per agent (before)`, r.ms.agent);
      line(`N = ${n}: bare UpdateTemplates calls`, r.ms.bare);
      if (perAgent) ratio(`N = ${n}: ratio per host / per agent`, r.ms.host, r.ms.agent);
      ratio(`N = ${n}: ratio per host / bare`, r.ms.host, r.ms.bare);
    }
    console.log("");
    for (const r of results) {
      const target = TARGETS_MS.get(r.n);
      if (target === undefined) continue;
      const worst = Math.max(...r.ms.host);
      console.log(
        `${r.n.toLocaleString("en")} instances: p50 ${median(r.ms.host).toFixed(0)} ms, max ${worst.toFixed(0)} ms (target <= ${target} ms: ${worst <= target ? "met" : "NOT met"})`,
      );
    }
    // Where the time goes: CPU per update by process, and per instance (the machine has few cores; all share them).
    for (const r of results) {
      for (const [label, cpu] of [
        ["update per host", r.cpu.host],
        ...(PER_AGENT ? ([["update per agent", r.cpu.agent]] as const) : []),
        ["bare", r.cpu.bare],
      ] as const) {
        const per = (ms: number) =>
          `${(ms / ROUNDS).toFixed(0)} ms (${((ms / ROUNDS / r.n) * 1000).toFixed(0)} us/instance)`;
        const polls = label === "update per host" ? r.pollMs.host : label === "update per agent" ? r.pollMs.agent : 0;
        console.log(
          `N = ${r.n}: CPU per ${label}: claims ${per(cpu.claims)}, endpoints ${per(cpu.endpoints)}, PostgreSQL ${per(cpu.postgres)}` +
            `${polls > 0 ? ` (of which the benchmark's polls at most ${(polls / ROUNDS).toFixed(0)} ms)` : ""}, templates ${per(cpu.templates)}, benchmark ${per(cpu.bench)}`,
        );
      }
    }
    // The checks' share, from what one costs here (their CPU, spread over the machine's cores with everything else).
    const checkMs = await oneCheckMs(creator, content);
    for (const r of results) {
      const checks = SHARED_CHECK ? ENDPOINTS : r.n;
      console.log(
        `N = ${r.n}: ${checks} signature checks per update x ${checkMs.toFixed(2)} ms = ${(checks * checkMs).toFixed(0)} ms of CPU (one per instance: ${(r.n * checkMs).toFixed(0)} ms)`,
      );
    }
  } finally {
    for (const c of clients) c.close();
    await sql.end().catch(() => {});
    await Promise.all(children.map((c) => c.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
