// Schedules' pure decisions (policy.ts), on fixed instants: no clock, no
// database. The rules' occurrences are the kit's real ones (rrule and
// Temporal); nothing here is a stand-in.
import { describe, expect, it } from "vitest";
import {
  askViolations,
  changeRefusal,
  firingId,
  firstOccurrence,
  hostRefusal,
  type Item,
  MAX_PENDING_PER_CONVERSATION,
  MAX_PENDING_PER_PERSON,
  MIN_MINUTES_BETWEEN_FIRINGS,
  pendingViolations,
  planFiring,
  resumeAt,
  roleOf,
  type ScheduleAsk,
  sees,
} from "./policy.js";

const NOW = Date.parse("2026-12-01T10:00:00Z");
const HOUR = 3_600_000;
const ask = (over: Partial<ScheduleAsk> = {}): ScheduleAsk => ({
  kind: "reminder",
  text: "book the table",
  startsAt: NOW + 2 * HOUR,
  rrule: "",
  timeZone: "Europe/Paris",
  payload: new Uint8Array(),
  ...over,
});
const fields = (a: ScheduleAsk, role: "owner" | "member" = "member") => askViolations(a, role, NOW).map((v) => v.field);
const item = (over: Partial<Item> = {}): Item => ({
  id: "sch_0123456789abcdef01234567",
  instanceId: "inst_AAAAAAAAAAAAAAAA",
  conversationId: "c1",
  askedBy: "a".repeat(64),
  askedByRole: "member",
  kind: "reminder",
  text: "x",
  startsAt: NOW,
  rrule: "FREQ=WEEKLY;BYDAY=MO",
  timeZone: "Europe/Paris",
  nextAt: NOW,
  pause: null,
  payload: new Uint8Array(),
  createdAt: NOW - HOUR,
  ...over,
});

describe("what a host may ask for", () => {
  it("accepts a reminder two hours ahead in a known zone", () => {
    expect(fields(ask())).toEqual([]);
  });

  it("names spec.starts_at for a one-time reminder in the past, past the minute's grace", () => {
    expect(fields(ask({ startsAt: NOW - 2 * 60_000 }))).toEqual(["spec.starts_at"]);
    expect(fields(ask({ startsAt: NOW - 30_000 }))).toEqual([]);
  });

  it("names spec.time_zone for a zone no one has", () => {
    expect(fields(ask({ timeZone: "Mars/Olympus" }))).toEqual(["spec.time_zone"]);
  });

  it(`names spec.rrule for a rule more often than every ${MIN_MINUTES_BETWEEN_FIRINGS} minutes, and takes one of exactly ${MIN_MINUTES_BETWEEN_FIRINGS}`, () => {
    expect(fields(ask({ rrule: "FREQ=MINUTELY;INTERVAL=5" }))).toEqual(["spec.rrule"]);
    expect(fields(ask({ rrule: "FREQ=HOURLY;BYMINUTE=0,10,30" }))).toEqual(["spec.rrule"]);
    expect(fields(ask({ rrule: `FREQ=MINUTELY;INTERVAL=${MIN_MINUTES_BETWEEN_FIRINGS}` }))).toEqual([]);
  });

  it("names spec.rrule for a rule it cannot read and for one with nothing left to come", () => {
    expect(fields(ask({ rrule: "EVERY=MONDAY" }))).toEqual(["spec.rrule"]);
    expect(fields(ask({ startsAt: NOW - 30 * 24 * HOUR, rrule: "FREQ=DAILY;COUNT=2" }))).toEqual(["spec.rrule"]);
  });

  it("takes a weekly rule whose first occurrence is past: it goes on from now", () => {
    expect(fields(ask({ startsAt: NOW - 30 * 24 * HOUR, rrule: "FREQ=WEEKLY" }))).toEqual([]);
  });

  it("refuses a member's scheduled act by spec.kind and takes the owner's", () => {
    expect(fields(ask({ kind: "act" }), "member")).toEqual(["spec.kind"]);
    expect(fields(ask({ kind: "act" }), "owner")).toEqual([]);
  });

  it("names every bad field at once", () => {
    expect(fields(ask({ kind: undefined, text: " ", timeZone: "", startsAt: undefined }))).toEqual([
      "spec.kind",
      "spec.text",
      "spec.time_zone",
      "spec.starts_at",
    ]);
    expect(fields(ask({ text: "x".repeat(1001), payload: new Uint8Array(4097) }))).toEqual([
      "spec.text",
      "spec.payload",
    ]);
  });
});

describe("how many may wait", () => {
  it("names the conversation at its limit and the person at theirs", () => {
    expect(pendingViolations({ conversation: MAX_PENDING_PER_CONVERSATION - 1, person: 0 })).toEqual([]);
    expect(pendingViolations({ conversation: MAX_PENDING_PER_CONVERSATION, person: 0 }).map((v) => v.field)).toEqual([
      "on_behalf.conversation_id",
    ]);
    expect(pendingViolations({ conversation: 0, person: MAX_PENDING_PER_PERSON }).map((v) => v.field)).toEqual([
      "on_behalf.inbox_id",
    ]);
  });
});

describe("who sees and changes which item", () => {
  const owner = { role: "owner" as const, inboxId: "o".repeat(64) };
  const member = { role: "member" as const, inboxId: "a".repeat(64), conversationId: "c1" };

  it("judges the owner by the service's own record, anyone else a member", () => {
    expect(roleOf(owner.inboxId, owner.inboxId)).toBe("owner");
    expect(roleOf(member.inboxId, owner.inboxId)).toBe("member");
    expect(roleOf(member.inboxId, null)).toBe("member");
  });

  it("shows a member only their conversation's items, the owner all", () => {
    expect(sees(member, item({ conversationId: "c1" }))).toBe(true);
    expect(sees(member, item({ conversationId: "c2" }))).toBe(false);
    expect(sees(owner, item({ conversationId: "c2" }))).toBe(true);
  });

  it("lets a member change only what they asked for, and another conversation's is not found", () => {
    expect(changeRefusal(member, item(), "cancel")).toBeUndefined();
    expect(changeRefusal(member, item({ askedBy: "b".repeat(64) }), "pause")).toBe("denied");
    expect(changeRefusal(member, item({ conversationId: "c2" }), "cancel")).toBe("not-found");
    expect(changeRefusal(owner, item({ askedBy: "b".repeat(64) }), "cancel")).toBeUndefined();
  });

  it("leaves what a release or a transfer paused to the owner's yes", () => {
    for (const pause of ["released", "transferred", "left"] as const) {
      expect(changeRefusal(member, item({ pause }), "resume")).toBe("denied");
      expect(changeRefusal(owner, item({ pause }), "resume")).toBeUndefined();
    }
    expect(changeRefusal(member, item({ pause: "asked" }), "resume")).toBeUndefined();
  });
});

describe("a firing", () => {
  it("has one id per item and occurrence, the same on every retry", () => {
    const at = Date.parse("2026-12-04T17:00:00.000Z");
    expect(firingId("sch_x", at)).toBe("sch_x@2026-12-04T17:00:00Z");
    expect(firingId("sch_x", at + 400)).toBe(firingId("sch_x", at));
  });

  it("delivers the item's next occurrence and names the one after", () => {
    const monday = Date.parse("2026-12-07T08:00:00Z"); // 9:00 in Paris
    const plan = planFiring(item({ startsAt: monday, nextAt: monday }), monday, monday + 1000);
    expect(plan).toEqual({
      kind: "deliver",
      firingId: "sch_0123456789abcdef01234567@2026-12-07T08:00:00Z",
      next: Date.parse("2026-12-14T08:00:00Z"),
    });
  });

  it("keeps 9:00 in Paris across the change to summer time", () => {
    const before = Date.parse("2027-03-22T08:00:00Z"); // Monday 9:00 CET
    const plan = planFiring(item({ startsAt: before, nextAt: before }), before, before);
    expect(plan.kind === "deliver" && plan.next).toBe(Date.parse("2027-03-29T07:00:00Z")); // 9:00 CEST
  });

  it("drops a job whose item was cancelled, paused or moved on", () => {
    expect(planFiring(undefined, NOW, NOW).kind).toBe("drop");
    expect(planFiring(item({ pause: "released" }), NOW, NOW).kind).toBe("drop");
    expect(planFiring(item({ nextAt: NOW + HOUR }), NOW, NOW).kind).toBe("drop");
  });

  it("ends a one-time item with its firing, and a late firing skips what it missed", () => {
    expect(planFiring(item({ rrule: "" }), NOW, NOW)).toMatchObject({ kind: "deliver", next: null });
    const daily = item({ rrule: "FREQ=DAILY" });
    const plan = planFiring(daily, NOW, NOW + 3 * 24 * HOUR + 1);
    expect(plan.kind === "deliver" && plan.next).toBe(NOW + 4 * 24 * HOUR);
  });

  it("starts a new item at its start, and a resumed one from now", () => {
    expect(firstOccurrence({ startsAt: NOW + HOUR, rrule: "", timeZone: "UTC" }, NOW)).toBe(NOW + HOUR);
    expect(firstOccurrence({ startsAt: NOW - 30_000, rrule: "", timeZone: "UTC" }, NOW)).toBe(NOW);
    expect(resumeAt(item({ rrule: "FREQ=DAILY" }), NOW + HOUR)).toBe(NOW + 24 * HOUR);
    expect(resumeAt(item({ rrule: "", nextAt: null }), NOW)).toBeNull();
  });
});

describe("which host may speak for an agent", () => {
  const place = { state: "claimed", hostUrl: "http://a", movingTo: null };

  it("lets the host it is placed on, and the one a move restores it on", () => {
    expect(hostRefusal(place, "http://a")).toBeUndefined();
    expect(hostRefusal({ ...place, movingTo: "http://b" }, "http://b")).toBeUndefined();
  });

  it("refuses the shared credential and another host before saying whether the agent is claimed", () => {
    expect(hostRefusal(place, undefined)).toBe("shared-credential");
    expect(hostRefusal({ ...place, state: "idle" }, "http://b")).toBe("elsewhere");
    expect(hostRefusal({ ...place, state: "idle" }, "http://a")).toBe("not-claimed");
    expect(hostRefusal(undefined, "http://a")).toBe("not-found");
  });
});
