// A call's deadline and criticality in this process (deadline.ts), pure:
// what the call's own work carries, what the work it leaves behind carries
// once answered, and the criticality header its outgoing calls take.
import { describe, expect, it } from "vitest";
import {
  callCriticality,
  type OutgoingHeader,
  outgoingHeader,
  remainingMs,
  runAsCall,
  runWithDeadline,
  withoutDeadline,
} from "./deadline.js";

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

describe("a call's criticality", () => {
  it("is carried by the call's own work, with or without a deadline, and by no batch run as no caller's", async () => {
    const seen = await runAsCall({ criticality: "sheddable" }, async () => {
      await Promise.resolve();
      return [callCriticality(), remainingMs(), withoutDeadline(() => callCriticality())];
    });
    expect(seen).toEqual(["sheddable", undefined, undefined]);
    expect(callCriticality()).toBeUndefined();
  });

  it("goes on an outgoing call as the caller's, or as the call's own when that is lower", () => {
    const header = (own: OutgoingHeader, caller: "critical" | "default" | "sheddable" | undefined) =>
      new Headers(outgoingHeader(own, caller)).get("pool-criticality");
    expect(header(undefined, "sheddable")).toBe("sheddable");
    expect(header({ authorization: "x" }, "critical")).toBe("critical");
    // A handler may lower what it asks for, never raise it past its caller's.
    expect(header({ "pool-criticality": "sheddable" }, "critical")).toBe("sheddable");
    expect(header({ "pool-criticality": "critical" }, "sheddable")).toBe("sheddable");
    expect(header({ "pool-criticality": "nonsense" }, "default")).toBe("default");
    expect(header({ "pool-criticality": "sheddable" }, undefined)).toBe("sheddable");
    expect(header(undefined, undefined)).toBeNull();
  });
});
