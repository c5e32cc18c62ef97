// Time as an agent's waits read it: the machine's, or a test's that the test
// advances (TestClock in @convos-pool/testing), so that a test of an expiry
// (a retired instance's invites, an approval no one answered) need not wait
// it out. The product always runs on SYSTEM_CLOCK.

export interface Clock {
  now(): number;
  /**
   * Calls `fn` once `ms` have passed on this clock; the returned function cancels it. `unref`: the wait
   * does not keep the process alive (a watch that can last days).
   */
  after(ms: number, fn: () => void, opts?: { unref?: boolean }): () => void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  after(ms, fn, opts) {
    const timer = setTimeout(fn, ms);
    if (opts?.unref) timer.unref();
    return () => clearTimeout(timer);
  },
};
