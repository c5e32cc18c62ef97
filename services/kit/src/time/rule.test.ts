// Occurrences computed in a zone: properties over every zone the runtime
// knows, a year of dates and times of day (fast-check), and the two European
// and American daylight-saving weeks by name. Real: rrule, Temporal
// (temporal-polyfill) and the zone database; nothing stands in. The machine's
// own zone plays no part (the functions take the zone; nothing reads TZ).
import fc from "fast-check";
import { Temporal } from "temporal-polyfill";
import { describe, expect, it } from "vitest";
import { fewestMinutesBetween, nextOccurrences, ruleOptions, wallClock, type When } from "./rule.js";

const ZONES = Intl.supportedValuesOf("timeZone");
const zone = fc.constantFrom(...ZONES, "Europe/Paris", "America/New_York", "Australia/Sydney", "America/Santiago");
// Any instant of 2026 and 2027, to the minute.
const instant = fc
  .integer({ min: Date.UTC(2026, 0, 1) / 60_000, max: Date.UTC(2028, 0, 1) / 60_000 })
  .map((m) => m * 60_000);
const at = (iso: string) => Temporal.ZonedDateTime.from(iso).epochMilliseconds;

describe("occurrences in a zone", () => {
  it("keeps every occurrence of a weekly 9:00 rule at 9:00 local, on its day, for a year, in any zone", () => {
    fc.assert(
      fc.property(zone, instant, fc.integer({ min: 0, max: 6 }), (z, from, day) => {
        const days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        const first = wallClock(from, z)
          .toPlainDate()
          .toPlainDateTime({ hour: 9 })
          .toZonedDateTime(z).epochMilliseconds;
        const when: When = { startsAt: first, rrule: `FREQ=WEEKLY;BYDAY=${days[day]}`, zone: z };
        const year = nextOccurrences(when, first - 1, 53);
        expect(year).toHaveLength(53);
        for (const t of year) {
          const wall = wallClock(t, z);
          // A zone whose clocks skip 9:00 on some day (none does today) would move it to the hour after.
          expect([wall.hour, wall.minute, wall.dayOfWeek]).toEqual([9, 0, day + 1]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("gives only occurrences after the reference, in order, none before the first", () => {
    const rules = fc.constantFrom(
      "FREQ=DAILY",
      "FREQ=WEEKLY;BYDAY=MO,TH",
      "FREQ=MONTHLY;BYMONTHDAY=1",
      "FREQ=MONTHLY;BYMONTHDAY=31",
      "FREQ=HOURLY;INTERVAL=3",
      "FREQ=MINUTELY;INTERVAL=45",
      "FREQ=YEARLY",
      "",
    );
    fc.assert(
      fc.property(zone, instant, instant, rules, (z, startsAt, after, rrule) => {
        const next = nextOccurrences({ startsAt, rrule, zone: z }, after, 5);
        for (const [i, t] of next.entries()) {
          expect(t).toBeGreaterThan(after);
          expect(t).toBeGreaterThanOrEqual(startsAt);
          if (i > 0) expect(t).toBeGreaterThan(next[i - 1]!);
        }
        if (rrule !== "") expect(next).toHaveLength(5);
      }),
      { numRuns: 150 },
    );
  });

  it("fires a weekly Monday 9:00 in Paris at 9:00 on both sides of the October change (07:00Z, then 08:00Z)", () => {
    const when: When = {
      startsAt: at("2026-10-19T09:00[Europe/Paris]"),
      rrule: "FREQ=WEEKLY;BYDAY=MO",
      zone: "Europe/Paris",
    };
    const [a, b] = nextOccurrences(when, when.startsAt - 1, 2);
    expect(new Date(a!).toISOString()).toBe("2026-10-19T07:00:00.000Z");
    expect(new Date(b!).toISOString()).toBe("2026-10-26T08:00:00.000Z");
  });

  it("counts a start with milliseconds (a time read from a clock) as its own first occurrence, to the second", () => {
    const startsAt = at("2026-10-19T09:00[Europe/Paris]") + 500;
    const [first] = nextOccurrences(
      { startsAt, rrule: "FREQ=WEEKLY;BYDAY=MO", zone: "Europe/Paris" },
      startsAt - 60_000,
      1,
    );
    expect(new Date(first!).toISOString()).toBe("2026-10-19T07:00:00.000Z");
  });

  it("fires a weekly Sunday 9:00 in New York at 9:00 across the March change", () => {
    const when: When = {
      startsAt: at("2027-03-07T09:00[America/New_York]"),
      rrule: "FREQ=WEEKLY",
      zone: "America/New_York",
    };
    const [a, b] = nextOccurrences(when, when.startsAt - 1, 2);
    expect(new Date(a!).toISOString()).toBe("2027-03-07T14:00:00.000Z");
    expect(new Date(b!).toISOString()).toBe("2027-03-14T13:00:00.000Z");
  });

  it("moves a daily 2:30 to 3:30 the night the clocks skip it, and back to 2:30 the next", () => {
    const when: When = { startsAt: at("2027-03-27T02:30[Europe/Paris]"), rrule: "FREQ=DAILY", zone: "Europe/Paris" };
    const walls = nextOccurrences(when, when.startsAt - 1, 3).map((t) => wallClock(t, "Europe/Paris").toString());
    expect(walls).toEqual(["2027-03-27T02:30:00", "2027-03-28T03:30:00", "2027-03-29T02:30:00"]);
  });

  it("gives a one-time item its one occurrence while it is ahead, and none once it is past", () => {
    const when: When = { startsAt: at("2026-12-04T18:00[Europe/Paris]"), rrule: "", zone: "Europe/Paris" };
    expect(nextOccurrences(when, when.startsAt - 1, 3)).toEqual([when.startsAt]);
    expect(nextOccurrences(when, when.startsAt, 3)).toEqual([]);
  });

  it("skips the months without a 31st for a rule on the 31st", () => {
    const when: When = {
      startsAt: at("2027-01-31T09:00[Europe/Paris]"),
      rrule: "FREQ=MONTHLY;BYMONTHDAY=31",
      zone: "Europe/Paris",
    };
    const months = nextOccurrences(when, when.startsAt - 1, 3).map((t) => wallClock(t, "Europe/Paris").month);
    expect(months).toEqual([1, 3, 5]);
  });
});

describe("a rule's parts", () => {
  it("reads an RRULE value with or without its prefix, and refuses what is not one", () => {
    expect(ruleOptions("RRULE:FREQ=WEEKLY;BYDAY=MO")?.freq).toBe(2);
    expect(ruleOptions("FREQ=DAILY")?.freq).toBe(3);
    expect(ruleOptions("")).toBeUndefined();
    expect(ruleOptions("every monday")).toBeUndefined();
    expect(ruleOptions("BYDAY=MO")).toBeUndefined();
  });

  it("measures the fewest minutes between occurrences from the occurrences, BY parts included", () => {
    const base = { startsAt: at("2026-12-01T10:00[Europe/Paris]"), zone: "Europe/Paris" };
    expect(fewestMinutesBetween({ ...base, rrule: "FREQ=MINUTELY;INTERVAL=10" })).toBe(10);
    expect(fewestMinutesBetween({ ...base, rrule: "FREQ=MINUTELY;INTERVAL=15" })).toBe(15);
    expect(fewestMinutesBetween({ ...base, rrule: "FREQ=HOURLY;BYMINUTE=0,5" })).toBe(5);
    expect(fewestMinutesBetween({ ...base, rrule: "FREQ=SECONDLY;INTERVAL=3600" })).toBe(0);
    expect(fewestMinutesBetween({ ...base, rrule: "FREQ=WEEKLY" })).toBe(7 * 24 * 60);
  });
});
