// The learned limit alone: pure, latencies and counts made up by the tests
// (fast-check draws them), no clock and no server.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GRADIENT_DEFAULTS, GradientLimit } from "./limit.js";

let clock = 0;

/** `windows` windows of answers at `ms`, each with `inFlight` running beside it, a window's time apart. */
function feed(limit: GradientLimit, windows: number, ms: number, inFlight = limit.limit): void {
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < GRADIENT_DEFAULTS.window; i++) limit.observe(ms, inFlight, clock);
    clock += GRADIENT_DEFAULTS.windowMs;
  }
}

describe("GradientLimit", () => {
  it("stays within its bounds whatever latencies and counts it is fed", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1e5, noNaN: true }),
            fc.integer({ min: 0, max: 5000 }),
            fc.integer({ min: 0, max: 1000 }),
          ),
          { maxLength: 400 },
        ),
        (samples) => {
          const limit = new GradientLimit({ min: 4, max: 200 });
          let now = 0;
          for (const [ms, inFlight, gap] of samples) {
            now += gap;
            limit.observe(ms, inFlight, now);
            expect(limit.limit).toBeGreaterThanOrEqual(4);
            expect(limit.limit).toBeLessThanOrEqual(200);
          }
        },
      ),
    );
  });

  it("grows while latency holds and the limit is filled", () => {
    const limit = new GradientLimit();
    feed(limit, 30, 10, 1000);
    expect(limit.limit).toBeGreaterThan(GRADIENT_DEFAULTS.initial * 2);
  });

  it("does not grow while less than half of it is used", () => {
    const limit = new GradientLimit();
    feed(limit, 30, 10, 5);
    expect(limit.limit).toBe(GRADIENT_DEFAULTS.initial);
  });

  it("shrinks when latency rises well past its long-run mean, and grows back when it comes down", () => {
    const limit = new GradientLimit();
    feed(limit, 20, 10);
    const learned = limit.limit;
    feed(limit, 10, 60);
    const shrunk = limit.limit;
    expect(shrunk).toBeLessThan(learned * 0.6);
    feed(limit, 30, 10);
    expect(limit.limit).toBeGreaterThan(shrunk);
  });

  it("keeps a rise within the tolerance from shrinking it", () => {
    const limit = new GradientLimit();
    feed(limit, 20, 10);
    const learned = limit.limit;
    feed(limit, 3, 14);
    expect(limit.limit).toBeGreaterThanOrEqual(learned);
  });

  it("moves once a window of enough answers and enough time, and ignores a latency that is not a number", () => {
    const limit = new GradientLimit();
    for (let i = 0; i < GRADIENT_DEFAULTS.window - 1; i++) limit.observe(10, 100, 0);
    limit.observe(Number.NaN, 100, 0);
    expect(limit.latencyMs).toBe(0);
    // Ten answers, but within the window's time: the window stays open.
    limit.observe(10, 100, GRADIENT_DEFAULTS.windowMs - 1);
    expect(limit.latencyMs).toBe(0);
    limit.observe(20, 100, GRADIENT_DEFAULTS.windowMs);
    expect(limit.latencyMs).toBeCloseTo(120 / 11, 9);
  });
});
