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

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A UTC day ("2026-11-28") as the axis names it: "Nov 28". */
export function dayLabel(day: string): string {
  const [, month, date] = day.split("-").map(Number);
  const name = month === undefined ? undefined : MONTHS[month - 1];
  return name && date ? `${name} ${date}` : day;
}
