import { describe, expect, it } from "vitest";
import { RequesterWindow, slidingWindow } from "./requester-window.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const HOUR = 60 * 60 * 1000;

describe("a sliding window", () => {
  it("allows up to its max in the window, then refuses until the oldest leaves it", () => {
    let times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = slidingWindow(times, NOW + i, 3, HOUR);
      expect(w.allowed).toBe(true);
      times = [...w.times, NOW + i];
    }
    expect(slidingWindow(times, NOW + 3, 3, HOUR).allowed).toBe(false);
    expect(slidingWindow(times, NOW + HOUR, 3, HOUR)).toEqual({ times: [NOW + 1, NOW + 2], allowed: true });
  });

  it("counts each requester apart", () => {
    const w = new RequesterWindow(2, HOUR);
    w.add("member:ana", NOW);
    w.add("member:ana", NOW + 1);
    expect(w.allows("member:ana", NOW + 2)).toBe(false);
    expect(w.allows("member:ben", NOW + 2)).toBe(true);
    expect(w.allows("member:ana", NOW + HOUR + 1)).toBe(true);
  });

  it("keeps only the last max times of a flood, which still hold the limit while it goes on", () => {
    const w = new RequesterWindow(2, HOUR);
    for (let i = 0; i < 100; i++) w.add("member:ana", NOW + i * 1000);
    expect(w.entries(NOW + 100_000)).toEqual([
      ["member:ana", NOW + 98_000],
      ["member:ana", NOW + 99_000],
    ]);
    expect(w.allows("member:ana", NOW + HOUR)).toBe(false);
    expect(w.allows("member:ana", NOW + 98_000 + HOUR)).toBe(true);
  });
});
