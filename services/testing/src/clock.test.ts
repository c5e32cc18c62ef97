// TestClock alone: real timers underneath, nothing stood in for.
import { describe, expect, it } from "vitest";
import { TestClock } from "./clock.js";

describe("a test clock", () => {
  it("fires the waits an advance makes due, earliest first, and no other", () => {
    const clock = new TestClock();
    const fired: string[] = [];
    clock.after(60_000, () => fired.push("a minute"));
    clock.after(1_000, () => fired.push("a second"));
    clock.after(3_600_000, () => fired.push("an hour"));
    const start = clock.now();
    clock.advance(60_000);
    expect(fired).toEqual(["a second", "a minute"]);
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000);
    expect(clock.pending).toBe(1);
    clock.advance(3_600_000);
    expect(fired).toEqual(["a second", "a minute", "an hour"]);
    expect(clock.pending).toBe(0);
  });

  it("fires nothing cancelled, and fires each wait once", async () => {
    const clock = new TestClock();
    let fired = 0;
    const cancel = clock.after(10, () => fired++);
    cancel();
    clock.after(10, () => fired++);
    clock.advance(10);
    // The real timer under the fired wait is gone too.
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(1);
  });

  it("runs with the machine's time when not advanced", async () => {
    const clock = new TestClock();
    const fired = new Promise<number>((r) => clock.after(20, () => r(clock.now())));
    const at = clock.now();
    expect(await fired).toBeGreaterThanOrEqual(at + 20 - 2);
  });
});
