// Every benchmark still runs: each in its quick mode (BENCH_QUICK=1, small
// sizes, seconds), in its own process as `npm run bench:*` runs it, to its
// end, printing its figures, and leaving no process it started behind, also
// when it is stopped midway. How fast is not checked here: the full runs
// measure that (docs/performance/); a quick run's figures mean nothing.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { waitFor } from "@convos-pool/testing/wait";

const number = String.raw`-?\d+(?:\.\d+)?`;
const BENCHMARKS: Record<string, RegExp[]> = {
  "bench/templates.ts": [
    new RegExp(`store search \\(service, gRPC\\)\\s+${number}\\s+${number}`),
    new RegExp(`ratio service / bare SQL\\s+${number}`),
    /signed creates: \d+ per second/,
  ],
  "bench/xmtp.ts": [new RegExp(`ratio SDK / node alone \\(stream\\)\\s+${number}`), /node RPCs per SDK message: /],
  "bench/xmtp-clients.ts": [
    new RegExp(`dropped: growth per client after round 1: ${number} MB RSS`),
    new RegExp(`closed: growth per client after round 1: ${number} MB RSS`),
  ],
  "bench/instances.ts": [new RegExp(`per idle instance: ${number} MB RSS`)],
  "bench/live-agents.ts": [
    new RegExp(`claimed, awake\\s+${number} MB`),
    new RegExp(`wake to answer, \\d+ dormant agents one at a time: p50\\s+${number} ms`),
  ],
  "bench/claims.ts": [
    new RegExp(`claims/s service / bare statement\\s+${number}`),
    new RegExp(`claim without join at 200/s, first ${number} s\\s+${number}\\s+${number}`),
    new RegExp(`claim with XMTP join \\(2, 10 concurrent\\)\\s+${number}`),
  ],
  "bench/promotion.ts": [
    new RegExp(`Node's HTTP/2, bare\\s+${number}\\s+${number}`),
    new RegExp(`Connect over HTTP/1.1, client alone\\s+${number}`),
  ],
  "bench/sync.ts": [
    new RegExp(`N = 20: ratio per host / per agent\\s+${number}`),
    new RegExp(`N = 20: ratio per host / bare\\s+${number}`),
  ],
  "bench/clone.ts": [new RegExp(`clone / plain claim with join \\(p50\\)\\s+${number}`)],
  "bench/soak.ts": [
    new RegExp(`^search\\s+\\d+\\s+0\\s+${number}`, "m"),
    new RegExp(`second-half growth: pool ${number} MB/min`),
    /^errors: 0$/m,
  ],
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  output: string;
}

/** Starts a benchmark, marked so that every process it starts can be found (they inherit its environment). */
function start(script: string, mark: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, BENCH_QUICK: "1", BENCH_MARK: mark, LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let output = "";
  child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
  child.stderr.on("data", (d: Buffer) => (output += d));
  const done = new Promise<Run>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stdout, output })),
  );
  return { child, done };
}

/** The processes still running whose environment carries the mark. */
function marked(mark: string, except?: number): number[] {
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
function listening(pids: number[]): boolean {
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

describe("every benchmark, quick", () => {
  for (const [script, figures] of Object.entries(BENCHMARKS)) {
    it(`${script} runs to its end, prints its figures and leaves no process behind`, { timeout: 240_000 }, async () => {
      const mark = randomUUID();
      const { child, done } = start(script, mark);
      // Stopped before the test's own timeout, so that a run that hangs says where (its output).
      const stopper = setTimeout(() => child.kill("SIGTERM"), 200_000);
      const run = await done.finally(() => clearTimeout(stopper));
      expect(run.signal ?? run.code, `${run.code === 143 ? "stopped after 200 s: " : ""}${run.output}`).toBe(0);
      for (const figure of figures) expect(run.stdout, run.output).toMatch(figure);
      await waitFor("every process it started gone", () => marked(mark).length === 0, 5_000, 100);
    });
  }

  it("bench/claims.ts with BENCH_HEAP_PROFILE writes the claims service's heap profile and prints its sources", {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "heap-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "claims.heapprofile");
    const { done } = start("bench/claims.ts", randomUUID(), { BENCH_CLAIMS_JOIN: "0", BENCH_HEAP_PROFILE: file });
    const run = await done;
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `filled its old generation with \\(sampled\\) ${number} KB a claim: RPC \\(HTTP/2, Connect\\) ${number} KB`,
      ),
    );
    const profile = JSON.parse(readFileSync(file, "utf8")) as { head: { children: unknown[] } };
    expect(profile.head.children.length).toBeGreaterThan(0);
  });

  it("a benchmark stopped midway stops every process it started", { timeout: 120_000 }, async () => {
    const mark = randomUUID();
    // A large store, so that it is still loading it, its templates service up (listening) and quiet, when it is stopped.
    const { child, done } = start("bench/templates.ts", mark, { BENCH_TEMPLATES: "200000" });
    await waitFor("the templates service listening", () => listening(marked(mark, child.pid)), 60_000, 100);
    const service = marked(mark, child.pid);
    expect(service.length).toBeGreaterThan(0);
    child.kill("SIGTERM");
    const run = await done;
    expect(run.code, run.output).toBe(143);
    await waitFor("every process it started gone", () => marked(mark).length === 0, 5_000, 100);
  });
});
