// The backlog's notices, pure (backlog.ts): whom it tells it is busy, once a
// person a backlog, and which answers would come too late; fast-check over
// any order of arrivals and turns. Nothing stands in: no clock (waits are
// arguments), no conversation.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ANSWER_WITHIN_MS, BUSY_AHEAD, Backlog, tooLate } from "./backlog.js";

describe("Backlog", () => {
  it("tells a member it is busy when two or more messages wait ahead of theirs, not one", () => {
    expect(BUSY_AHEAD).toBe(2);
    const b = new Backlog();
    expect(b.joined("ana", 1, 0)).toBe(false);
    expect(b.joined("bob", 2, 0)).toBe(true);
  });

  it("tells a person once a backlog, however many of their messages wait", () => {
    const b = new Backlog();
    expect(b.joined("ana", 3, 0)).toBe(true);
    expect(b.joined("ana", 4, 0)).toBe(false);
    expect(b.joined("ana", 5, 0)).toBe(false);
    b.left("ana");
    b.left("ana");
    expect(b.joined("ana", 5, 0)).toBe(false);
  });

  it("tells them again in a later backlog, once none of theirs waited and ten minutes passed", () => {
    const b = new Backlog(600_000);
    expect(b.joined("ana", 3, 0)).toBe(true);
    b.left("ana");
    b.left("ana");
    expect(b.joined("ana", 3, 599_999)).toBe(false);
    b.left("ana");
    expect(b.joined("ana", 3, 600_000)).toBe(true);
  });

  test.prop([
    fc.array(fc.record({ sender: fc.constantFrom("ana", "bob", "cy"), ahead: fc.nat(10), leave: fc.boolean() }), {
      maxLength: 200,
    }),
  ])("never tells one person twice while any of their messages waits", (steps) => {
    // No spacing here (0): the backlog alone decides.
    const b = new Backlog();
    const waiting = new Map<string, number>();
    const toldNow = new Set<string>();
    for (const s of steps) {
      if (s.leave && (waiting.get(s.sender) ?? 0) > 0) {
        b.left(s.sender);
        const n = (waiting.get(s.sender) ?? 0) - 1;
        waiting.set(s.sender, n);
        if (n === 0) toldNow.delete(s.sender);
        continue;
      }
      waiting.set(s.sender, (waiting.get(s.sender) ?? 0) + 1);
      const told = b.joined(s.sender, s.ahead, 0);
      if (told) expect(toldNow.has(s.sender)).toBe(false);
      if (told) toldNow.add(s.sender);
      // Behind enough and not told yet in this backlog: told now.
      if (s.ahead >= BUSY_AHEAD) expect(toldNow.has(s.sender)).toBe(true);
    }
  });
});

describe("tooLate", () => {
  it("answers a message that waited up to two minutes, and not one that waited longer", () => {
    expect(ANSWER_WITHIN_MS).toBe(120_000);
    expect(tooLate(120_000)).toBe(false);
    expect(tooLate(120_001)).toBe(true);
  });

  it("is never too late with the bound off (0)", () => {
    expect(tooLate(10_000_000, 0)).toBe(false);
  });
});
