// What the benchmarks' tests share (`bench/*.system.test.ts`): a benchmark run in
// its quick mode (BENCH_QUICK=1, small sizes, seconds) in its own process, as
// `npm run bench:*` runs it, and the processes it started, found by a mark in
// their environment. How fast is not checked: the full runs measure that
// (docs/performance/); a quick run's figures mean nothing.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { expect, it } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";

/** A figure as the benchmarks print them. */
export const number = String.raw`-?\d+(?:\.\d+)?`;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  output: string;
}

/** Starts a benchmark, marked so that every process it starts can be found (they inherit its environment). */
export function start(script: string, mark: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, BENCH_QUICK: "1", BENCH_MARK: mark, LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const done = new Promise<Run>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stdout, output })),
  );
  return { child, done };
}

/** The processes still running whose environment carries the mark. */
export function marked(mark: string, except?: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === except) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`BENCH_MARK=${mark}`)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** True when one of `pids` has a listening TCP socket (Linux /proc: its descriptors' inodes, the table's state 0A). */
export function listening(pids: number[]): boolean {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const link = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (link) inodes.add(link[1]!);
      }
    } catch {
      // gone meanwhile, or a descriptor closed while read
    }
  }
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const row of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols[3] === "0A" && inodes.has(cols[9]!)) return true;
    }
  }
  return false;
}

/** The test that `script` runs to its end in quick mode (with `env`), prints `figures` and leaves no process behind. */
export function runsToItsEnd(script: string, figures: RegExp[], env: Record<string, string> = {}): void {
  const named = Object.entries(env)
    .map(([k, v]) => `${k}=${v} `)
    .join("");
  it(`${named}${script} runs to its end, prints its figures and leaves no process behind`, {
    timeout: 240_000,
  }, async () => {
    const mark = randomUUID();
    const { child, done } = start(script, mark, env);
    // Stopped before the test's own timeout, so that a run that hangs says where (its output).
    const stopper = setTimeout(() => child.kill("SIGTERM"), 200_000);
    const run = await done.finally(() => clearTimeout(stopper));
    expect(run.signal ?? run.code, `${run.code === 143 ? "stopped after 200 s: " : ""}${run.output}`).toBe(0);
    for (const figure of figures) expect(run.stdout, run.output).toMatch(figure);
    await waitFor("every process it started gone", () => marked(mark).length === 0, 5_000, 100);
  });
}
