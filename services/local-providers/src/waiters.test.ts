// Waiters alone, in memory: real timers, no server.
import { describe, expect, it } from "vitest";
import { Waiters } from "./waiters.js";

const errors = { timedOut: "too late", closed: "closed" };

describe("Waiters", () => {
  it("hands an offered item to each waiter that accepts it, and not to one that does not", async () => {
    const waiters = new Waiters<number>();
    const even = waiters.wait((n) => n % 2 === 0, 1_000, errors);
    const any = waiters.wait(() => true, 1_000, errors);
    waiters.offer(3);
    waiters.offer(4);
    expect(await any).toBe(3);
    expect(await even).toBe(4);
  });

  it("rejects a waiter with its own message once its time runs out, and forgets it", async () => {
    const waiters = new Waiters<number>();
    await expect(waiters.wait(() => true, 10, errors)).rejects.toThrow("too late");
    waiters.offer(1);
  });

  it("rejects every waiter still waiting when closed", async () => {
    const waiters = new Waiters<number>();
    const a = waiters.wait(() => true, 1_000, { timedOut: "late", closed: "closed before a" });
    const b = waiters.wait(() => true, 1_000, { timedOut: "late", closed: "closed before b" });
    waiters.close();
    await expect(a).rejects.toThrow("closed before a");
    await expect(b).rejects.toThrow("closed before b");
  });
});
