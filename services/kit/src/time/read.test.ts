// Requests' times read from their words, in a zone from a given instant: the
// issue's five requests, the four languages of the recurrence words, and
// properties (fast-check) that the machine's zone and clock play no part.
// Real: chrono-node, rrule, Temporal; nothing stands in.
import fc from "fast-check";
import { Temporal } from "temporal-polyfill";
import { describe, expect, it } from "vitest";
import { whenProblem } from "./checks.js";
import { describeWhen } from "./describe.js";
import { readWhen } from "./read.js";
import { nextOccurrences, wallClock } from "./rule.js";

const PARIS = "Europe/Paris";
// Tuesday 1 December 2026, 10:00 in Paris.
const NOW = Temporal.ZonedDateTime.from("2026-12-01T10:00[Europe/Paris]").epochMilliseconds;
const wall = (t: number, zone = PARIS) => wallClock(t, zone).toString({ smallestUnit: "minute" });
const read = (text: string, zone = PARIS, now = NOW) => readWhen(text, { now, zone });

describe("the present", () => {
  it.each(["boarding now", "pay Ana right now", "paga ahora", "on part maintenant", "wir gehen jetzt"])(
    "reads no time in %j: now asks for nothing later",
    (text) => {
      expect(read(text)).toBeUndefined();
    },
  );
});

describe("the issue's requests", () => {
  it("reads 'remind us Friday at 6 to book the table' as once, this Friday at 18:00, and says 6 was read as 18:00", () => {
    const r = read("remind us Friday at 6 to book the table")!;
    expect(r.when.rrule).toBe("");
    expect(wall(r.when.startsAt)).toBe("2026-12-04T18:00");
    expect(r.rest).toBe("remind us to book the table");
    expect(r.assumed).toEqual(["6 read as 18:00"]);
    expect(describeWhen(r.when, NOW)).toBe("Friday 4 December at 18:00 (Europe/Paris)");
  });

  it("reads 'every Monday at 9 post the week's plan' as weekly on Monday from next Monday at 9:00", () => {
    const r = read("every Monday at 9 post the week's plan")!;
    expect(r.when.rrule).toBe("FREQ=WEEKLY;BYDAY=MO");
    expect(wall(r.when.startsAt)).toBe("2026-12-07T09:00");
    expect(r.rest).toBe("post the week's plan");
    expect(describeWhen(r.when, NOW)).toBe("every Monday at 9:00 (Europe/Paris), next Monday 7 December");
  });

  it("reads 'pay Ana 0.01 ETH on the 1st of each month' as monthly on the 1st, at 9:00 since no time was said", () => {
    const r = read("pay Ana 0.01 ETH on the 1st of each month")!;
    expect(r.when.rrule).toBe("FREQ=MONTHLY;BYMONTHDAY=1");
    expect(wall(r.when.startsAt)).toBe("2027-01-01T09:00");
    expect(r.rest).toBe("pay Ana 0.01 ETH");
    expect(r.assumed).toEqual(["at 9:00, no time was said"]);
  });

  it("reads no time in 'stop reminding us about the table'", () => {
    expect(read("stop reminding us about the table")).toBeUndefined();
  });

  it("reads 'remind me tomorrow at 9 to call the hotel' as once, tomorrow at 9:00 in the conversation's zone", () => {
    const r = read("remind me tomorrow at 9 to call the hotel")!;
    expect(wall(r.when.startsAt)).toBe("2026-12-02T09:00");
    expect(r.rest).toBe("remind me to call the hotel");
    expect(describeWhen(r.when, NOW)).toBe("tomorrow at 9:00 (Europe/Paris)");
  });

  it("takes 'tomorrow' from the conversation's zone: at 00:30 in Tokyo it is 1 December's tomorrow there, whatever UTC's date", () => {
    const now = Temporal.ZonedDateTime.from("2026-12-01T00:30[Asia/Tokyo]").epochMilliseconds;
    const r = read("remind me tomorrow at 9 to call the hotel", "Asia/Tokyo", now)!;
    expect(wall(r.when.startsAt, "Asia/Tokyo")).toBe("2026-12-02T09:00");
  });
});

describe("other words for time", () => {
  it.each([
    ["recuérdame mañana a las 9 llamar al hotel", "", "2026-12-02T09:00"],
    ["rappelle-moi demain à 9h d'appeler l'hôtel", "", "2026-12-02T09:00"],
    ["erinnere mich morgen um 9 an das Hotel", "", "2026-12-02T09:00"],
    ["tous les lundis à 9h publie le plan", "FREQ=WEEKLY;BYDAY=MO", "2026-12-07T09:00"],
    ["jeden Montag um 9 den Wochenplan posten", "FREQ=WEEKLY;BYDAY=MO", "2026-12-07T09:00"],
    ["todos los lunes y jueves a las 10 el resumen", "FREQ=WEEKLY;BYDAY=MO,TH", "2026-12-03T10:00"],
    ["el 1 de cada mes paga a Ana", "FREQ=MONTHLY;BYMONTHDAY=1", "2027-01-01T09:00"],
    ["every weekday at 8:30 say good morning", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "2026-12-02T08:30"],
    ["every other week on Friday at 17:00 water the plants", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "2026-12-04T17:00"],
    ["remind me on Mondays at 9 to file the hours", "FREQ=WEEKLY;BYDAY=MO", "2026-12-07T09:00"],
    ["every day at 7pm water the plants", "FREQ=DAILY", "2026-12-01T19:00"],
    ["at 6 remind us to leave", "", "2026-12-01T18:00"],
    ["remind us at 04:40 to leave for the airport", "", "2026-12-02T04:40"],
    ["remind us at 06:00 to leave", "", "2026-12-02T06:00"],
  ])("reads %j as %j from %s", (text, rrule, first) => {
    const r = read(text)!;
    expect(r.when.rrule).toBe(rrule);
    expect(wall(r.when.startsAt)).toBe(first);
  });

  it("reads 'in 2 hours' as two hours of elapsed time, even across the night the clocks go back", () => {
    const now = Temporal.ZonedDateTime.from("2026-10-25T01:30[Europe/Paris]").epochMilliseconds;
    const r = read("remind me in 2 hours to sleep", PARIS, now)!;
    expect(r.when.startsAt - now).toBe(2 * 3_600_000);
  });

  it("reads a word of another language that looks like a day (Swedish 'to', Thursday) as no time", () => {
    expect(read("remind me to call the hotel")).toBeUndefined();
  });

  it("reads a past day as said, for the check to refuse in words rather than move on silently", () => {
    const r = read("remind me yesterday at 9 to call")!;
    expect(whenProblem(r.when, NOW)).toBe(
      "That time has passed (Monday 30 November at 9:00, Europe/Paris): tell me a time still to come.",
    );
  });
});

describe("whatever the zone and the instant", () => {
  const ZONES = Intl.supportedValuesOf("timeZone");
  const zone = fc.constantFrom(...ZONES);
  const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) });

  it("starts a weekly 'every Monday at 9' at 9:00 local on a Monday after the reference, within a week", () => {
    fc.assert(
      fc.property(zone, instant, (z, now) => {
        const r = readWhen("every Monday at 9 post the week's plan", { now, zone: z })!;
        const w = wallClock(r.when.startsAt, z);
        expect([w.dayOfWeek, w.hour, w.minute]).toEqual([1, 9, 0]);
        expect(r.when.startsAt).toBeGreaterThan(now);
        expect(r.when.startsAt - now).toBeLessThanOrEqual(7 * 86_400_000 + 3_600_000);
        expect(nextOccurrences(r.when, now, 1)).toEqual([r.when.startsAt]);
      }),
      { numRuns: 60 },
    );
  });

  it("reads 'tomorrow at 9' as the zone's next calendar day at 9:00", () => {
    fc.assert(
      fc.property(zone, instant, (z, now) => {
        const r = readWhen("remind me tomorrow at 9 to call the hotel", { now, zone: z })!;
        const today = wallClock(now, z).toPlainDate();
        expect(
          wallClock(r.when.startsAt, z)
            .toPlainDate()
            .equals(today.add({ days: 1 })),
        ).toBe(true);
        expect(wallClock(r.when.startsAt, z).hour).toBe(9);
      }),
      { numRuns: 60 },
    );
  });
});
