// The x axis of a chart over days: which days are labelled at a width, and how a day is named. Pure, nothing real.
import { describe, expect, it } from "vitest";
import { LABEL_PX, dayLabel, dayTicks } from "./day-ticks";

/** The smallest distance in px between two labels, with `count` days spread over `width` px. */
const closest = (ticks: number[], count: number, width: number) =>
  Math.min(...ticks.slice(1).map((t, i) => ((t - ticks[i]!) * width) / count));

describe("dayTicks", () => {
  it("labels 30 days on a phone's plot (342 px) at least a label's room apart, the newest day among them", () => {
    const ticks = dayTicks(30, 342);
    expect(ticks.at(-1)).toBe(29);
    expect(ticks.length).toBeGreaterThan(2);
    expect(closest(ticks, 30, 342)).toBeGreaterThanOrEqual(LABEL_PX);
  });

  it("labels 30 days on a desktop's plot (1,100 px) every other day, not every day", () => {
    const ticks = dayTicks(30, 1_100);
    expect(ticks.length).toBe(15);
    expect(closest(ticks, 30, 1_100)).toBeGreaterThanOrEqual(LABEL_PX);
  });

  it("labels every day when each has the room", () => {
    expect(dayTicks(7, 1_100)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("labels the one day there is, and none of none, on a plot narrower than a label", () => {
    expect(dayTicks(1, 20)).toEqual([0]);
    expect(dayTicks(0, 500)).toEqual([]);
    expect(dayTicks(5, 20)).toEqual([4]);
  });
});

describe("dayLabel", () => {
  it("names a UTC day by its month and date", () => {
    expect(dayLabel("2026-11-28")).toBe("Nov 28");
    expect(dayLabel("2027-01-01")).toBe("Jan 1");
  });

  it("names the day in the reader's words and order, still the UTC day the chart counts", () => {
    expect(dayLabel("2026-11-28", "de-DE")).toBe("28. Nov.");
    expect(dayLabel("2026-11-28", "en-GB")).toBe("28 Nov");
    expect(dayLabel("2026-11-01", "en-US")).toBe("Nov 1");
  });

  it("gives back what is not a day as it is", () => {
    expect(dayLabel("today")).toBe("today");
  });
});
