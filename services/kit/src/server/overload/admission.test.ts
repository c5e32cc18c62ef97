// The admission's decisions on a test clock (test-clock.ts): no server, no
// timers of the process, no sleeping; the learned limit is real (limit.ts),
// its window shortened so a few answers teach it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADMISSION_DEFAULTS, Admission, type AdmissionOptions, type Refusal, type Ticket } from "./admission.js";
import { TestClock } from "./test-clock.js";

const SMALL = { limit: { initial: 10, min: 10, max: 10 } };

function started(v: Ticket | Refusal | Promise<Ticket | Refusal>): Ticket {
  if (v instanceof Promise || v.kind !== "start") throw new Error("expected a start at once");
  return v;
}

/** A limit of 10 filled by 10 tickets of `criticality`. */
function full(
  clock: TestClock,
  criticality: "critical" | "default" = "critical",
  options: Partial<AdmissionOptions> = {},
) {
  const admission = new Admission(clock, { ...SMALL, ...options });
  const tickets = Array.from({ length: 10 }, () => started(admission.enter(criticality)));
  return { admission, tickets };
}

describe("Admission", () => {
  it("starts calls at once while the limit is not reached", () => {
    const admission = new Admission(new TestClock(), SMALL);
    for (let i = 0; i < 9; i++) expect(started(admission.enter("default")).waitedMs).toBe(0);
    expect(admission.inFlight).toBe(9);
  });

  it("refuses a call whose deadline has passed without starting it", () => {
    const clock = new TestClock();
    clock.advance(100);
    const admission = new Admission(clock, SMALL);
    const v = admission.enter("critical", 100);
    expect(v).toMatchObject({ kind: "refuse", reason: "deadline" });
    expect(admission.inFlight).toBe(0);
  });

  it("refuses a sheddable call at once when its share is used, naming a delay of at least one latency", () => {
    const clock = new TestClock();
    const admission = new Admission(clock, SMALL);
    for (let i = 0; i < 7; i++) started(admission.enter("sheddable"));
    const v = admission.enter("sheddable");
    expect(v).toMatchObject({ kind: "refuse", reason: "overloaded", waitedMs: 0 });
    expect((v as Refusal).retryAfterMs).toBeGreaterThanOrEqual(50);
    // The rest of the limit is kept for the others.
    expect(started(admission.enter("default")).kind).toBe("start");
  });

  it("lets a waiting call start when a slot frees, and counts its wait", async () => {
    const clock = new TestClock();
    const { admission, tickets } = full(clock);
    const waiting = admission.enter("critical");
    expect(waiting).toBeInstanceOf(Promise);
    clock.advance(3);
    tickets[0]!.done();
    const v = await waiting;
    expect(v).toMatchObject({ kind: "start", waitedMs: 3 });
  });

  it("refuses a waiting call when its wait runs out, never later", async () => {
    const clock = new TestClock();
    // A short bound above its deadline's share: the share is what holds it.
    const { admission } = full(clock, "critical", { maxWaitMs: 100 });
    const waiting = admission.enter("critical", 40);
    expect(waiting).toBeInstanceOf(Promise);
    // Its wait is half of the 40 ms left of its deadline.
    clock.advance(20);
    expect(await waiting).toMatchObject({ kind: "refuse", reason: "overloaded", waitedMs: 20 });
    expect(admission.waiting("critical")).toBe(0);
  });

  it("refuses at once a call that could not start within its wait, however many are ahead", () => {
    const clock = new TestClock();
    const { admission } = full(clock, "critical", { maxWaitMs: 20 });
    // With 400 ms left, a default call waits at most the short bound (here 20 ms); 9 slots of 50 ms start 3 in that time.
    const queued = Array.from({ length: 3 }, () => admission.enter("default", 400));
    expect(queued.every((q) => q instanceof Promise)).toBe(true);
    expect(admission.enter("default", 400)).toMatchObject({ kind: "refuse", reason: "overloaded", waitedMs: 0 });
    // A call without a deadline may wait the longest wait, 1 s: 180 start in it.
    expect(admission.enter("default")).toBeInstanceOf(Promise);
  });

  it("holds a call that carries a deadline of seconds to the short bound of 5 ms, not to its deadline's share", async () => {
    expect(ADMISSION_DEFAULTS.maxWaitMs).toBe(5);
    const clock = new TestClock();
    const { admission } = full(clock, "critical", { unknownLatencyMs: 20 });
    // Half of 2 s left would be 1 s; the bound is 5 ms (a slot frees every 2 ms: it waits).
    const waiting = admission.enter("critical", 2000);
    clock.advance(ADMISSION_DEFAULTS.maxWaitMs - 1);
    expect(admission.waiting("critical")).toBe(1);
    clock.advance(1);
    expect(await waiting).toMatchObject({
      kind: "refuse",
      reason: "overloaded",
      waitedMs: ADMISSION_DEFAULTS.maxWaitMs,
    });
  });

  it("refuses at once, on a slow server, a call with a deadline of seconds whose expected wait passes the short bound", () => {
    const clock = new TestClock();
    // Answers of 500 ms on 10 slots: a slot frees every 50 ms, past the 5 ms bound.
    const admission = new Admission(clock, { ...SMALL, unknownLatencyMs: 500 });
    for (let i = 0; i < 10; i++) started(admission.enter("critical"));
    expect(admission.enter("critical", 2000)).toMatchObject({ kind: "refuse", reason: "overloaded", waitedMs: 0 });
  });

  it("lets a call without a deadline wait at most the longest wait, 1 s", async () => {
    expect(ADMISSION_DEFAULTS.untimedWaitMs).toBe(1000);
    const clock = new TestClock();
    const { admission } = full(clock);
    const waiting = admission.enter("default");
    clock.advance(999);
    expect(admission.waiting("default")).toBe(1);
    clock.advance(1);
    expect(await waiting).toMatchObject({ kind: "refuse", reason: "overloaded", waitedMs: 1000 });
  });

  it("starts the critical calls waiting before the others, each kind in order of arrival", async () => {
    const clock = new TestClock();
    const { tickets, admission } = full(clock);
    const order: string[] = [];
    const d1 = admission.enter("default");
    const c1 = admission.enter("critical");
    const c2 = admission.enter("critical");
    for (const [name, p] of [
      ["d1", d1],
      ["c1", c1],
      ["c2", c2],
    ] as const)
      void (p as Promise<Ticket | Refusal>).then((v) => order.push(`${name}:${v.kind}`));
    for (const t of tickets.slice(0, 4)) t.done();
    await Promise.resolve();
    await Promise.resolve();
    // Slots free one by one: c1, c2, then d1 once the default share (9 of 10) has room.
    expect(order).toEqual(["c1:start", "c2:start", "d1:start"]);
  });

  it("never runs more calls than the limit and never loses one, whatever arrives and ends", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constantFrom("critical", "default", "sheddable").map((c) => ({ arrive: c as "critical" })),
            fc.nat(9).map((i) => ({ end: i })),
            fc.integer({ min: 1, max: 200 }).map((ms) => ({ wait: ms })),
          ),
          { maxLength: 120 },
        ),
        async (steps) => {
          const clock = new TestClock();
          const admission = new Admission(clock, SMALL);
          const running: Ticket[] = [];
          let settled = 0;
          let arrived = 0;
          for (const step of steps) {
            if ("arrive" in step) {
              arrived++;
              const v = admission.enter(step.arrive);
              if (v instanceof Promise)
                void v.then((x) => {
                  settled++;
                  if (x.kind === "start") running.push(x);
                });
              else {
                settled++;
                if (v.kind === "start") running.push(v);
              }
            } else if ("end" in step) running.splice(step.end % Math.max(1, running.length), 1)[0]?.done();
            else clock.advance(step.wait);
            await Promise.resolve();
            expect(admission.inFlight).toBeLessThanOrEqual(10);
            expect(admission.inFlight).toBe(running.length);
          }
          clock.advance(10_000);
          await Promise.resolve();
          expect(settled).toBe(arrived);
        },
      ),
      { numRuns: 200 },
    );
  });
});
