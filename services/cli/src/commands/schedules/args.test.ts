// The schedules commands' arguments, read by the real command-line reader
// against the real command table; nothing is sent.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../command-line/parse.js";
import { commandUsage } from "../../command-line/table.js";
import { view } from "../../command-line/views.js";
import { moveWhen } from "./commands.js";

describe("pool schedules", () => {
  it("lists an agent's items, a member's of the conversation they name", () => {
    expect(parseCommandLine(["schedules", "inst_1"])).toMatchObject({ command: "schedules", args: { ID: "inst_1" } });
    expect(parseCommandLine(["schedules", "inst_1", "--conversation", "c1"])).toMatchObject({ conversation: "c1" });
    expect(commandUsage("schedules")).toBe("usage: pool [--url URL] [--key FILE] schedules ID [--conversation C]");
  });

  it("pauses, resumes and cancels one item by its id", () => {
    for (const change of ["pause", "resume", "cancel"] as const)
      expect(parseCommandLine(["schedules", change, "inst_1", "sch_1"])).toMatchObject({
        command: `schedules ${change}`,
        args: { ID: "inst_1", ITEM_ID: "sch_1" },
      });
  });

  it("moves one item to a local time, and a one-time one to a day too, in either order", () => {
    expect(parseCommandLine(["schedules", "move", "inst_1", "sch_1", "08:30"])).toMatchObject({
      command: "schedules move",
      args: { ID: "inst_1", ITEM_ID: "sch_1", "WHEN...": "08:30" },
    });
    expect(moveWhen("08:30")).toEqual({ time: "08:30", date: "" });
    expect(moveWhen("2026-12-24 09:15")).toEqual({ time: "09:15", date: "2026-12-24" });
    expect(moveWhen("09:15 2026-12-24")).toEqual({ time: "09:15", date: "2026-12-24" });
    expect(commandUsage("schedules move")).toBe(
      "usage: pool [--url URL] [--key FILE] schedules move ID ITEM_ID HH:MM [YYYY-MM-DD]",
    );
  });

  it("leaves what is not a time for the service to name: the whole of it goes as the time", () => {
    expect(moveWhen("tomorrow at 9")).toEqual({ time: "tomorrow at 9", date: "" });
  });

  it("shows the listing as a table of what, when next, how often and who asked", () => {
    const text = view("schedules", {
      items: [
        {
          id: "sch_0123456789abcdef01234567",
          kind: "reminder",
          text: "book the table",
          next_at: "2026-12-04T17:00:00.000Z",
          rrule: "",
          time_zone: "Europe/Paris",
          asked_by_role: "member",
          pause: null,
          conversation_id: "c1",
        },
        {
          id: "sch_2",
          kind: "routine",
          text: "post the week's plan",
          next_at: "2026-12-07T08:00:00.000Z",
          rrule: "FREQ=WEEKLY;BYDAY=MO",
          time_zone: "Europe/Paris",
          asked_by_role: "owner",
          pause: "asked",
          conversation_id: "c1",
        },
      ],
    });
    const [head, first, second] = text.split("\n");
    expect(head).toMatch(/^TEXT +KIND +NEXT.* +RRULE +TIME ZONE +ASKED BY ROLE +PAUSE/);
    expect(first).toMatch(/^book the table +reminder +2026-12-04 17:00 UTC .*sch_0123456789abcdef01234567$/);
    expect(second).toMatch(/FREQ=WEEKLY;BYDAY=MO +Europe\/Paris +owner +asked/);
  });
});
