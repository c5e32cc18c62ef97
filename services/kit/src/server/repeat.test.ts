// The Repeater on vitest's fake timers, so that a busy machine cannot move a
// run across a window; its jobs are stand-ins that count their runs and,
// where a test says so, wait to be released.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Repeater } from "./repeat.js";

/** Moves the fake clock on by `ms`, running every timer and promise due on the way. */
const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** A job's own pause: one turn of the event loop, which needs no clock. */
const yieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Releases of every held run, so that a failing test's stop() never waits for ever. */
let releases: (() => void)[] = [];

/** A job that counts its runs and how many ran at once; with `hold`, each run waits for release(). */
function counting(hold = false) {
  const c = { runs: 0, active: 0, maxActive: 0, waiting: [] as (() => void)[] };
  const job = async (): Promise<number> => {
    const n = ++c.runs;
    c.active++;
    c.maxActive = Math.max(c.maxActive, c.active);
    if (hold) await new Promise<void>((resolve) => c.waiting.push(resolve));
    c.active--;
    return n;
  };
  const release = () => {
    for (const r of c.waiting.splice(0)) r();
  };
  releases.push(release);
  return { c, job, release };
}

const noError = (err: unknown) => {
  throw new Error(`unexpected failure: ${String(err)}`);
};

let repeaters: Repeater<unknown>[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(async () => {
  const stopping = Promise.all(repeaters.map((r) => r.stop()));
  for (const release of releases) release();
  await stopping;
  repeaters = [];
  releases = [];
  vi.useRealTimers();
});
function repeater<T>(
  job: () => Promise<T>,
  intervalMs: number,
  onError: (err: unknown) => void = noError,
): Repeater<T> {
  const r = new Repeater(job, { intervalMs, onError });
  repeaters.push(r);
  return r;
}

describe("Repeater", () => {
  it("runs at start, at once, and then again every interval", async () => {
    const { c, job } = counting();
    const r = repeater(job, 10);
    r.start();
    expect(c.runs).toBe(1);
    await sleep(120);
    expect(c.runs).toBeGreaterThanOrEqual(4);
  });

  it("never starts a run while one is under way: timer, kicks and direct calls wait for it or share it", async () => {
    const { c, job, release } = counting(true);
    const r = repeater(job, 1);
    r.start();
    await sleep(20);
    const shared = [r.run(), r.run()];
    r.kick();
    r.kick();
    expect(c.runs).toBe(1);
    release();
    expect(await Promise.all(shared)).toEqual([1, 1]);
    // The kicks made one more run, right after it.
    expect(c.runs).toBe(2);
    const stopping = r.stop();
    release();
    await stopping;
    expect(c.runs).toBe(2);
    expect(c.maxActive).toBe(1);
  });

  it("waits `intervalMs` from the end of a run, not from its start", async () => {
    const { c, job, release } = counting(true);
    const r = repeater(job, 100);
    r.start();
    await sleep(200);
    release();
    await sleep(30);
    // The first run took twice the interval: still only the one, the next comes 100 ms after it ended.
    expect(c.runs).toBe(1);
    await sleep(220);
    expect(c.runs).toBe(2);
    const stopping = r.stop();
    release();
    await stopping;
  });

  it("stop() waits for the run under way, and no run starts after it, by timer or kick", async () => {
    const { c, job, release } = counting(true);
    const r = repeater(job, 5);
    r.start();
    r.kick(); // one more asked for: stop() cancels it
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    expect(r.stopped).toBe(true);
    await sleep(20);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(c.active).toBe(0);
    r.kick();
    await sleep(30);
    expect(c.runs).toBe(1);
  });

  it("reports a run's error and runs again on time; a direct caller gets the error itself", async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const r = repeater(
      async () => {
        runs++;
        await yieldOnce();
        if (runs === 1) throw new Error("the first run fails");
        return runs;
      },
      10,
      (err) => errors.push(err),
    );
    r.start();
    await sleep(60);
    expect(errors).toEqual([new Error("the first run fails")]);
    expect(runs).toBeGreaterThanOrEqual(3);

    let direct = 0;
    const failing = repeater(async () => {
      direct++;
      await yieldOnce();
      throw new Error("no luck");
    }, 10);
    await expect(failing.run()).rejects.toThrow("no luck");
    expect(direct).toBe(1);
  });

  it("takes a job that throws before returning its promise as a failed run", async () => {
    const errors: unknown[] = [];
    const r = repeater<number>(
      () => {
        throw new Error("at once");
      },
      1_000,
      (err) => errors.push(err),
    );
    r.start();
    await sleep(0);
    expect(errors).toEqual([new Error("at once")]);
  });
});
