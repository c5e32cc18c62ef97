// The testing kit's `test.prop` (fast-check-vitest.ts), which every tier gets
// for @fast-check/vitest: real fast-check and real vitest, nothing stands in.
import { describe, expect, it, beforeEach, TestRunner } from "vitest";
import { checkProperty, fc, hasEachHooks, test } from "./fast-check-vitest.js";

describe("checkProperty", () => {
  it("runs a property that holds as many times as asked, and passes", async () => {
    let runs = 0;
    await checkProperty(
      [fc.integer()],
      () => {
        runs++;
      },
      { seed: 1, numRuns: 37 },
    );
    expect(runs).toBe(37);
  });

  it("rejects a property that does not hold with fast-check's report: the seed and the shrunk counterexample", async () => {
    const failing = checkProperty(
      [fc.integer({ min: 0, max: 1000 })],
      (n) => {
        if (n >= 50) throw new Error("too big");
      },
      { seed: 42 },
    );
    await expect(failing).rejects.toThrow(/seed: 42[\s\S]*Counterexample: \[50\]/);
  });

  it("fails on a body whose promise rejects, as on one that throws", async () => {
    const failing = checkProperty([fc.nat()], async () => Promise.reject(new Error("no")), { seed: 3 });
    await expect(failing).rejects.toThrow(/Property failed[\s\S]*seed: 3/);
    await expect(failing).rejects.toHaveProperty("cause.message", "no");
  });

  it("draws the same values for the same seed", async () => {
    const draw = async () => {
      const seen: string[] = [];
      await checkProperty(
        [fc.string(), fc.nat()],
        (s, n) => {
          seen.push(`${s}/${n}`);
        },
        { seed: 7, numRuns: 20 },
      );
      return seen;
    };
    expect(await draw()).toEqual(await draw());
  });
});

describe("test.prop", () => {
  let runs = 0;
  test.prop([fc.constant("x")], { seed: 99, numRuns: 3 })("registers one test named with its seed", (x) => {
    runs++;
    expect(x).toBe("x");
    expect(TestRunner.getCurrentTest()?.name).toBe("registers one test named with its seed (with seed=99)");
  });

  it("ran the property above three times, as asked", () => {
    expect(runs).toBe(3);
  });

  test.each([
    [1, 2],
    [5, 6],
  ])("keeps vitest's each: %i and one is %i", (a, b) => {
    expect(a + 1).toBe(b);
  });
});

describe("a suite with a beforeEach hook", () => {
  beforeEach(() => undefined);

  it("is seen as one, so a property under it fails instead of running its hook once", () => {
    const current = TestRunner.getCurrentTest();
    expect(hasEachHooks(current?.suite)).toBe(true);
  });
});

describe("a suite without hooks", () => {
  it("is seen as one without", () => {
    const current = TestRunner.getCurrentTest();
    expect(hasEachHooks(current?.suite)).toBe(false);
  });
});
