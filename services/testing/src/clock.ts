/**
 * A clock a test advances (the product's `Clock`, services/instance/src/platform/clock.ts):
 * it runs with the machine's time, and `advance(ms)` moves it on at once, firing every
 * wait that is then due. A test of an expiry hands it to the product and advances past
 * the expiry instead of waiting for it.
 */
interface Wait {
  at: number;
  fn: () => void;
  timer: ReturnType<typeof setTimeout>;
}

export class TestClock {
  private offset = 0;
  private readonly waits = new Set<Wait>();

  now = (): number => Date.now() + this.offset;

  after = (ms: number, fn: () => void, opts?: { unref?: boolean }): (() => void) => {
    const wait: Wait = { at: this.now() + ms, fn, timer: setTimeout(() => this.fire(wait), ms) };
    if (opts?.unref) wait.timer.unref();
    this.waits.add(wait);
    return () => {
      clearTimeout(wait.timer);
      this.waits.delete(wait);
    };
  };

  /** Moves the clock on by `ms`, firing the waits then due, earliest first. */
  advance(ms: number): void {
    this.offset += ms;
    const due = [...this.waits].filter((w) => w.at <= this.now()).sort((a, b) => a.at - b.at);
    for (const wait of due) this.fire(wait);
  }

  /** Waits not yet fired nor cancelled. */
  get pending(): number {
    return this.waits.size;
  }

  private fire(wait: Wait): void {
    if (!this.waits.delete(wait)) return;
    clearTimeout(wait.timer);
    wait.fn();
  }
}
