// Which days of a chart over days get a label on its x axis, and how a day is
// named there. Pure. A label a day on 30 days ran the labels into each other
// at a phone's width and at a desktop's alike.

/** The room a day's label takes on the axis ("Nov 28" in the chart's 12 px type), with space between. */
export const LABEL_PX = 56;

/**
 * The days (by index, of `count`, oldest first) labelled on a plot `width` px
 * wide: every step-th counted back from the last, so that the newest day
 * (today) is always named, the step the smallest that keeps labels `room` px
 * apart.
 */
export function dayTicks(count: number, width: number, room = LABEL_PX): number[] {
  if (count <= 0) return [];
  const fit = Math.max(1, Math.floor(width / room));
  const step = Math.ceil(count / fit);
  const ticks: number[] = [];
  for (let i = count - 1; i >= 0; i -= step) ticks.unshift(i);
  return ticks;
}

/**
 * A UTC day ("2026-11-28") as the axis names it, in the reader's words and
 * order ("Nov 28", "28 Nov", "28. Nov."): the chart counts UTC days, so the
 * day is not moved into the reader's time zone.
 */
export function dayLabel(day: string, locale?: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "short", day: "numeric" }).format(d);
}
