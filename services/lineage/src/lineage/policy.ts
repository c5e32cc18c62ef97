// A template's usage over time (docs/lineage.md, "Usage over time"): the
// window a dashboard asks for, and its days with the figures sql.ts counts.
// Pure.
import { invalidArgument } from "@convos-pool/kit/content";

/** Days of usage when the request names none: today and the 29 before. */
export const DEFAULT_USAGE_DAYS = 30;
/** The longest window a dashboard may ask for. */
export const MAX_USAGE_DAYS = 90;

const DAY_MS = 86_400_000;

/** The window's length: 0 means the default; otherwise 1 to MAX_USAGE_DAYS. */
export function usageDays(days: number): number {
  if (days === 0) return DEFAULT_USAGE_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS)
    throw invalidArgument("days", `must be 1 to ${MAX_USAGE_DAYS} (0 for ${DEFAULT_USAGE_DAYS})`);
  return days;
}

/** The window's days, oldest first, ending on the UTC day of `now`: each as YYYY-MM-DD and as its midnight. */
export function usageWindow(days: number, now: Date): { day: string; start: Date }[] {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return Array.from({ length: days }, (_, i) => {
    const start = new Date(today - (days - 1 - i) * DAY_MS);
    return { day: start.toISOString().slice(0, 10), start };
  });
}

/** One day's figures as sql.ts counts them, by the day's index in the window. */
export interface DayCounts {
  index: number;
  claims: number;
  active: number;
}

/** Every day of the window with its figures; a day with no row counts zero. */
export function usageByDay(
  window: readonly { day: string }[],
  rows: readonly DayCounts[],
): { day: string; claims: number; active: number }[] {
  const byIndex = new Map(rows.map((r) => [r.index, r]));
  return window.map((w, i) => ({
    day: w.day,
    claims: byIndex.get(i)?.claims ?? 0,
    active: byIndex.get(i)?.active ?? 0,
  }));
}
