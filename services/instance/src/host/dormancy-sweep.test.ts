// The dormancy sweep's pace: it puts several quiet agents to sleep at once
// (a sleep waits on the XMTP node), never more than SWEEP_CONCURRENCY, and
// asks no further agent once stopped.
import { describe, expect, it } from "vitest";
import { createLogger } from "@convos-pool/kit/server";
import { DormancySweep, SWEEP_CONCURRENCY } from "./group-watch.js";

const log = createLogger("dormancy-sweep-test", { level: "silent" });

/** Agents whose sleep takes `ms`; counts how many sleep at once. */
function sleepers(count: number, ms: number) {
  const seen = { asked: 0, inFlight: 0, most: 0 };
  const agents = Array.from({ length: count }, () => ({
    async sleepIfQuiet(): Promise<boolean> {
      seen.asked++;
      seen.most = Math.max(seen.most, ++seen.inFlight);
      await new Promise((r) => setTimeout(r, ms));
      seen.inFlight--;
      return true;
    },
  }));
  return { agents, seen };
}

describe("DormancySweep", () => {
  it("puts SWEEP_CONCURRENCY agents to sleep at once, and every quiet agent in one pass", async () => {
    const { agents, seen } = sleepers(SWEEP_CONCURRENCY * 3, 20);
    const sweep = new DormancySweep(60_000, () => agents, log);
    const started = performance.now();
    await sweep.sweep();
    expect(seen.asked).toBe(agents.length);
    expect(seen.most).toBe(SWEEP_CONCURRENCY);
    // Three rounds of 20 ms, not 24 sleeps one after the other (480 ms).
    expect(performance.now() - started).toBeLessThan(20 * agents.length);
  });

  it("asks no further agent once stopped", async () => {
    // Each sleep waits until the test lets it end: the stop comes while the first round sleeps, however busy the machine.
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    const seen = { asked: 0 };
    const agents = Array.from({ length: SWEEP_CONCURRENCY * 4 }, () => ({
      async sleepIfQuiet(): Promise<boolean> {
        seen.asked++;
        await woken;
        return true;
      },
    }));
    const sweep = new DormancySweep(60_000, () => agents, log);
    const pass = sweep.sweep();
    await expect.poll(() => seen.asked).toBe(SWEEP_CONCURRENCY);
    const stopped = sweep.stop();
    wake();
    await stopped;
    await pass;
    expect(seen.asked).toBe(SWEEP_CONCURRENCY);
  });
});
