// The usage window of a template's dashboard (policy.ts): its length, its
// days in order ending today (UTC), and a figure for every day.
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { DEFAULT_USAGE_DAYS, MAX_USAGE_DAYS, usageByDay, usageDays, usageWindow } from "./policy.js";

describe("usageDays", () => {
  it("takes 0 as the default of 30 days", () => {
    expect(DEFAULT_USAGE_DAYS).toBe(30);
    expect(usageDays(0)).toBe(30);
  });

  it("refuses a window under one day or over 90, naming the field", () => {
    expect(MAX_USAGE_DAYS).toBe(90);
    for (const bad of [-1, 91, 1_000]) {
      const e = ConnectError.from(
        (() => {
          try {
            usageDays(bad);
          } catch (err) {
            return err;
          }
        })(),
      );
      expect(e.code).toBe(Code.InvalidArgument);
      expect(e.rawMessage).toContain("days");
    }
  });
});

describe("usageWindow", () => {
  it("ends on the UTC day of now, whatever the hour", () => {
    const w = usageWindow(3, new Date("2026-11-27T23:59:59.999Z"));
    expect(w.map((d) => d.day)).toEqual(["2026-11-25", "2026-11-26", "2026-11-27"]);
    expect(w[0]?.start.toISOString()).toBe("2026-11-25T00:00:00.000Z");
  });

  test.prop([
    fc.integer({ min: 1, max: MAX_USAGE_DAYS }),
    fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
  ])("holds exactly `days` consecutive days, oldest first, the last containing now", (days, now) => {
    const w = usageWindow(days, now);
    expect(w).toHaveLength(days);
    for (let i = 1; i < w.length; i++)
      expect((w[i]?.start.getTime() ?? 0) - (w[i - 1]?.start.getTime() ?? 0)).toBe(86_400_000);
    const last = w.at(-1)?.start.getTime() ?? 0;
    expect(now.getTime() - last).toBeGreaterThanOrEqual(0);
    expect(now.getTime() - last).toBeLessThan(86_400_000);
  });
});

describe("usageByDay", () => {
  it("gives every day of the window, a day without a row as zeros", () => {
    const w = usageWindow(3, new Date("2026-11-27T12:00:00Z"));
    expect(usageByDay(w, [{ index: 1, claims: 2, active: 5 }])).toEqual([
      { day: "2026-11-25", claims: 0, active: 0 },
      { day: "2026-11-26", claims: 2, active: 5 },
      { day: "2026-11-27", claims: 0, active: 0 },
    ]);
  });
});
