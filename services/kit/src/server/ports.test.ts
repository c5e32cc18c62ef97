// Where a span of ports may start (pure: the draw is handed in).
import { expect, it } from "vitest";
import { FETCH_BAD_PORTS, firstPortToTry } from "./ports.js";

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

const at = (port: number) => () => port;

it("never draws a span holding a port fetch refuses (10080: Node's fetch and browsers fail there at once, 'bad port')", () => {
  expect(FETCH_BAD_PORTS).toContain(10_080);
  expect(firstPortToTry(10_000, 32_767, 1, at(10_080))).toBe(10_081);
  expect(firstPortToTry(10_000, 32_767, 3, at(10_078))).toBe(10_081);
  // No room after it: the span ends just before it.
  expect(firstPortToTry(10_000, 10_082, 3, at(10_079))).toBe(10_077);
  // No room on either side.
  expect(firstPortToTry(10_079, 10_081, 2, at(10_079))).toBeUndefined();
  // A span clear of it is drawn as it was.
  expect(firstPortToTry(10_000, 32_767, 3, at(10_077))).toBe(10_077);
});
