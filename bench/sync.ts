// Instruction sync benchmark on real PostgreSQL.
// Run: npm run bench:sync   (starts a throwaway PostgreSQL; prints figures)
//
// N = 100 and N = 1,000 live (claimed) instances, rows in the claims
// database, served by ENDPOINTS lightweight InstanceService processes
// (bench/sync-endpoint.ts, each serving many instances by `x-pool-instance`
// over real gRPC and really verifying each release's creator signature with
// the kit). The claims service runs its main.ts in its own process, as in
// production (fan-out concurrency: its default, 64).
//
// Push: from the PushTemplateVersion call (the update arriving at the claims
// service) until the database records all N instances at the new version
// (polled every few ms): stored, fanned out, applied by each endpoint,
// recorded. Bare: N UpdateTemplate calls straight to the same endpoints, 64
// in flight, with a newer signed release. Each round times one of each,
// alternating; ROUNDS rounds after a warm-up; p50 and max, and the ratio.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { InstanceService } from "@convos-pool/gen/convos/pool/v1/instance_service_pb.js";
import type { SignedTemplate } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateSyncService } from "@convos-pool/gen/convos/pool/v1/template_sync_service_pb.js";
import { createServiceClient, signUpdateRelease } from "@convos-pool/kit";
import { createTestDatabase, newIdentity, sampleContent } from "@convos-pool/kit/testing";
import { SecretBox } from "../services/claims/src/secrets.js";
import { fmt, median, startChild, type Child } from "./lib.js";

const SIZES = [100, 1000];
const ENDPOINTS = Number(process.env.BENCH_SYNC_ENDPOINTS ?? 4);
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 5);
const CONCURRENCY = 64;
const BASE_VERSION = 2;
const TARGET_MS = 2000;
const TOKEN = randomBytes(24).toString("base64url");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fleet {
  letter: string;
  n: number;
  templateId: string;
  /** Instance ids and their endpoint index. */
  instances: { id: string; endpoint: number }[];
  version: number;
}

const instanceId = (letter: string, i: number) => `inst_${letter}${String(i).padStart(15, "0")}`;

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-sync-"));
  const creator = newIdentity();
  const owner = newIdentity();
  const content = sampleContent({ tools: [] });
  const fleets: Fleet[] = SIZES.map((n, k) => {
    const letter = "abcdefgh"[k]!;
    return {
      letter,
      n,
      templateId: `tmpl_${letter.repeat(4)}${randomBytes(6).toString("hex")}`,
      instances: Array.from({ length: n }, (_, i) => ({ id: instanceId(letter, i), endpoint: i % ENDPOINTS })),
      version: BASE_VERSION,
    };
  });
  const children: Child[] = [];
  const clients: { close(): void }[] = [];
  const claimsUrl = await createTestDatabase("bench_sync");
  const sql = new pg.Client({ connectionString: claimsUrl });
  try {
    const endpointEnv = {
      POOL_SERVICE_TOKEN: TOKEN,
      BENCH_CREATOR: creator.inboxId,
      BENCH_TEMPLATES: fleets.map((f) => `${f.letter}=${f.templateId}`).join(","),
      BENCH_BASE_VERSION: String(BASE_VERSION),
    };
    const endpoints = await Promise.all(Array.from({ length: ENDPOINTS }, () => startChild("bench/sync-endpoint.ts", endpointEnv)));
    children.push(...endpoints);
    const claims = await startChild("services/claims/src/main.ts", {
      DATABASE_URL: claimsUrl,
      POOL_SERVICE_TOKEN: TOKEN,
      // The fan-out never asks the template service; claims would.
      TEMPLATES_URL: "http://127.0.0.1:9",
      POOL_SECRETS_KEY: SecretBox.generateKey(),
      POOL_DATA_DIR: dataDir,
    });
    children.push(claims);
    await sql.connect();

    // Claimed instances as claims leave them, on the endpoints round-robin.
    for (const f of fleets) {
      await sql.query(
        `insert into instances (id, state, host_url, inbox_id, template_id, template_version, agent_name, owner_id,
           conversation_id, model, claimed_at)
         select v.id, 'claimed', v.host, encode(sha256(convert_to(v.id, 'utf8')), 'hex'), $3, $4, 'Bench', $5, 'conversation', 'gpt-oss-20b', now()
         from unnest($1::text[], $2::text[]) as v(id, host)`,
        [f.instances.map((i) => i.id), f.instances.map((i) => endpoints[i.endpoint]!.url), f.templateId, BASE_VERSION, owner.inboxId],
      );
    }
    const push = createServiceClient(TemplateSyncService, claims.url, TOKEN);
    const direct = endpoints.map((e) => createServiceClient(InstanceService, e.url, TOKEN));
    clients.push(push, ...direct);

    const sign = (f: Fleet, version: number): Promise<SignedTemplate> =>
      signUpdateRelease(creator.account, {
        templateId: f.templateId,
        creatorId: creator.inboxId,
        version: BigInt(version),
        content: { ...content, instructions: `${content.instructions} (version ${version})` },
      });

    async function viaPool(f: Fleet): Promise<number> {
      const version = ++f.version;
      const release = await sign(f, version);
      const t0 = performance.now();
      const res = await push.client.pushTemplateVersion({ template: release });
      if (res.instances !== f.n) throw new Error(`push reached ${res.instances} instances, not ${f.n}`);
      for (;;) {
        const { rows } = await sql.query<{ n: number }>(
          `select count(*)::int as n from instances where template_id = $1 and template_version >= $2`,
          [f.templateId, version],
        );
        if (rows[0]!.n === f.n) return performance.now() - t0;
        if (performance.now() - t0 > 60_000) throw new Error(`only ${rows[0]!.n} of ${f.n} applied after 60 s`);
        await sleep(2);
      }
    }

    async function bare(f: Fleet): Promise<number> {
      const version = ++f.version;
      const release = await sign(f, version);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < f.n) {
            const i = f.instances[next++]!;
            await direct[i.endpoint]!.client.updateTemplate(
              { template: release, tools: [] },
              { headers: { "x-pool-instance": i.id }, timeoutMs: 10_000 },
            );
          }
        }),
      );
      return performance.now() - t0;
    }

    console.log(`instruction sync: ${ENDPOINTS} endpoint processes, fan-out ${CONCURRENCY} in flight, ${ROUNDS} rounds per size (after a warm-up)\n`);
    console.log(`${"".padEnd(34)}${"p50 ms".padStart(10)}${"max ms".padStart(10)}`);
    const results: { n: number; pool: number[]; bare: number[] }[] = [];
    for (const f of fleets) {
      await viaPool(f);
      await bare(f);
      const r = { n: f.n, pool: [] as number[], bare: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        r.pool.push(await viaPool(f));
        r.bare.push(await bare(f));
      }
      results.push(r);
      const line = (label: string, ms: number[]) => console.log(`${label.padEnd(34)}${fmt(median(ms), 10)}${fmt(Math.max(...ms), 10)}`);
      line(`N = ${f.n}: push until all applied`, r.pool);
      line(`N = ${f.n}: bare UpdateTemplate calls`, r.bare);
      console.log(`${`N = ${f.n}: ratio push / bare`.padEnd(34)}${fmt(median(r.pool) / median(r.bare), 10)}${fmt(Math.max(...r.pool) / Math.max(...r.bare), 10)}`);
    }
    const big = results.find((r) => r.n === 1000);
    if (big) {
      const worst = Math.max(...big.pool);
      console.log(`\n1,000 instances: p50 ${median(big.pool).toFixed(0)} ms, max ${worst.toFixed(0)} ms (target <= ${TARGET_MS} ms: ${worst <= TARGET_MS ? "met" : "NOT met"})`);
    }
  } finally {
    for (const c of clients) c.close();
    await sql.end().catch(() => {});
    await Promise.all(children.map((c) => c.stop()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
