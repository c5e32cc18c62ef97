// Turns (serial.ts) at a host's scale: what one agent's queue costs the
// others. Real Turns and Voice, no stand-ins; timings are ratios on one
// machine, so a loaded machine slows both sides alike.
import { describe, expect, it } from "vitest";
import { Turns } from "./serial.js";
import { Voice } from "../voice/send.js";

/** The least of three timings of `n` awaited promises, in ms. */
async function promisesMs(n: number): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => resolve());
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

describe("Turns, with thousands of agents on one host", () => {
  it("a promise costs no more after 2,000 agents took turns and spoke than after one did", async () => {
    const quiet = () => Promise.resolve(undefined);
    const one = new Turns();
    await one.run(async () => undefined);
    await new Voice({ group: () => undefined, log: console as never }).during({} as never, quiet);
    const before = await promisesMs(5_000);
    for (let i = 0; i < 2_000; i++) {
      await new Turns().run(async () => undefined);
      await new Voice({ group: () => undefined, log: console as never }).during({} as never, quiet);
    }
    const after = await promisesMs(5_000);
    // A storage per agent made each promise visit all of them: about a hundred times slower at 2,000.
    expect(after).toBeLessThan(Math.max(3 * before, before + 20));
  }, 120_000);

  it("parks only the job that holds its own agent's turn", async () => {
    const a = new Turns();
    const b = new Turns();
    const order: string[] = [];
    let release!: () => void;
    const owner = new Promise<void>((r) => (release = r));
    // A parks; its next job runs meanwhile. B's park called from A's job only waits.
    const first = a.run(async () => {
      await b.park(Promise.resolve());
      order.push("a1 parks");
      await a.park(owner);
      order.push("a1 goes on");
    });
    const second = a.run(async () => {
      order.push("a2 runs");
      release();
    });
    await Promise.all([first, second]);
    expect(order).toEqual(["a1 parks", "a2 runs", "a1 goes on"]);
  });
});
