import { describe, expect, it } from "vitest";
import { Batcher } from "./batcher.js";

/** A run that records its batches and answers each item doubled once `release` is called. */
function recording() {
  const batches: number[][] = [];
  const waiting: (() => void)[] = [];
  const run = async (items: number[], settle: (i: number, r: number | Error) => void) => {
    batches.push(items);
    await new Promise<void>((r) => waiting.push(r));
    for (const [i, n] of items.entries()) settle(i, n * 2);
  };
  const releaseAll = () => {
    for (const r of waiting.splice(0)) r();
  };
  return { batches, run, releaseAll };
}

describe("Batcher", () => {
  it("sends what is added in one turn of the event loop as one batch, and answers each item its own result", async () => {
    const r = recording();
    const b = new Batcher(r.run);
    const answers = Promise.all([1, 2, 3].map((n) => b.add(n)));
    await new Promise((res) => setImmediate(res));
    r.releaseAll();
    expect(await answers).toEqual([2, 4, 6]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it("with maxInFlight, gathers what arrives while a batch runs into the next one", async () => {
    const r = recording();
    const b = new Batcher(r.run, { maxInFlight: 1 });
    const first = b.add(1);
    await new Promise((res) => setImmediate(res));
    const later = [b.add(2), b.add(3)];
    await new Promise((res) => setImmediate(res));
    const fourth = b.add(4);
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([[1]]);
    r.releaseAll();
    expect(await first).toBe(2);
    while (r.batches.length < 2) await new Promise((res) => setImmediate(res));
    r.releaseAll();
    expect(await Promise.all([...later, fourth])).toEqual([4, 6, 8]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
  });

  it("splits a queue longer than maxBatch", async () => {
    const r = recording();
    const b = new Batcher(r.run, { maxBatch: 2 });
    const answers = Promise.all([1, 2, 3, 4, 5].map((n) => b.add(n)));
    await new Promise((res) => setImmediate(res));
    r.releaseAll();
    expect(await answers).toEqual([2, 4, 6, 8, 10]);
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("fails one item alone with the Error it is settled with", async () => {
    const b = new Batcher<number, number>(async (items, settle) => {
      for (const [i, n] of items.entries()) settle(i, n === 2 ? new Error("not two") : n);
    });
    const [one, two] = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(one).toEqual({ status: "fulfilled", value: 1 });
    expect(two).toMatchObject({ status: "rejected", reason: { message: "not two" } });
  });

  it("fails the items a run left unsettled with its error, and keeps those it settled before", async () => {
    const b = new Batcher<number, number>(async (items, settle) => {
      settle(0, items[0]!);
      throw new Error("connection lost");
    });
    const [one, two] = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(one).toEqual({ status: "fulfilled", value: 1 });
    expect(two).toMatchObject({ status: "rejected", reason: { message: "connection lost" } });
  });

  it("fails an item a run returned without answering", async () => {
    const b = new Batcher<number, number>(async () => {});
    await expect(b.add(1)).rejects.toThrow("without an answer");
  });
});
