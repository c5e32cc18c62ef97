// An agent's reminders in its owner's words, from items shaped as
// ListSchedules returns them (no call is made), on a fixed clock, locale and
// reader's zone.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  ScheduleAskerRole,
  ScheduleItemSchema,
  ScheduleKind,
  SchedulePause,
} from "@convos-pool/gen/convos/pool/v1/schedule_pb.js";
import { describe, expect, it } from "vitest";
import {
  actionsFor,
  askedByWords,
  emptyWords,
  moveAsk,
  moveFrom,
  nextWords,
  oftenWords,
  reminderGroups,
  reminderLine,
  stateWords,
} from "./reminder-words";

const NOW = Date.parse("2026-11-30T12:00:00Z");
const OWNER = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const ANA = "ffee00112233445566778899aabbccdd";
const TRIP = "group-lisbon-trip-0001";
const CLUB = "group-dinner-club-0002";
/** A reader in New York, six hours behind Paris. */
const reader = { now: new Date(NOW), locale: "en-GB", timeZone: "America/New_York" };

const item = (over: Parameters<typeof create<typeof ScheduleItemSchema>>[1] = {}) =>
  create(ScheduleItemSchema, {
    id: "sch_000000000000000000000001",
    instanceId: "inst_1",
    conversationId: TRIP,
    askedByInboxId: OWNER,
    askedByRole: ScheduleAskerRole.OWNER,
    kind: ScheduleKind.REMINDER,
    text: "call the hotel",
    // Tomorrow at 9:00 in Paris.
    startsAt: timestampFromMs(Date.parse("2026-12-01T08:00:00Z")),
    nextAt: timestampFromMs(Date.parse("2026-12-01T08:00:00Z")),
    timeZone: "Europe/Paris",
    ...over,
  });

describe("an agent's reminders on its page", () => {
  it("says when next where the reader is and in the item's own zone, the one the agent keeps it by", () => {
    expect(nextWords(item(), reader)).toBe("tomorrow, 03:00 your time; tomorrow at 9:00 (Europe/Paris)");
  });

  it("says when next once, with its zone, for a reader in the item's zone", () => {
    expect(nextWords(item(), { ...reader, timeZone: "Europe/Paris" })).toBe("tomorrow, 09:00 (Europe/Paris)");
  });

  it("says nothing is still to come for an item with no next occurrence", () => {
    expect(nextWords(item({ nextAt: undefined }), reader)).toBe("nothing still to come");
  });

  it("says how often as the agent shows it back: once, or the rule with its time of day by the clock", () => {
    expect(oftenWords(item())).toBe("once");
    expect(oftenWords(item({ rrule: "FREQ=WEEKLY;BYDAY=MO" }))).toBe("every Monday at 9:00");
    expect(oftenWords(item({ rrule: "FREQ=MONTHLY;BYMONTHDAY=1" }))).toBe("on the 1st of each month at 9:00");
    expect(oftenWords(item({ rrule: "FREQ=MINUTELY;INTERVAL=30" }))).toBe("every 30 minutes");
  });

  it("names who asked: you, the template for a routine the agent asked for itself, else the owner or a member by short inbox", () => {
    const agent = "b".repeat(64);
    expect(askedByWords(item({ askedByInboxId: agent, askedByRole: ScheduleAskerRole.MEMBER }), OWNER, agent)).toBe(
      "the template",
    );
    // As the claims service marks it, when the page does not know the agent's inbox.
    expect(askedByWords(item({ askedByInboxId: agent, askedByRole: ScheduleAskerRole.TEMPLATE }), OWNER)).toBe(
      "the template",
    );
    expect(askedByWords(item(), OWNER)).toBe("you");
    expect(askedByWords(item(), ANA)).toBe("the owner, a1b2c3…8f90");
    expect(askedByWords(item({ askedByInboxId: ANA, askedByRole: ScheduleAskerRole.MEMBER }), OWNER)).toBe(
      "a member, ffee00…ccdd",
    );
  });

  it("says whether it is active, done or paused, and why a pause the owner did not ask for happened", () => {
    expect(stateWords(item())).toBe("active");
    expect(stateWords(item({ nextAt: undefined }))).toBe("done");
    expect(stateWords(item({ paused: true, pause: SchedulePause.ASKED }))).toBe("paused");
    expect(stateWords(item({ paused: true, pause: SchedulePause.LEFT }))).toBe(
      "paused: the agent is no longer in this conversation",
    );
    expect(stateWords(item({ paused: true, pause: SchedulePause.TRANSFERRED }))).toMatch(/changed owner/);
  });

  it("offers cancel always, pause while it is to come, and resume only where it could fire again", () => {
    expect(actionsFor(item(), NOW)).toEqual(["pause", "cancel"]);
    expect(actionsFor(item({ nextAt: undefined }), NOW)).toEqual(["cancel"]);
    expect(actionsFor(item({ paused: true }), NOW)).toEqual(["resume", "cancel"]);
    // A one-time item whose moment passed while paused: the pool would refuse its resume.
    const passed = timestampFromMs(NOW - 60_000);
    expect(actionsFor(item({ paused: true, nextAt: passed }), NOW)).toEqual(["cancel"]);
    expect(actionsFor(item({ paused: true, nextAt: passed, rrule: "FREQ=DAILY" }), NOW)).toEqual(["resume", "cancel"]);
  });

  it("puts the items under their conversations' names in the record's order, an unnamed one last by its short id", () => {
    const items = [
      item({ id: "sch_a", conversationId: CLUB, text: "book the table" }),
      item({ id: "sch_b", text: "call the hotel" }),
      item({ id: "sch_c", conversationId: "group-left-behind-0003", text: "water the plants" }),
    ];
    const conversations = [
      { conversationId: TRIP, name: "Lisbon trip" },
      { conversationId: CLUB, name: "Dinner club" },
      { conversationId: "group-quiet-0004", name: "Quiet" },
    ];
    const groups = reminderGroups(items, conversations, OWNER, reader);
    expect(groups.map((g) => [g.name, g.lines.map((l) => l.what)])).toEqual([
      ["Lisbon trip", ["call the hotel"]],
      ["Dinner club", ["book the table"]],
      ["conversation group-…0003", ["water the plants"]],
    ]);
  });

  it("makes a whole line of a member's weekly routine", () => {
    const line = reminderLine(
      item({
        kind: ScheduleKind.ROUTINE,
        text: "post the week's plan",
        rrule: "FREQ=WEEKLY;BYDAY=MO",
        askedByInboxId: ANA,
        askedByRole: ScheduleAskerRole.MEMBER,
        nextAt: timestampFromMs(Date.parse("2026-12-07T08:00:00Z")),
      }),
      OWNER,
      reader,
    );
    expect(line).toEqual({
      id: "sch_000000000000000000000001",
      kind: "routine",
      what: "post the week's plan",
      next: "7 Dec, 03:00 your time; Monday 7 December at 9:00 (Europe/Paris)",
      often: "every Monday at 9:00",
      askedBy: "a member, ffee00…ccdd",
      state: "active",
      paused: false,
      actions: ["pause", "cancel"],
      moveFrom: "09:00",
    });
  });

  it("offers a move from its time in its own zone while it is to come and its rule has one time of day", () => {
    expect(moveFrom(item())).toBe("09:00");
    expect(moveFrom(item({ rrule: "FREQ=WEEKLY;BYDAY=MO", paused: true }))).toBe("09:00");
    expect(moveFrom(item({ nextAt: undefined }))).toBeUndefined();
    // A rule with hours of its own, or more than once a day, has no one time to move.
    expect(moveFrom(item({ rrule: "FREQ=DAILY;BYHOUR=9,17" }))).toBeUndefined();
    expect(moveFrom(item({ rrule: "FREQ=MINUTELY;INTERVAL=30" }))).toBeUndefined();
  });

  it("reads the new time for a move as HH:MM, and a one-time item's day when given", () => {
    expect(moveAsk("18:30")).toEqual({ time: "18:30", date: "" });
    expect(moveAsk(" 07:05 ", "2026-12-24")).toEqual({ time: "07:05", date: "2026-12-24" });
  });

  it("tells how to ask the agent for one when it keeps none", () => {
    expect(emptyWords("Concierge")).toContain('"Concierge, remind us Friday at 6 to book the table"');
    expect(emptyWords(" ")).toContain('"the agent, remind us');
  });
});
