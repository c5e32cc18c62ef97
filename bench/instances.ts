// Memory per idle agent instance in one instance host process.
// Run: npm run bench:instances   (starts a throwaway PostgreSQL; prints figures)
//
// The local XMTP node runs in its own process on PostgreSQL; the instance host
// runs in its own process as services/instance/src/main.ts runs it (bench/lone-host.ts: its keys from a seed, there being no pool)
// (offline model). Idle = started: wallet derived, XMTP client created and
// registered on the node, encrypted database on disk, workspace written; not
// configured, no conversation, no stream. Measured from outside, in the host's
// /proc/<pid>/status (VmRSS, Threads) and /proc/<pid>/fd:
// - the host alone, then with 1 instance (the first client starts the SDK's
//   runtime: a fixed cost), then with 1 + BENCH_INSTANCES (100) instances,
//   started over gRPC with 8 StartInstance calls in flight;
// - per instance = (RSS with 1 + N) - (RSS with 1), divided by N;
// - then the host is stopped and started again on the same data directory:
//   time until every instance is back (restore) and the RSS afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { english, generateMnemonic } from "viem/accounts";
import { createServiceClient, generateServiceCredentials, serviceEnv } from "@convos-pool/kit/server";
import { createTestDatabase } from "@convos-pool/testing";
import { InstanceHostService } from "@convos-pool/gen/convos/pool/v1/instance_host_service_pb.js";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { figures, fmt, size, settledStatus, startChild, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

const N = size("BENCH_INSTANCES", 100, 4);
const CONCURRENCY = 8;
const dir = await mkdtemp(join(tmpdir(), "bench-instances-"));
const creds = generateServiceCredentials();
const hostEnv = async () => ({
  XMTP_API_URL: node.url,
  BENCH_MASTER_SEED: seed,
  ...serviceEnv(creds["instance-host"]),
  INSTANCE_DATA_DIR: join(dir, "instances"),
  MAX_INSTANCES: String(N + 1),
});
const seed = generateMnemonic(english);
const node = await startChild(
  "services/xmtp-devnode/src/main.ts",
  { DATABASE_URL: await createTestDatabase("bench_instances"), ...NODE_WITHOUT_RATE_LIMITS },
  { readyPrefix: "XMTP devnode:" },
);
let host = await startChild("bench/lone-host.ts", await hostEnv(), { readyPrefix: "instance host:" });

try {
  let rpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  const empty = await settledStatus(host.pid);
  await rpc.client.startInstance({ instanceId: "warmup", walletIndex: 0 });
  const one = await settledStatus(host.pid);

  const startMs: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const t = performance.now();
        await rpc.client.startInstance({ instanceId: `inst-${i}`, walletIndex: i + 1 });
        startMs.push(performance.now() - t);
      }
    }),
  );
  const startAllMs = performance.now() - t0;
  const listed = await rpc.client.listInstances({});
  const idle = listed.instances.filter((i) => i.state === InstanceState.IDLE).length;
  if (idle !== N + 1) throw new Error(`expected ${N + 1} idle instances, the host lists ${idle}`);
  const many = await settledStatus(host.pid);
  const perInstance = (many.rssMb - one.rssMb) / N;

  // Restart on the same data directory: every instance comes back.
  rpc.close();
  await host.stop();
  const r0 = performance.now();
  host = await startChild("bench/lone-host.ts", await hostEnv(), { readyPrefix: "instance host:" });
  const restoreMs = performance.now() - r0;
  rpc = createServiceClient(InstanceHostService, host.url, creds.claims);
  const back = (await rpc.client.listInstances({})).instances.filter((i) => i.state === InstanceState.IDLE).length;
  const restored = await settledStatus(host.pid);
  rpc.close();

  const s = figures(startMs);
  const line = (label: string, st: { rssMb: number; threads: number; fds: number }) =>
    `  ${label.padEnd(34)}${fmt(st.rssMb, 9)} MB ${String(st.threads).padStart(8)} ${String(st.fds).padStart(8)}`;
  console.log(`instance host process (offline model), ${N} idle instances (XMTP client registered, no conversation):`);
  console.log(`  ${"".padEnd(34)}${"RSS".padStart(12)} ${"threads".padStart(8)} ${"fds".padStart(8)}`);
  console.log(line("host, no instance", empty));
  console.log(line("host, 1 instance", one));
  console.log(line(`host, ${N + 1} instances`, many));
  console.log(line(`after restart, ${back} restored`, restored));
  console.log("");
  console.log(`  per idle instance: ${perInstance.toFixed(2)} MB RSS   (target <= 10 MB)`);
  console.log(`  per idle instance after restart: ${((restored.rssMb - one.rssMb) / N).toFixed(2)} MB RSS`);
  console.log(`  first instance (SDK runtime): ${(one.rssMb - empty.rssMb).toFixed(1)} MB`);
  console.log(`  1,000 idle instances projected: ${(one.rssMb + 1000 * perInstance).toFixed(0)} MB in one process`);
  console.log(
    `  StartInstance (wallet, XMTP registration, workspace), ${CONCURRENCY} in flight: p50 ${fmt(s.p50, 0)} ms, p99 ${fmt(s.p99, 0)} ms; ` +
      `${((N / startAllMs) * 1000).toFixed(1)} instances/s`,
  );
  console.log(
    `  host restart with ${N + 1} instances: ${(restoreMs / 1000).toFixed(1)} s until all were back (${back} idle)`,
  );
} finally {
  await host.stop().catch(() => undefined);
  await node.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
