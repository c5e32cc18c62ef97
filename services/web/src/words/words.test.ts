// Dates and counts for people, with the reader fixed (locale, time zone, now).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dateTime, dateTimeAndFromNow, fromNow, moment, plural, type Reader } from "./words";

const now = new Date("2026-11-28T00:40:19.464Z");
const gb: Reader = { now, locale: "en-GB", timeZone: "UTC" };
const us: Reader = { now, locale: "en-US", timeZone: "UTC" };

describe("plural", () => {
  it("says one thing in the singular and every other count in the plural", () => {
    expect(plural(1, "answer")).toBe("1 answer");
    expect(plural(0, "answer")).toBe("0 answers");
    expect(plural(2n, "answer")).toBe("2 answers");
    expect(plural(1, "person", "people")).toBe("1 person");
    expect(plural(3, "person", "people")).toBe("3 people");
  });

  it("groups the digits of a large count as the reader does", () => {
    expect(plural(1204, "answer", undefined, { locale: "en-GB" })).toBe("1,204 answers");
  });

  it("is never '1 answers' nor a plural for one, whatever the count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        const s = plural(n, "answer", undefined, { locale: "en" });
        expect(s.endsWith(n === 1 ? " answer" : " answers")).toBe(true);
      }),
    );
  });
});

describe("dateTime", () => {
  it("says today, yesterday and tomorrow with the time", () => {
    expect(dateTime(new Date("2026-11-28T00:02:00Z"), gb)).toBe("today, 00:02");
    expect(dateTime(new Date("2026-11-27T22:15:00Z"), gb)).toBe("yesterday, 22:15");
    expect(dateTime(new Date("2026-11-29T03:40:19Z"), gb)).toBe("tomorrow, 03:40");
  });

  it("gives the day and month within the year, and the year too outside it", () => {
    expect(dateTime(new Date("2026-11-30T03:40:19Z"), gb)).toBe("30 Nov, 03:40");
    expect(dateTime(new Date("2025-11-28T03:40:19Z"), gb)).toBe("28 Nov 2025, 03:40");
  });

  it("writes the date in the reader's order and the time on their clock", () => {
    expect(dateTime(new Date("2026-11-30T15:40:19Z"), us)).toBe("Nov 30, 3:40 PM");
  });

  it("counts days where the reader is: just past midnight in Tokyo is already tomorrow", () => {
    const tokyo = { ...gb, timeZone: "Asia/Tokyo" };
    // 00:40 UTC is 09:40 in Tokyo on the 28th; 15:30 UTC is 00:30 on the 29th there.
    expect(dateTime(new Date("2026-11-28T15:30:00Z"), tokyo)).toBe("tomorrow, 00:30");
  });

  it("never shows an ISO date, whatever the moment", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }), (d) => {
        const s = dateTime(d, gb);
        expect(s).not.toMatch(/\d{4}-\d{2}-\d{2}|T\d{2}:|Z$/);
      }),
    );
  });

  it("shows a dash for a date that is not one", () => {
    expect(dateTime(new Date("nope"), gb)).toBe("—");
  });
});

describe("fromNow", () => {
  it("says how far ahead or behind in the largest whole unit", () => {
    expect(fromNow(new Date(now.getTime() + 3 * 3_600_000), gb)).toBe("in 3 hours");
    expect(fromNow(new Date(now.getTime() - 5 * 60_000), gb)).toBe("5 minutes ago");
    expect(fromNow(new Date(now.getTime() - 24 * 3_600_000), gb)).toBe("yesterday");
    expect(fromNow(new Date(now.getTime() + 20_000), gb)).toBe("now");
  });

  it("joins a date with how far it is", () => {
    expect(dateTimeAndFromNow(new Date("2026-11-28T03:40:19.464Z"), gb)).toBe("today, 03:40 (in 3 hours)");
  });
});

describe("moment", () => {
  it("writes a time given as ISO text in the reader's zone and words, not in UTC", () => {
    const tokyo: Reader = { now, locale: "en-GB", timeZone: "Asia/Tokyo" };
    expect(moment("2026-11-26T03:40:00Z", tokyo)).toBe("26 Nov, 12:40");
    expect(moment("2026-11-26T03:40:00Z", { now, locale: "en-US", timeZone: "America/New_York" })).toBe(
      "Nov 25, 10:40 PM",
    );
  });

  it("says a dash for what is not a time", () => {
    expect(moment("", gb)).toBe("—");
    expect(moment("soon", gb)).toBe("—");
  });
});
