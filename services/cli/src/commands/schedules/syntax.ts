// The syntax of an agent's reminders, routines and scheduled acts (docs/cli.md,
// "Schedules"); the commands are commands.ts's, and command-line/table.ts
// lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const SCHEDULE_COMMANDS = {
  schedules: {
    args: ["ID"],
    options: ["conversation"],
    synopsis: "ID [--conversation C]",
    summary:
      "an agent's reminders, routines and scheduled acts: what, when next, how often, who asked; a member names the conversation",
  },
  "schedules pause": {
    args: ["ID", "ITEM_ID"],
    options: [],
    synopsis: "ID ITEM_ID",
    summary: "pause one until it is resumed",
  },
  "schedules resume": {
    args: ["ID", "ITEM_ID"],
    options: [],
    synopsis: "ID ITEM_ID",
    summary: "resume one from its next time after now (one paused by a release or a transfer: the owner only)",
  },
  "schedules cancel": {
    args: ["ID", "ITEM_ID"],
    options: [],
    synopsis: "ID ITEM_ID",
    summary: "cancel one for good",
  },
  "schedules move": {
    args: ["ID", "ITEM_ID", "WHEN..."],
    options: [],
    synopsis: "ID ITEM_ID HH:MM [YYYY-MM-DD]",
    summary:
      "move one to another local time in its time zone, keeping its days (a one-time one to the day given too); the owner only",
  },
} as const satisfies Record<string, CommandSyntax>;
