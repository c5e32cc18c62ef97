// What every benchmark here needs: percentiles, formatting, a free port, a service in its own process.
import { freePort } from "@convos-pool/kit";
import { startServiceProcess, type ServiceProcess } from "@convos-pool/kit/testing";

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

// ---------------------------------------------------------------- child processes

export type Child = ServiceProcess;

/**
 * A service's main.ts in its own Node process; ready when its stdout prints
 * `readyPrefix`, or (without one) when it answers the gRPC health check. Its
 * error lines are echoed, prefixed with its service.
 */
export function startChild(script: string, env: Record<string, string>, readyPrefix?: string): Promise<Child> {
  return startServiceProcess(script, {
    env,
    ...(readyPrefix ? { readyPrefix } : {}),
    onLine: (line) => {
      if (line.includes('"level":"error"') && !line.includes("sqlcipherCodecAttach")) process.stderr.write(`[${script.split("/")[1]}] ${line}\n`);
    },
  });
}
