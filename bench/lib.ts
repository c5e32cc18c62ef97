// What every benchmark here needs: percentiles, formatting, a free port.
import { createServer } from "node:net";

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

/** A port nobody listens on right now, for a service started in a child process. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
