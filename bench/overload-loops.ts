// The overload benchmark's two loads (bench/overload.ts, overload-rest.ts):
// a closed loop, whose pace is the answers' (its rate is a capacity), and an
// open loop, whose calls start on their schedule whatever the answers' pace,
// each latency counted from its schedule (no coordinated omission). A job
// answers its outcome's code ("ok", else the failure's name) and never throws.
import { performance } from "node:perf_hooks";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Outcome } from "./overload-report.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job's outcome: "ok", or its code ("Throttled": refused by the kit client's own throttle before sending). */
export type Job = () => Promise<string>;

/** The first message of each failure code, for the report. */
export const said = new Map<string, string>();

/** The code of a failed RPC, its first message kept in `said`. */
export function rpcCode(err: unknown): string {
  const e = ConnectError.from(err);
  // A refusal of the kit client's own throttle (overload/throttle.ts) never reached the service.
  const code = e.rawMessage.includes("this client's throttle") ? "Throttled" : (Code[e.code] ?? "Unknown");
  if (!said.has(code)) said.set(code, e.rawMessage.slice(0, 200));
  return code;
}

/** Runs `n` jobs with `concurrency` in flight: the jobs done a second, and how many failed (a deadline on a busy machine). */
export async function closedLoop(
  n: number,
  concurrency: number,
  job: Job,
): Promise<{ perSecond: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next++ < n) if ((await job()) !== "ok") failed++;
    }),
  );
  return { perSecond: (n - failed) / ((performance.now() - t0) / 1000), failed };
}

/** `rate` jobs a second for `seconds`, each on its schedule; each outcome with its latency from its schedule. The job is given its index. */
export async function openLoop(
  rate: number,
  seconds: number,
  job: (i: number) => Promise<string>,
): Promise<(Outcome & { i: number })[]> {
  const n = Math.round(rate * seconds);
  const t0 = performance.now() + 20;
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const at = t0 + (i * 1000) / rate;
      await sleep(Math.max(0, at - performance.now()));
      // This process's own lateness: a late start counts against the service, and is reported apart.
      const lateMs = Math.max(0, performance.now() - at);
      const code = await job(i);
      return { i, ms: performance.now() - at, lateMs, code };
    }),
  );
}

/** A process's /metrics, read with the test token. */
export async function scrape(url: string, token: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
}

/** The samples of a /metrics text whose line starts with `name` and has each of `having`, the service label left out. */
export function samples(text: string, name: string, ...having: string[]): string {
  const lines = text.split("\n").filter((l) => l.startsWith(name) && having.every((h) => l.includes(h)));
  return lines.map((l) => l.replace(/\{[^}]*pool_service="[^"]*",?/, "{").replace("{}", "")).join("; ") || "none";
}

/** The first sample of `name` as a number (NaN when absent). */
export function sampleValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name) && !l.startsWith("#"));
  return line ? Number(line.trim().split(/\s+/).at(-1)) : Number.NaN;
}

/**
 * What a service's process did over a level, from two scrapes: its CPU
 * (share of one core) and its event loop's p99 delay (prom-client resets
 * that histogram at each scrape, so the second scrape's is the level's):
 * the wait a call has before any admission in the process sees it.
 */
export function processLoad(before: string, after: string, seconds: number): string {
  const cpu =
    (sampleValue(after, "process_cpu_seconds_total") - sampleValue(before, "process_cpu_seconds_total")) / seconds;
  const lag = sampleValue(after, "nodejs_eventloop_lag_p99_seconds") * 1000;
  return `CPU ${(cpu * 100).toFixed(0)}% of a core, event loop delay p99 ${lag.toFixed(0)} ms`;
}

/**
 * How many `method` RPCs a service answered between two scrapes and their
 * mean time in the service (ms), from its pool_rpc_duration_seconds (all
 * codes): the time a call spent inside that process, from the interceptor's
 * start to its answer.
 */
export function rpcTime(before: string, after: string, method: string): { count: number; meanMs: number } {
  const total = (text: string, series: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`pool_rpc_duration_seconds_${series}{`) && l.includes(`method="${method}"`))
      .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).at(-1)), 0);
  const count = total(after, "count") - total(before, "count");
  const seconds = total(after, "sum") - total(before, "sum");
  return { count, meanMs: count > 0 ? (seconds / count) * 1000 : Number.NaN };
}
