// Which port the harness's freePort tries (pure: the draw is handed in).
import { expect, it } from "vitest";
import { FETCH_BAD_PORTS, portToTry } from "./ports.js";

const at = (port: number) => () => port;

it("tries the port drawn from 10000 to just below the kernel's range", () => {
  expect(portToTry(32_768, at(10_000))).toBe(10_000);
  expect(portToTry(32_768, (_min, max) => max - 1)).toBe(32_767);
});

it("never tries a port fetch refuses (10080: Node's fetch and browsers fail there at once, 'bad port'), but the next", () => {
  expect(FETCH_BAD_PORTS).toEqual([10_080]);
  expect(portToTry(32_768, at(10_080))).toBe(10_081);
});
