// The syntax of ratings and reviews of templates (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import { PAGE, type CommandSyntax } from "../../core/syntax.js";

export const RATING_COMMANDS = {
  rate: {
    args: ["ID", "STARS"],
    options: ["review"],
    synopsis: 'ID STARS [--review "TEXT"]',
    summary:
      "rate a template 1 to 5, with a review of at most 500 characters (an owner of its agent for a day; again replaces it)",
  },
  rating: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "my rating of a template, and whether I may rate it (and why not)",
  },
  reviews: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "a template's reviews, newest first, and its ratings once there are three",
  },
  "answer-review": {
    args: ["ID", "REVIEWER", "ANSWER"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID ANSWER",
    summary: "the creator answers an owner's review of their template (once)",
  },
  "report-review": {
    args: ["ID", "REVIEWER", "REASON"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID REASON",
    summary: "report a review to the pool's operators (signed in; once)",
  },
  "review-reports": {
    args: [],
    options: ["template", "limit", "cursor"],
    synopsis: `[--template ID] ${PAGE}`,
    summary: "operators: reviews someone reported, most recently reported first",
  },
  "remove-review": {
    args: ["ID", "REVIEWER", "REASON"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID REASON",
    summary: "operators: take a review's words out of the store (its stars still count); logged with REASON",
  },
} as const satisfies Record<string, CommandSyntax>;
