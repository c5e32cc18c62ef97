import { describe, expect, it } from "vitest";
import { forEachLimited } from "./concurrency.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("forEachLimited", () => {
  it("runs every item once, never more than the limit at once, taking them in order", async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await forEachLimited([0, 1, 2, 3, 4, 5, 6], 3, async (item, index) => {
      expect(index).toBe(item);
      started.push(item);
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it("starts nothing after a job throws, lets the running ones finish, then throws the first error", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachLimited([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error("item 1 failed");
      if (item === 2) throw new Error("item 2 failed");
      finished.push(item);
    });
    await expect(run).rejects.toThrow("item 1 failed");
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([0]);
  });

  it("does nothing for no items or a limit of zero", async () => {
    let calls = 0;
    await forEachLimited([], 4, async () => void calls++);
    await forEachLimited([1, 2], 0, async () => void calls++);
    expect(calls).toBe(0);
  });
});
