// Versions side by side (compare.ts), in memory: figures per 100
// answers over the days shown, the threshold, an owner once, no division by
// zero, the order asked and the default. Days come from figures.ts,
// as the service makes them.
import { describe, expect, it } from "vitest";
import { compareVersionDays, defaultVersions } from "./compare.js";
import { MIN_CONVERSATIONS, creatorView, type AgentDay } from "./figures.js";

const ZERO = {
  answers: 0,
  people: 0,
  thumbsUp: 0,
  thumbsDown: 0,
  corrections: 0,
  forgetRequests: 0,
  approvalsAsked: 0,
  approvalsDeclined: 0,
  toolCallsFailed: 0,
  pauses: 0,
  stopRequests: 0,
  pinned: false,
};
let n = 0;
/** `agents` agents of `owner` (each its own, unless told) reporting `counts` for a version's day. */
function agents(
  count: number,
  version: string,
  day: string,
  counts: Partial<AgentDay["counts"]>,
  owner?: string,
): AgentDay[] {
  return Array.from({ length: count }, () => {
    n += 1;
    return { instanceId: `inst_${n}`, ownerId: owner ?? `owner_${n}`, version, day, counts: { ...ZERO, ...counts } };
  });
}

describe("versions side by side", () => {
  it("gives each figure per 100 answers over the days shown, and a day below the threshold adds nothing", () => {
    const rows = [
      // Day 1 of v7: five agents, 10 answers and 1 👍 each: 50 answers, 5 👍.
      ...agents(MIN_CONVERSATIONS, "7", "2026-11-24", { answers: 10, thumbsUp: 1 }),
      // Day 2: five agents, 30 answers, 3 corrections, a stop and a pause each.
      ...agents(MIN_CONVERSATIONS, "7", "2026-11-25", { answers: 30, corrections: 3, stopRequests: 1, pauses: 1 }),
      // Day 3: one agent fewer than the threshold, with many 👎: it must not count.
      ...agents(MIN_CONVERSATIONS - 1, "7", "2026-11-26", { answers: 1, thumbsDown: 50 }),
    ];
    const [v7] = compareVersionDays(creatorView(rows, "creator").days, ["7"]);
    expect(v7).toMatchObject({ version: "7", daysRan: 3, daysShown: 2, answers: 200 });
    expect(v7?.per100).toMatchObject({
      answers: 100,
      thumbsUp: 2.5,
      corrections: 7.5,
      thumbsDown: 0,
      stopRequests: 2.5,
      pauses: 2.5,
      pinned: 0,
    });
    expect(v7?.days.map((d) => [d.day, d.shown, d.answers])).toEqual([
      ["2026-11-24", true, 50],
      ["2026-11-25", true, 150],
      ["2026-11-26", false, 0],
    ]);
    expect(v7?.days[0]?.per100).toMatchObject({ thumbsUp: 10 });
    expect(v7?.days[2]?.per100).toBeUndefined();
  });

  it("counts an owner once however many agents they hold", () => {
    const day = "2026-11-26";
    const base = agents(MIN_CONVERSATIONS, "6", day, { answers: 10, thumbsUp: 1 });
    // One owner adds ten agents that each thumbs-up nine times in ten answers.
    const flood = agents(10, "6", day, { answers: 10, thumbsUp: 9 }, "flooder");
    const [before] = compareVersionDays(creatorView(base, "creator").days, ["6"]);
    const [after] = compareVersionDays(creatorView([...base, ...flood], "creator").days, ["6"]);
    expect(before?.per100?.thumbsUp).toBe(10);
    // Six owners of 10 answers each; the flooder weighs as one agent, and at most twice the next owner and two
    // (figures.ts capLargest): 4 beside five of 1, per 60 answers.
    expect(after?.answers).toBe(60);
    expect(after?.per100?.thumbsUp).toBeCloseTo((9 / 60) * 100, 9);
  });

  it("divides by no zero: days shown without answers give no rate, a version that never showed none either", () => {
    const rows = [
      ...agents(MIN_CONVERSATIONS, "6", "2026-11-26", { thumbsDown: 2 }),
      ...agents(2, "7", "2026-11-26", { answers: 10 }),
    ];
    const [v6, v7] = compareVersionDays(creatorView(rows, "creator").days, ["6", "7"]);
    expect(v6).toMatchObject({ daysShown: 1, answers: 0 });
    expect(v6?.per100).toBeUndefined();
    expect(v6?.days[0]).toMatchObject({ shown: true, answers: 0 });
    expect(v6?.days[0]?.per100).toBeUndefined();
    expect(v7).toMatchObject({ daysRan: 1, daysShown: 0, answers: 0 });
    expect(v7?.per100).toBeUndefined();
  });

  it("keeps the order asked, gives a version that never reported no days, and defaults to the two newest, older first", () => {
    const rows = [
      ...agents(1, "6", "2026-11-25", { answers: 1 }),
      ...agents(1, "10", "2026-11-25", { answers: 1 }),
      ...agents(1, "7", "2026-11-26", { answers: 1 }),
    ];
    const days = creatorView(rows, "creator").days;
    expect(compareVersionDays(days, ["10", "6", "9"]).map((v) => [v.version, v.daysRan])).toEqual([
      ["10", 1],
      ["6", 1],
      ["9", 0],
    ]);
    expect(defaultVersions(days)).toEqual(["7", "10"]);
    expect(defaultVersions(creatorView(agents(1, "3", "2026-11-26", {}), "creator").days)).toEqual(["3"]);
    expect(defaultVersions([])).toEqual([]);
  });

  it("averages the pinned share over the days shown", () => {
    const rows = [
      ...agents(MIN_CONVERSATIONS, "7", "2026-11-25", { answers: 1, pinned: true }),
      ...agents(MIN_CONVERSATIONS, "7", "2026-11-26", { answers: 1 }),
    ];
    expect(compareVersionDays(creatorView(rows, "creator").days, ["7"])[0]?.per100?.pinned).toBe(0.5);
  });
});
