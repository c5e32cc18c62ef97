// What an XMTP client leaves behind in its process once it is let go: real
// @xmtp/node-sdk clients created one after another against the local node
// (in its own process, on real PostgreSQL), each synced and streamed from
// briefly as an instance does, then either dropped (the reference let go) or
// closed (`await client.close()`), with this process's RSS, JS heap, threads
// and open files sampled after a full GC.
// Run: npm run bench:xmtp-clients   (starts a throwaway PostgreSQL; about 7 minutes)
//   BENCH_CLIENTS (100)              clients per round, one after another
//   BENCH_CLIENTS_ROUNDS (3)         rounds, each followed by a pause of
//   BENCH_CLIENTS_SETTLE_MS (40000)  (libxmtp's database pool, r2d2, ends its
//                                    three threads at its next scheduled run,
//                                    up to 30 s after the pool was released)
//   BENCH_CLIENTS_MODE (both)        drop | close | both, each in a process of its own
// What to read: "growth per client after round 1" (RSS after the last pause
// over RSS after the first, per client created in between; round 1 also
// raises the allocator's high-water mark once). Dropped clients keep their
// database pool, its threads and open files for the life of the process.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { Client } from "@xmtp/node-sdk";
import { createXmtpClient } from "@convos-pool/convos";
import { createTestDatabase, startServiceProcess } from "@convos-pool/testing";
import { fmt, size, NODE_WITHOUT_RATE_LIMITS } from "./lib.js";

const COUNT = size("BENCH_CLIENTS", 100, 5);
const ROUNDS = size("BENCH_CLIENTS_ROUNDS", 3, 2);
const SETTLE_MS = size("BENCH_CLIENTS_SETTLE_MS", 40_000, 500);
const MODE = process.env.BENCH_CLIENTS_MODE ?? "both";
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

if (MODE !== "drop" && MODE !== "close" && MODE !== "both")
  throw new Error(`BENCH_CLIENTS_MODE must be drop, close or both, not "${MODE}"`);
if (MODE === "both" || !gc) {
  // Each mode in a fresh process (one must not inherit the other's memory), with the GC exposed.
  for (const mode of MODE === "both" ? ["drop", "close"] : [MODE]) {
    const child = spawn(process.execPath, ["--expose-gc", ...process.execArgv, process.argv[1]!], {
      env: { ...process.env, BENCH_CLIENTS_MODE: mode },
      stdio: "inherit",
    });
    // Stopped (lib.ts exits on SIGINT/SIGTERM), it takes its child with it.
    const stop = () => child.kill("SIGTERM");
    process.once("exit", stop);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    process.off("exit", stop);
    if (code !== 0) process.exit(code ?? 1);
  }
  process.exit(0);
}
const CLOSE = MODE === "close";

interface Sample {
  rss: number;
  heap: number;
  threads: number;
  fds: number;
}

async function sample(): Promise<Sample> {
  // Native memory that a finalizer frees shows only after its JS wrapper is collected and the finalizer has run.
  for (let i = 0; i < 3; i++) {
    gc!();
    await sleep(20);
  }
  const mem = process.memoryUsage();
  return {
    rss: mem.rss / MB,
    heap: mem.heapUsed / MB,
    threads: readdirSync("/proc/self/task").length,
    fds: readdirSync("/proc/self/fd").length,
  };
}

/** This process's threads by name, the most common first. */
function threadNames(): string {
  const names = new Map<string, number>();
  for (const t of readdirSync("/proc/self/task")) {
    const name = readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim();
    names.set(name, (names.get(name) ?? 0) + 1);
  }
  return [...names]
    .sort((a, b) => b[1] - a[1])
    .map(([n, c]) => `${n} ${c}`)
    .join(", ");
}

const line = (s: Sample) =>
  `RSS ${fmt(s.rss)} MB  heap ${fmt(s.heap, 6)} MB  threads ${String(s.threads).padStart(4)}  fds ${String(s.fds).padStart(5)}`;

const hasClose = typeof (Client.prototype as { close?: unknown }).close === "function";
const sdk = JSON.parse(readFileSync(new URL(import.meta.resolve("@xmtp/node-sdk/package.json")), "utf8")) as {
  version: string;
};
if (CLOSE && !hasClose) throw new Error(`@xmtp/node-sdk ${sdk.version} has no Client.close`);

const dbUrl = await createTestDatabase("xmtp_clients");
const node = await startServiceProcess("services/xmtp-devnode/src/main.ts", {
  env: { DATABASE_URL: dbUrl, ...NODE_WITHOUT_RATE_LIMITS },
  readyPrefix: "XMTP devnode:",
  timeoutMs: 30_000,
});
const dir = await mkdtemp(join(tmpdir(), "xmtp-clients-"));
try {
  const label = CLOSE ? "closed" : "dropped";
  const newClient = (name: string) =>
    createXmtpClient(privateKeyToAccount(generatePrivateKey()), {
      apiUrl: node.url,
      dbPath: join(dir, `${name}.db3`),
      dbEncryptionKey: randomBytes(32),
    });
  // One client first, so that the SDK's one-time allocations are not counted.
  const warm = await newClient("warm");
  if (CLOSE) await warm.close();
  await sleep(SETTLE_MS);
  const start = await sample();
  process.stdout.write(
    `@xmtp/node-sdk ${sdk.version}, clients ${label}: ${ROUNDS} rounds of ${COUNT}, ${SETTLE_MS / 1000} s pause after each\n`,
  );
  process.stdout.write(`${label}: start            ${line(start)}\n`);
  let created = 0;
  let first = start;
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = Date.now();
    for (let i = 0; i < COUNT; i++) {
      const client = await newClient(`c${++created}`);
      // What an instance does with its client: sync, then a stream that it ends.
      await client.conversations.sync();
      const stream = await client.conversations.streamAllMessages();
      await stream.end();
      if (CLOSE) await client.close();
    }
    const secs = (Date.now() - t0) / 1000;
    const peak = await sample();
    await sleep(SETTLE_MS);
    const settled = await sample();
    process.stdout.write(
      `${label}: round ${round}, ${String(created).padStart(4)} clients (${(COUNT / secs).toFixed(1)}/s): at once ${line(peak)}\n`,
    );
    process.stdout.write(`${label}:                   after the pause ${line(settled)}\n`);
    if (round === 1) first = settled;
    if (round === ROUNDS) {
      const n = created - COUNT;
      const per = (f: (s: Sample) => number) => (f(settled) - f(first)) / n;
      process.stdout.write(
        `${label}: growth per client after round 1: ${fmt(
          per((s) => s.rss),
          0,
        )} MB RSS, ${fmt(per((s) => s.heap) * 1024, 0)} KB heap, ` +
          `${per((s) => s.threads).toFixed(2)} threads, ${per((s) => s.fds).toFixed(2)} fds; from the start: ${fmt((settled.rss - start.rss) / created, 0)} MB RSS per client\n`,
      );
      process.stdout.write(`${label}: threads by name: ${threadNames()}\n`);
    }
  }
} finally {
  await node.stop();
  await rm(dir, { recursive: true, force: true });
}
// Dropped clients keep their native workers: the benchmark is over whatever they hold (the other benchmarks end so too).
process.exit(0);
