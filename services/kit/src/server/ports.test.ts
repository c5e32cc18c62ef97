// Where a span of ports may start (pure: the draw is handed in).
import { expect, it } from "vitest";
import { firstPortToTry } from "./ports.js";

const lowest = (min: number) => min;
const highest = (_min: number, max: number) => max - 1;

it("draws a span's first port so that the whole span fits below the range's end", () => {
  expect(firstPortToTry(10_000, 32_767, 1, lowest)).toBe(10_000);
  expect(firstPortToTry(10_000, 32_767, 1, highest)).toBe(32_767);
  expect(firstPortToTry(10_000, 32_767, 3, highest)).toBe(32_765);
});

it("has no first port when the span is wider than the range", () => {
  expect(firstPortToTry(10_000, 10_001, 2, highest)).toBe(10_000);
  expect(firstPortToTry(10_000, 10_001, 3, highest)).toBeUndefined();
});
