// Days with others, the pure rule (policy.ts): which of an agent's signed
// days count as answering two people besides its owner, and what an owner
// is answered. No database: service.int.test.ts holds the SQL to the same
// answers on real PostgreSQL.
import { fc } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  MIN_ANSWERS,
  MIN_PEOPLE,
  OTHER_PEOPLE,
  answeredOthers,
  daysAnsweringOthers,
  ownerDaysAnsweringOthers,
  type CountedDay,
} from "./policy.js";

const day = (d: string, people: number, answers: number): CountedDay => ({ day: d, people, answers });

describe("a day with others", () => {
  it("names its constants: two people besides the owner, so three people (the owner may be one) and two answers", () => {
    expect([OTHER_PEOPLE, MIN_PEOPLE, MIN_ANSWERS]).toEqual([2, 3, 2]);
  });

  it("needs three people and two answers in the day's counts; two people (the owner and one other, perhaps) are not enough", () => {
    expect(answeredOthers([day("2026-11-20", 3, 2)])).toBe(true);
    expect(answeredOthers([day("2026-11-20", 2, 40)])).toBe(false);
    expect(answeredOthers([day("2026-11-20", 30, 1)])).toBe(false);
    expect(answeredOthers([day("2026-11-20", 0, 0)])).toBe(false);
    expect(answeredOthers([])).toBe(false);
  });

  it("adds answers across the versions of a day, but takes the most people of one version (one person may be in both)", () => {
    expect(answeredOthers([day("2026-11-20", 3, 1), day("2026-11-20", 1, 1)])).toBe(true);
    expect(answeredOthers([day("2026-11-20", 2, 5), day("2026-11-20", 2, 5)])).toBe(false);
  });
});

describe("an agent's days with others", () => {
  it("counts each day once, however many versions it ran, and only from the day given", () => {
    const rows = [
      day("2026-11-18", 3, 2),
      day("2026-11-19", 4, 3),
      day("2026-11-19", 3, 3),
      day("2026-11-20", 2, 9),
      day("2026-11-21", 5, 5),
    ];
    expect(daysAnsweringOthers(rows)).toBe(3);
    expect(daysAnsweringOthers(rows, "2026-11-19")).toBe(2);
    expect(daysAnsweringOthers(rows, "2026-11-22")).toBe(0);
  });

  const rows = fc.array(
    fc.record({
      day: fc.constantFrom("2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"),
      people: fc.nat({ max: 6 }),
      answers: fc.nat({ max: 6 }),
    }),
    { maxLength: 12 },
  );

  it("never counts more days than it has rows of, nor a day whose rows all have fewer than three people", () => {
    fc.assert(
      fc.property(rows, (rs) => {
        expect(daysAnsweringOthers(rs)).toBeLessThanOrEqual(new Set(rs.map((r) => r.day)).size);
        const crowded = rs.filter((r) => r.people >= MIN_PEOPLE);
        expect(daysAnsweringOthers(rs)).toBeLessThanOrEqual(new Set(crowded.map((r) => r.day)).size);
      }),
    );
  });

  it("never falls when rows are added (a later report only adds)", () => {
    fc.assert(
      fc.property(rows, rows, (rs, more) => {
        expect(daysAnsweringOthers([...rs, ...more])).toBeGreaterThanOrEqual(daysAnsweringOthers(rs));
      }),
    );
  });
});

describe("what an owner is answered", () => {
  const used = [day("2026-11-18", 3, 2), day("2026-11-19", 3, 2), day("2026-11-20", 3, 2)];

  it("is the most of any one agent: two agents used on alternate days are not one agent used every day", () => {
    expect(
      ownerDaysAnsweringOthers([
        { ownerFromDay: "2026-11-01", rows: [used[0]!, used[2]!] },
        { ownerFromDay: "2026-11-01", rows: [used[1]!] },
      ]),
    ).toBe(2);
    expect(ownerDaysAnsweringOthers([{ ownerFromDay: "2026-11-01", rows: used }])).toBe(3);
    expect(ownerDaysAnsweringOthers([])).toBe(0);
  });

  it("counts an agent handed over only from the day after the transfer: the days before are the giver's", () => {
    expect(ownerDaysAnsweringOthers([{ ownerFromDay: "2026-11-20", rows: used }])).toBe(1);
    expect(ownerDaysAnsweringOthers([{ ownerFromDay: "2026-11-21", rows: used }])).toBe(0);
  });
});
