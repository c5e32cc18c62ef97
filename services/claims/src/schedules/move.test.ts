// Moving an item (move.ts), pure, on fixed instants: no clock, no database.
// The rules' occurrences and the zones' wall clocks are the kit's real ones
// (rrule and Temporal); nothing here is a stand-in.
import { describe, expect, it } from "vitest";
import { moveRefusal, moveViolations, planMove } from "./move.js";
import type { Item } from "./policy.js";

// Tuesday 1 December 2026, 10:00 UTC: 11:00 in Paris.
const NOW = Date.parse("2026-12-01T10:00:00Z");
const OWNER = { role: "owner", inboxId: "a".repeat(64) } as const;
const MEMBER = { role: "member", inboxId: "b".repeat(64), conversationId: "c1" } as const;
const item = (over: Partial<Item> = {}): Item => ({
  id: "sch_0123456789abcdef01234567",
  instanceId: "inst_AAAAAAAAAAAAAAAA",
  conversationId: "c1",
  askedBy: "b".repeat(64),
  askedByRole: "member",
  kind: "routine",
  text: "post the week's plan",
  // Monday 30 November 2026, 9:00 in Paris, every Monday: waits for Monday 7 December.
  startsAt: Date.parse("2026-11-30T08:00:00Z"),
  rrule: "FREQ=WEEKLY;BYDAY=MO",
  timeZone: "Europe/Paris",
  nextAt: Date.parse("2026-12-07T08:00:00Z"),
  pause: null,
  payload: new Uint8Array(),
  createdAt: NOW - 86_400_000,
  ...over,
});
const moved = (i: Item, time: string, date = "") => {
  const plan = planMove(i, { time, date }, NOW);
  if (plan.kind !== "move") throw new Error(`not moved: ${JSON.stringify(plan)}`);
  return { startsAt: new Date(plan.startsAt).toISOString(), nextAt: new Date(plan.nextAt).toISOString() };
};

describe("who may move an item", () => {
  it("lets the agent's owner move any item of the agent, a template's routine among them", () => {
    expect(moveRefusal(OWNER, item({ askedBy: "d".repeat(64) }))).toBeUndefined();
  });

  it("refuses a member, even the one who asked for the item", () => {
    expect(moveRefusal(MEMBER, item())).toBe("denied");
  });

  it("does not let a member of another conversation learn the item is there", () => {
    expect(moveRefusal(MEMBER, item({ conversationId: "c2" }))).toBe("not-found");
  });
});

describe("what a move asks for", () => {
  it("names time when it is not HH:MM on a 24-hour clock, and date when it is not YYYY-MM-DD", () => {
    expect(moveViolations({ time: "9am", date: "" }).map((v) => v.field)).toEqual(["time"]);
    expect(moveViolations({ time: "24:00", date: "2026-02-30" }).map((v) => v.field)).toEqual(["time", "date"]);
    expect(moveViolations({ time: "08:30", date: "" })).toEqual([]);
  });
});

describe("where a moved item fires", () => {
  it("moves a weekly routine's waited-for Monday to the new time, keeping its days, in the conversation's zone", () => {
    expect(moved(item(), "08:30")).toEqual({
      startsAt: "2026-11-30T07:30:00.000Z",
      nextAt: "2026-12-07T07:30:00.000Z",
    });
  });

  it("keeps the new local time across a daylight-saving change: 8:30 in Paris is 6:30 UTC in summer", () => {
    const spring = item({ nextAt: Date.parse("2027-03-29T07:00:00Z") });
    const plan = planMove(spring, { time: "08:30", date: "" }, Date.parse("2027-03-25T10:00:00Z"));
    expect(plan.kind === "move" && new Date(plan.nextAt).toISOString()).toBe("2027-03-29T06:30:00.000Z");
  });

  it("moves today's occurrence later on its own day when it has not fired yet", () => {
    const daily = item({ rrule: "FREQ=DAILY", nextAt: Date.parse("2026-12-01T11:00:00Z") });
    expect(moved(daily, "14:00").nextAt).toBe("2026-12-01T13:00:00.000Z");
  });

  it("does not fire twice in a day: a daily routine done today and moved later waits for tomorrow", () => {
    // It fired at 9:00 today and waits for tomorrow 9:00; now is 11:00 in Paris.
    const daily = item({ rrule: "FREQ=DAILY", nextAt: Date.parse("2026-12-02T08:00:00Z") });
    expect(moved(daily, "14:00").nextAt).toBe("2026-12-02T13:00:00.000Z");
  });

  it("skips to the next day when the waited-for occurrence at the new time is already past", () => {
    const daily = item({ rrule: "FREQ=DAILY", nextAt: Date.parse("2026-12-01T11:00:00Z") });
    expect(moved(daily, "10:00").nextAt).toBe("2026-12-02T09:00:00.000Z");
  });

  it("moves a one-time reminder on its own day, or to the day given", () => {
    const once = item({ kind: "reminder", rrule: "", startsAt: NOW + 3_600_000, nextAt: NOW + 3_600_000 });
    expect(moved(once, "18:00").nextAt).toBe("2026-12-01T17:00:00.000Z");
    expect(moved(once, "09:15", "2026-12-24")).toEqual({
      startsAt: "2026-12-24T08:15:00.000Z",
      nextAt: "2026-12-24T08:15:00.000Z",
    });
  });

  it("refuses a one-time reminder moved into the past, naming time", () => {
    const once = item({ kind: "reminder", rrule: "", startsAt: NOW + 3_600_000, nextAt: NOW + 3_600_000 });
    const plan = planMove(once, { time: "08:00", date: "" }, NOW);
    expect(plan.kind === "refuse" && plan.violations.map((v) => v.field)).toEqual(["time"]);
  });

  it("refuses a day for a rule, naming date: a rule keeps its days", () => {
    const plan = planMove(item(), { time: "08:00", date: "2026-12-24" }, NOW);
    expect(plan.kind === "refuse" && plan.violations.map((v) => v.field)).toEqual(["date"]);
  });

  it("refuses a rule that names its own hours or comes more than once a day, naming time", () => {
    for (const rrule of ["FREQ=DAILY;BYHOUR=9,17", "FREQ=HOURLY"]) {
      const plan = planMove(item({ rrule }), { time: "08:00", date: "" }, NOW);
      expect(plan.kind === "refuse" && plan.violations.map((v) => v.field)).toEqual(["time"]);
    }
  });

  it("finds nothing to move in an item with no occurrence left", () => {
    expect(planMove(item({ nextAt: null }), { time: "08:00", date: "" }, NOW).kind).toBe("none-left");
  });
});
