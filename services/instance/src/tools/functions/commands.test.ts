// The offline model's phone commands (commands.ts), pure: a calendar event
// added or deleted on the requester's phone, read from a fixed grammar. The
// other commands are tested with the gate in tools.int.test.ts.
import { describe, expect, it } from "vitest";
import { calendarSpan, offlineCommand } from "./commands.js";

describe("the offline model's calendar commands", () => {
  it("adds an event of an hour in UTC unless told a length and a zone", () => {
    expect(offlineCommand("Planner, add Dinner with Bea on 2026-12-04 at 19:30 to my calendar", "Planner")).toEqual({
      name: "add_calendar_event",
      args: {
        title: "Dinner with Bea",
        start: "2026-12-04T19:30:00+00:00",
        end: "2026-12-04T20:30:00+00:00",
        time_zone: "UTC",
      },
    });
    expect(
      offlineCommand("add Flight TP 1234 on 2026-05-02 at 9:00 for 2 hours in Europe/Lisbon to my calendar."),
    ).toEqual({
      name: "add_calendar_event",
      args: {
        title: "Flight TP 1234",
        start: "2026-05-02T09:00:00+01:00",
        end: "2026-05-02T11:00:00+01:00",
        time_zone: "Europe/Lisbon",
      },
    });
    expect(
      offlineCommand(
        "add Call on the beach on 2026-01-10 at 23:30 for 45 minutes in America/Los_Angeles to my calendar",
      ),
    ).toMatchObject({
      args: { title: "Call on the beach", start: "2026-01-10T23:30:00-08:00", end: "2026-01-11T00:15:00-08:00" },
    });
  });

  it("deletes an event by its id", () => {
    expect(offlineCommand("delete event evt-1a2b from my calendar")).toEqual({
      name: "delete_calendar_event",
      args: { event_id: "evt-1a2b" },
    });
    expect(offlineCommand("Planner: delete the event ABC:123 from my calendar!", "Planner")).toEqual({
      name: "delete_calendar_event",
      args: { event_id: "ABC:123" },
    });
  });

  it("keeps the length of a span across a change of summer time, each end with its own offset", () => {
    // Lisbon leaves summer time at 02:00 on 2026-10-25 (01:00 UTC).
    expect(calendarSpan("2026-10-24", "23:00", 300, "Europe/Lisbon")).toEqual({
      start: "2026-10-24T23:00:00+01:00",
      end: "2026-10-25T03:00:00+00:00",
    });
  });

  it.each([
    "add Dinner on 2026-02-30 at 19:30 to my calendar",
    "add Dinner on 2026-12-04 at 25:00 to my calendar",
    "add Dinner on 2026-12-04 at 19:30 in Mars/Olympus to my calendar",
    "add Dinner on Friday at 19:30 to my calendar",
    "add Dinner on 2026-12-04 at 19:30 to Ana's calendar",
    "what is on my calendar?",
    "delete my calendar",
  ])("reads %j as no command", (text) => {
    expect(offlineCommand(text)).toBeUndefined();
  });
});
