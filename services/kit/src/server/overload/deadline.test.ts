// A call's deadline in this process (deadline.ts), pure: what the call's own
// work carries, and what the work it leaves behind carries once answered.
import { describe, expect, it } from "vitest";
import { remainingMs, runWithDeadline } from "./deadline.js";

describe("a call's deadline", () => {
  it("is carried by the call's own work while it runs, awaited or not", async () => {
    let now = 0;
    const left = await runWithDeadline(
      1_000,
      async () => {
        now = 400;
        await Promise.resolve();
        return remainingMs();
      },
      () => now,
    );
    expect(left).toBe(600);
  });

  it("is not carried by a timer the call set once the call is answered: later work is no caller's", async () => {
    let now = 0;
    let later: Promise<number | undefined> | undefined;
    await runWithDeadline(
      1_000,
      async () => {
        // A batch scheduled by the first call that marks it (a state to send, a count to report).
        later = new Promise((r) => setTimeout(() => r(remainingMs()), 20));
        expect(remainingMs()).toBe(1_000);
      },
      () => now,
    );
    now = 5_000;
    expect(await later).toBeUndefined();
  });

  it("ends with a call that fails as with one that succeeds", async () => {
    let timer: Promise<number | undefined> | undefined;
    await expect(
      runWithDeadline(
        1_000,
        async () => {
          timer = new Promise((r) => setTimeout(() => r(remainingMs()), 20));
          throw new Error("refused");
        },
        () => 0,
      ),
    ).rejects.toThrow("refused");
    expect(await timer).toBeUndefined();
  });
});
