// The host's model calls (host-calls.ts): who goes next and who is refused,
// pure; and HostModelCalls with jobs the test ends itself (no timers, no
// provider): at most `max` at once, the owners' first, refusable calls past
// `maxWaiting` refused at once, an aborted wait leaving the queue.
import { describe, expect, it } from "vitest";
import { HOST_CALLS_WAITING, HOST_MODEL_CALLS, HostBusy, HostModelCalls, mayWait, nextCall } from "./host-calls.js";

const member = { owner: false, refusable: true };
const owner = { owner: true, refusable: false };
const laterRound = { owner: false, refusable: false };

/** A job the test ends: `done()` resolves it; `started` says whether it began. */
function held() {
  let done: () => void = () => undefined;
  const state = { started: false };
  const job = () => {
    state.started = true;
    return new Promise<void>((r) => {
      done = r;
    });
  };
  return { job, state, done: () => done() };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("nextCall and mayWait", () => {
  it("takes the owner's oldest first, else the oldest", () => {
    expect(nextCall([])).toBe(-1);
    expect(nextCall([member, laterRound, owner, owner])).toBe(2);
    expect(nextCall([laterRound, member])).toBe(0);
  });

  it("refuses a refusable call past the bound, never an owner's or a later round's", () => {
    expect(HOST_MODEL_CALLS).toBe(32);
    expect(HOST_CALLS_WAITING).toBe(64);
    expect(mayWait([member], member, 2)).toBe(true);
    expect(mayWait([member, member, owner], member, 2)).toBe(false);
    expect(mayWait([member, member], owner, 2)).toBe(true);
    expect(mayWait([member, member], laterRound, 2)).toBe(true);
  });
});

describe("HostModelCalls", () => {
  it("runs at most its number at once, then the owner's waiting call before a member's that came first", async () => {
    const calls = new HostModelCalls(1, 5);
    const first = held();
    const m = held();
    const o = held();
    const running = calls.run(member, first.job);
    const memberDone = calls.run(member, m.job);
    const ownerDone = calls.run(owner, o.job);
    await flush();
    expect([first.state.started, m.state.started, o.state.started]).toEqual([true, false, false]);
    first.done();
    await running;
    await flush();
    expect([m.state.started, o.state.started]).toEqual([false, true]);
    o.done();
    await ownerDone;
    await flush();
    expect(m.state.started).toBe(true);
    m.done();
    await memberDone;
    expect(calls.load).toEqual({ running: 0, waiting: 0 });
  });

  it("refuses a member's call at once past the waiting bound, and still queues the owner's", async () => {
    const calls = new HostModelCalls(1, 1);
    const first = held();
    const waiting = held();
    const o = held();
    const running = calls.run(member, first.job);
    const queued = calls.run(member, waiting.job);
    await expect(calls.run(member, async () => undefined)).rejects.toBeInstanceOf(HostBusy);
    const ownerDone = calls.run(owner, o.job);
    expect(calls.load).toEqual({ running: 1, waiting: 2 });
    first.done();
    await running;
    await flush();
    o.done();
    await ownerDone;
    await flush();
    waiting.done();
    await queued;
    expect(calls.load).toEqual({ running: 0, waiting: 0 });
  });

  it("lets an aborted wait leave the queue without taking a place", async () => {
    const calls = new HostModelCalls(1, 5);
    const first = held();
    const running = calls.run(member, first.job);
    const abort = new AbortController();
    const gone = calls.run(member, async () => "never", abort.signal);
    abort.abort(new Error("stopped"));
    await expect(gone).rejects.toThrow("stopped");
    expect(calls.load).toEqual({ running: 1, waiting: 0 });
    first.done();
    await running;
    expect(calls.load).toEqual({ running: 0, waiting: 0 });
  });

  it("has no bound at 0", async () => {
    const calls = new HostModelCalls(0, 0);
    const jobs = Array.from({ length: 100 }, () => held());
    const all = jobs.map((j) => calls.run(member, j.job));
    await flush();
    expect(jobs.every((j) => j.state.started)).toBe(true);
    for (const j of jobs) j.done();
    await Promise.all(all);
  });
});
