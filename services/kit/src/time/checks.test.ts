// What is refused of a time, each in the sentence the conversation reads, and
// the show-back of what is kept. Real: rrule, Temporal and the zone database.
import fc from "fast-check";
import { Temporal } from "temporal-polyfill";
import { describe, expect, it } from "vitest";
import { whenProblem, zoneProblem } from "./checks.js";
import { describeWhen, howOften } from "./describe.js";
import { knownZone } from "./zone.js";

const NOW = Temporal.ZonedDateTime.from("2026-12-01T10:00[Europe/Paris]").epochMilliseconds;
const at = (iso: string) => Temporal.ZonedDateTime.from(iso).epochMilliseconds;

describe("zones", () => {
  it("knows a zone in any case and spells it as the zone database does", () => {
    expect(knownZone("europe/paris")).toBe("Europe/Paris");
    expect(knownZone(" America/New_York ")).toBe("America/New_York");
  });

  it("refuses a name no zone has, and an offset, which follows no place across daylight-saving changes", () => {
    expect(knownZone("Europe/Pariss")).toBeUndefined();
    expect(knownZone("+02:00")).toBeUndefined();
    expect(zoneProblem("Mars/Olympus")).toBe(
      '"Mars/Olympus" is not a time zone I know: name it as a place\'s zone, like Europe/Paris or America/New_York.',
    );
  });

  it("knows every zone the runtime lists", () => {
    for (const zone of Intl.supportedValuesOf("timeZone")) expect(knownZone(zone)).toBeDefined();
  });
});

describe("what is refused", () => {
  it("refuses a one-time item at or before now, naming its time", () => {
    const when = { startsAt: at("2026-12-01T09:00[Europe/Paris]"), rrule: "", zone: "Europe/Paris" };
    expect(whenProblem(when, NOW)).toBe(
      "That time has passed (today at 9:00, Europe/Paris): tell me a time still to come.",
    );
    expect(whenProblem({ ...when, startsAt: NOW + 60_000 }, NOW)).toBeUndefined();
  });

  it("refuses a rule more often than every 15 minutes, however it is written, and keeps one every 15", () => {
    const base = { startsAt: NOW + 60_000, zone: "Europe/Paris" };
    const often =
      "That is more often than every 15 minutes, which is as often as I keep anything: say every 15 minutes or less often.";
    expect(whenProblem({ ...base, rrule: "FREQ=MINUTELY;INTERVAL=14" }, NOW)).toBe(often);
    expect(whenProblem({ ...base, rrule: "FREQ=HOURLY;BYMINUTE=0,10,30,45" }, NOW)).toBe(often);
    expect(whenProblem({ ...base, rrule: "FREQ=SECONDLY;INTERVAL=3600" }, NOW)).toBe(often);
    expect(whenProblem({ ...base, rrule: "FREQ=MINUTELY;INTERVAL=15" }, NOW)).toBeUndefined();
  });

  it("refuses every minutely interval under 15 and keeps every one from 15 (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), (n) => {
        const problem = whenProblem({ startsAt: NOW + 60_000, rrule: `FREQ=MINUTELY;INTERVAL=${n}`, zone: "UTC" }, NOW);
        expect(problem === undefined).toBe(n >= 15);
      }),
    );
  });

  it("refuses an unknown zone before anything else, and a rule it cannot read", () => {
    expect(whenProblem({ startsAt: NOW + 1, rrule: "", zone: "Narnia" }, NOW)).toMatch(/^"Narnia" is not a time zone/);
    expect(whenProblem({ startsAt: NOW + 1, rrule: "every day", zone: "UTC" }, NOW)).toBe(
      'I could not read how often that repeats ("every day").',
    );
  });

  it("refuses a rule with nothing still to come", () => {
    const when = { startsAt: at("2026-01-05T09:00[Europe/Paris]"), rrule: "FREQ=WEEKLY;COUNT=2", zone: "Europe/Paris" };
    expect(whenProblem(when, NOW)).toBe(
      "That repeats with no time still to come (every Monday at 9:00 (Europe/Paris), with no time still to come).",
    );
  });
});

describe("the show-back", () => {
  const start = at("2026-12-07T09:00[Europe/Paris]");
  it.each([
    ["FREQ=DAILY", "every day"],
    ["FREQ=DAILY;INTERVAL=3", "every 3 days"],
    ["FREQ=WEEKLY", "every Monday"],
    ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"],
    ["FREQ=WEEKLY;BYDAY=TH,MO", "every Monday and Thursday"],
    ["FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "every 2 weeks on Friday"],
    ["FREQ=MONTHLY;BYMONTHDAY=1", "on the 1st of each month"],
    ["FREQ=MONTHLY;BYMONTHDAY=22", "on the 22nd of each month"],
    ["FREQ=MONTHLY", "on the 7th of each month"],
    ["FREQ=YEARLY", "every year on 7 December"],
    ["FREQ=MINUTELY;INTERVAL=30", "every 30 minutes"],
    ["FREQ=HOURLY", "every hour"],
  ])("says %s as %j", (rrule, words) => {
    expect(howOften({ startsAt: start, rrule, zone: "Europe/Paris" })).toBe(words);
  });

  it("says when next, by the day for a day's rule and by the minute for a rule of minutes", () => {
    expect(
      describeWhen({ startsAt: NOW + 30 * 60_000, rrule: "FREQ=MINUTELY;INTERVAL=30", zone: "Europe/Paris" }, NOW),
    ).toBe("every 30 minutes (Europe/Paris), next one today at 10:30");
    expect(
      describeWhen({ startsAt: at("2026-12-02T08:30[Europe/Paris]"), rrule: "FREQ=DAILY", zone: "Europe/Paris" }, NOW),
    ).toBe("every day at 8:30 (Europe/Paris), next one tomorrow");
    expect(describeWhen({ startsAt: at("2027-01-01T09:00[Europe/Paris]"), rrule: "", zone: "Europe/Paris" }, NOW)).toBe(
      "Friday 1 January 2027 at 9:00 (Europe/Paris)",
    );
  });
});
