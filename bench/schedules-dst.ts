// A weekly 9:00 across a daylight-saving change (docs/performance/schedules.md):
// the words read as the agent reads them (kit/time `readWhen`), the item's
// first occurrence and each firing's next as the claims service decides them
// (schedules/policy.ts `firstOccurrence`, `planFiring`), with a test clock set
// at each firing, not the machine's. Real: the time code, its zone data
// (temporal-polyfill's, from the runtime's Intl). Stand-in: the clock, and
// the timer that would wait for each occurrence.
import { planFiring, firstOccurrence } from "@convos-pool/claims";
import { readWhen } from "@convos-pool/kit/time";

/** The changes of 2027 the figures cross, each with a Wednesday noon (UTC) ten days before it. */
export const DST_CHANGES = [
  { zone: "Europe/Paris", change: "spring forward, 28 March 2027", now: "2027-03-17T12:00:00Z" },
  { zone: "Europe/Paris", change: "fall back, 31 October 2027", now: "2027-10-20T12:00:00Z" },
  { zone: "America/New_York", change: "spring forward, 14 March 2027", now: "2027-03-03T12:00:00Z" },
  { zone: "America/New_York", change: "fall back, 7 November 2027", now: "2027-10-27T12:00:00Z" },
] as const;
export const DST_WORDS = "every Monday at 9:00";
/** How long after its occurrence the test clock says each firing runs (a timer's usual lateness). */
const RAN_LATE_MS = 400;

export interface DstRow {
  zone: string;
  change: string;
  /** The two firings, before and after the change: epoch ms. */
  firings: number[];
  /** Each firing's wall-clock time in the zone, "Mon 2027-03-22 09:00". */
  local: string[];
}

const localOf = (at: number, zone: string) => {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((x) => [x.type, x.value]),
  );
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
};

/** The two firings of `DST_WORDS` around each change, on a test clock. */
export function dstFirings(): DstRow[] {
  return DST_CHANGES.map(({ zone, change, now }) => {
    const clock = Date.parse(now);
    const read = readWhen(DST_WORDS, { now: clock, zone });
    if (!read) throw new Error(`"${DST_WORDS}" read as no time in ${zone}`);
    const first = firstOccurrence({ ...read.when, timeZone: zone }, clock);
    if (first === null) throw new Error(`"${DST_WORDS}" has no occurrence in ${zone}`);
    const item: Parameters<typeof planFiring>[0] & object = {
      id: "sch_dst",
      instanceId: "ins_dst",
      conversationId: "c",
      askedBy: "owner",
      askedByRole: "owner",
      kind: "routine",
      text: "the weekly plan",
      startsAt: read.when.startsAt,
      rrule: read.when.rrule,
      timeZone: zone,
      nextAt: first,
      pause: null,
      payload: new Uint8Array(),
      createdAt: clock,
    };
    const firings: number[] = [];
    for (let k = 0, at = item.nextAt; k < 2 && at !== null; k++, at = item.nextAt) {
      const plan = planFiring(item, at, at + RAN_LATE_MS);
      if (plan.kind !== "deliver") throw new Error(`the firing at ${new Date(at).toISOString()} was dropped`);
      firings.push(at);
      item.nextAt = plan.next;
    }
    return { zone, change, firings, local: firings.map((at) => localOf(at, zone)) };
  });
}

/** Whether every firing is at 9:00 local, on a Monday, a week apart in the calendar. */
export const atNineEveryWeek = (rows: readonly DstRow[]) =>
  rows.every((r) => {
    const days = r.local.map((l) => /^Mon (\d{4}-\d{2}-\d{2}) 09:00$/.exec(l)?.[1]);
    return days.length === 2 && days.every(Boolean) && Date.parse(days[1]!) - Date.parse(days[0]!) === 7 * 86_400_000;
  });

/** The figures' lines. */
export function dstLines(rows: readonly DstRow[]): string[] {
  const utc = (at: number) => new Date(at).toISOString().slice(0, 16).replace("T", " ");
  return rows.flatMap((r) => [
    `${r.zone} (${r.change})`,
    ...r.firings.map((at, k) => `  ${k === 0 ? "before" : "after "}  ${r.local[k]} local   ${utc(at)} UTC`),
  ]);
}
