import { describe, expect, it } from "vitest";
import { asTheySettle, forEachLimited } from "./concurrency.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

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

describe("asTheySettle", () => {
  it("yields each value as it settles, the first settled first, and ends after the last", async () => {
    const [a, b, c] = [deferred<string>(), deferred<string>(), deferred<string>()];
    const stream = asTheySettle([a.promise, b.promise, c.promise]);
    const first = stream.next();
    c.resolve("c");
    expect(await first).toEqual({ value: "c", done: false });
    a.resolve("a");
    await tick();
    b.resolve("b");
    const rest: string[] = [];
    for await (const value of stream) rest.push(value);
    expect(rest).toEqual(["a", "b"]);
  });

  it("ends with the error of an outcome that rejects", async () => {
    const [a, b] = [deferred<string>(), deferred<string>()];
    const stream = asTheySettle([a.promise, b.promise]);
    a.resolve("a");
    expect(await stream.next()).toEqual({ value: "a", done: false });
    b.reject(new Error("b failed"));
    await expect(stream.next()).rejects.toThrow("b failed");
  });

  it("ends at once for no outcomes", async () => {
    expect(await asTheySettle([]).next()).toEqual({ value: undefined, done: true });
  });
});
