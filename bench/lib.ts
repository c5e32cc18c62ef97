// What every benchmark here needs: percentiles, formatting, a free port, a
// service in its own process; and the claims benchmarks' set-up (a public
// template, idle rows on the stand-in host).
import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";
import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { Visibility } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { TemplateService } from "@convos-pool/gen/convos/pool/v1/template_service_pb.js";
import type { StandInHost } from "@convos-pool/claims/testing/stand-in-host";
import { contentFromJson, contentToJson, jsonHash } from "@convos-pool/kit/content";
import { createServiceClient, freePort, type ServiceCredentials } from "@convos-pool/kit/server";
import { signOperation } from "@convos-pool/kit/signing";
import { sampleContent, type TestIdentity } from "@convos-pool/kit/testing";
import { startServiceProcess, type ServiceProcess } from "@convos-pool/testing";

export interface Figures {
  p50: number;
  p99: number;
  mean: number;
}

/** p50, p99 (nearest rank) and mean of a series of milliseconds. */
export function figures(ms: number[]): Figures {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { p50: at(50), p99: at(99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const fmt = (x: number, width = 8) => x.toFixed(2).padStart(width);

// ---------------------------------------------------------------- sizes

/**
 * `BENCH_QUICK=1`: every benchmark at small sizes, in seconds. `npm test`
 * runs them so (bench/*.system.test.ts), to know that each still runs to its
 * end and prints its figures; the figures of a quick run mean nothing.
 */
export const QUICK = process.env.BENCH_QUICK === "1";

/** A size: `variable` when set, else the full run's default or the quick one. */
export function size(variable: string, full: number, quick: number): number {
  const value = process.env[variable];
  if (value === undefined || value === "") return QUICK ? quick : full;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${variable} must be a whole number above 0, not "${value}"`);
  return n;
}

// Stopped by a signal (Ctrl-C, a timeout), a benchmark exits through
// process.exit, so the processes it started go with it (kit/testing processes.ts).
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)
  process.once(signal, () => process.exit(code));

export { freePort };

/**
 * Runs each closing step in turn, none waited on for more than `ms`: a step that hangs (a client's close on a
 * loaded machine) is named on stderr and left behind, and the benchmark's process.exit ends it.
 */
export async function closeAll(steps: readonly (readonly [string, () => unknown])[], ms = 15_000): Promise<void> {
  for (const [what, step] of steps) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
    const ended = Promise.resolve()
      .then(step)
      .then(
        () => "done" as const,
        () => "done" as const,
      );
    if ((await Promise.race([ended, late])) === "late")
      process.stderr.write(`closing ${what} did not finish within ${ms / 1000} s; going on\n`);
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- child processes

export type Child = ServiceProcess;

/**
 * A service's main.ts in its own Node process; ready when its stdout prints
 * `readyPrefix`, or (without one) when it answers the gRPC health check. Its
 * error lines are echoed, prefixed with its service. `nodeArgs`: Node's
 * flags, as deploy/ runs the service.
 */
export function startChild(
  script: string,
  env: Record<string, string>,
  opts: { readyPrefix?: string; nodeArgs?: readonly string[] } = {},
): Promise<Child> {
  return startServiceProcess(script, {
    env,
    ...opts,
    onLine: (line) => {
      if (line.includes('"level":"error"') && !line.includes("sqlcipherCodecAttach"))
        process.stderr.write(`[${script.split("/")[1]}] ${line}\n`);
    },
  });
}

/**
 * The local XMTP node's environment for a benchmark: the network's rate
 * limits off. The node counts calls by caller address, as the network does
 * (docs/xmtp-devnode.md, "Rate limits"), and a benchmark's senders, which
 * stand for people on their own devices, call from the same 127.0.0.1 as
 * the host: counted together they would measure the limit, not the pool.
 */
export const NODE_WITHOUT_RATE_LIMITS = { XMTP_WRITES_PER_5MIN: "0", XMTP_READS_PER_5MIN: "0" } as const;

// ---------------------------------------------------------------- a process's footprint

export interface ProcessStatus {
  rssMb: number;
  threads: number;
  fds: number;
}

/** A process's resident memory, threads and open descriptors now (Linux /proc). */
export function procStatus(pid: number): ProcessStatus {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  const threads = Number(/Threads:\s+(\d+)/.exec(status)![1]);
  return { rssMb: kb / 1024, threads, fds: readdirSync(`/proc/${pid}/fd`).length };
}

const SETTLE_MS = QUICK ? 200 : 4_000;
const SAMPLE_MS = QUICK ? 50 : 1_000;

/** The median of five samples a second apart, after letting the process settle (RSS; threads and descriptors: the last). */
export async function settledStatus(pid: number): Promise<ProcessStatus> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(procStatus(pid));
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
  return { rssMb: median(samples.map((s) => s.rssMb)), threads: samples.at(-1)!.threads, fds: samples.at(-1)!.fds };
}

// ---------------------------------------------------------------- what fills a process's old generation

interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapProfileNode[];
}

/** A V8 sampling heap profile (a .heapprofile file opens in Chrome DevTools' Memory tab). */
export interface HeapProfile {
  head: HeapProfileNode;
}

/**
 * V8's sampling heap profiler in a child started with Node's
 * `--inspect=127.0.0.1:0`, over the DevTools protocol. By default it keeps
 * the samples of objects that outlived the young generation (collected by a
 * full GC, or live at the end): what fills the old generation and so brings
 * the full GCs. `all`: every allocation, the scavenger's garbage included.
 */
export async function sampleHeap(child: Child, all = false): Promise<{ stop(): Promise<HeapProfile> }> {
  const url = child.lines.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
  if (!url) throw new Error("the child was not started with --inspect");
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", reject);
  });
  const answers = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (m) => {
    const { id, result } = JSON.parse(String(m.data)) as { id?: number; result?: unknown };
    if (id !== undefined) answers.get(id)?.(result);
  });
  let next = 0;
  const send = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = ++next;
      answers.set(id, resolve as (r: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("HeapProfiler.enable");
  await send("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: all,
  });
  return {
    async stop() {
      const { profile } = await send<{ profile: HeapProfile }>("HeapProfiler.stopSampling");
      ws.close();
      return profile;
    },
  };
}

/** Where a heap profile's bytes were allocated: each sample counted to its nearest frame (itself or a caller) of one of these. */
const SOURCES: [string, RegExp][] = [
  [
    "RPC (HTTP/2, Connect)",
    /^node:internal\/(http2|streams|abort_controller|event_target|deps\/undici|stream_base_commons)\/?|@connectrpc\//,
  ],
  ["database (pg, Kysely, MikroORM)", /node_modules\/(pg|pg-protocol|pg-pool|kysely|@mikro-orm\/[a-z]+)\//],
  ["the services' own code", /\/services\//],
];

/** A heap profile's bytes in all, and by the sources above ("other" for the rest). */
export function heapBySource(profile: HeapProfile): { total: number; bySource: Map<string, number> } {
  const bySource = new Map<string, number>([...SOURCES.map(([name]) => [name, 0] as [string, number]), ["other", 0]]);
  let total = 0;
  const walk = (node: HeapProfileNode, source: string) => {
    const here = SOURCES.find(([, re]) => re.test(node.callFrame.url))?.[0] ?? source;
    total += node.selfSize;
    bySource.set(here, bySource.get(here)! + node.selfSize);
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, "other");
  return { total, bySource };
}

// ---------------------------------------------------------------- the claims benchmarks' set-up

/**
 * A public template of `creator`'s made through the templates service at
 * `templatesUrl` as the gateway (`gateway`: its credentials): no pool tools
 * (the local email provider's scrypt alone would dominate a claim) and no
 * required user value. Its id.
 */
export async function publicTemplate(
  templatesUrl: string,
  creator: TestIdentity,
  gateway: ServiceCredentials,
): Promise<string> {
  const sc = createServiceClient(TemplateService, templatesUrl, gateway);
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

/**
 * `count` idle instances on the stand-in host: rows inserted straight into
 * the claims service's database (ids `inst_<prefix>…`), the host told it
 * runs them, the table analyzed so the claim query plans on its real size.
 */
export async function seedIdleInstances(sql: pg.Client, standIn: StandInHost, prefix: string, count: number) {
  const { rows } = await sql.query<{ id: string; wallet_index: number; inbox_id: string }>(
    `insert into instances (id, state, host_url, inbox_id)
     select 'inst_' || $3 || lpad(g::text, 15, '0'), 'idle', $1, md5('a' || g::text) || md5('b' || g::text)
     from generate_series(1, $2::int) as g
     returning id, wallet_index, inbox_id`,
    [standIn.url, count, prefix],
  );
  for (const r of rows)
    standIn.instances.set(r.id, {
      id: r.id,
      walletIndex: Number(r.wallet_index),
      inboxId: r.inbox_id,
      state: InstanceState.IDLE,
      releases: 0,
    });
  await sql.query("vacuum analyze instances");
}
