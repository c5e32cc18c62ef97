// What every benchmark here needs: percentiles, formatting, a free port, a service in its own process.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { freePort } from "@convos-pool/kit";

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

export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- child processes

export interface Child {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A service's main.ts in its own Node process; ready when its stdout prints
 * `readyPrefix`, or (without one) when it answers the gRPC health check.
 */
export async function startChild(script: string, env: Record<string, string>, readyPrefix?: string): Promise<Child> {
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, LOG_LEVEL: "error", PORT: String(port), HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: proc.stderr! }).on("line", (line) => {
    if (!line.includes("sqlcipherCodecAttach")) process.stderr.write(`[${script.split("/")[1]}] ${line}\n`);
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s`)), 60_000);
    proc.once("exit", (code) => reject(new Error(`${script} exited (${code})`)));
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (readyPrefix && line.startsWith(readyPrefix)) done();
    });
    if (!readyPrefix) {
      void (async () => {
        for (;;) {
          const up = await fetch(`${url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }).then(
            (r) => r.ok,
            () => false,
          );
          if (up) return done();
          await sleep(100);
        }
      })();
    }
  });
  await ready;
  return {
    url,
    pid: proc.pid!,
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}
