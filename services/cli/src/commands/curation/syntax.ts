// The syntax of the store's curation: reports, delistings, features, tool grants, notes and diffs (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import { PAGE, type CommandSyntax } from "../../core/syntax.js";

export const CURATION_COMMANDS = {
  diff: {
    args: ["ID", "FROM", "TO"],
    options: [],
    synopsis: "ID FROM TO",
    summary: "what changed between two versions: field by field, the instructions as a unified diff, the release notes",
  },
  notes: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "the release notes of each content version, newest first",
  },
  report: {
    args: ["ID", "REASON"],
    options: [],
    synopsis: "ID REASON",
    summary: "report a template in the store to the pool's operators (signed in; once while open)",
  },
  featured: { args: [], options: ["limit", "cursor"], synopsis: PAGE, summary: "the templates the operators feature" },
  appeal: {
    args: ["ID", "MESSAGE"],
    options: ["version"],
    synopsis: "ID MESSAGE [--version N]",
    summary: "ask the operators to review my delisted template as it is now (or at version N), saying what I fixed",
  },
  reports: {
    args: [],
    options: ["template", "all", "limit", "cursor"],
    synopsis: `[--template ID] [--all] ${PAGE}`,
    summary: "operators: open reports (closed ones too with --all)",
  },
  delist: {
    args: ["ID", "REASON"],
    options: [],
    synopsis: "ID REASON",
    summary: "operators: take a template out of the store and new claims; its creator and owners see REASON",
  },
  relist: {
    args: ["ID"],
    options: ["note"],
    synopsis: "ID [--note TEXT]",
    summary: "operators: put a delisted template back in the store",
  },
  decline: {
    args: ["ID", "NOTE"],
    options: [],
    synopsis: "ID NOTE",
    summary: "operators: keep a template delisted after a review; its creator sees NOTE",
  },
  dismiss: {
    args: ["ID"],
    options: ["note"],
    synopsis: "ID [--note TEXT]",
    summary: "operators: close a template's open reports, leaving it in the store",
  },
  delistings: {
    args: [],
    options: ["review-requested", "limit", "cursor"],
    synopsis: `[--review-requested] ${PAGE}`,
    summary: "operators: delisted templates, their reviews",
  },
  feature: { args: ["ID"], options: [], synopsis: "ID", summary: "operators: put a template on the featured list" },
  unfeature: { args: ["ID"], options: [], synopsis: "ID", summary: "operators: take a template off the featured list" },
  "grant-tools": {
    args: ["SUBJECT"],
    options: ["tools", "fund-wei", "max-live-tools"],
    synopsis: "TEMPLATE_ID|CREATOR_INBOX_ID [--tools sms,email] [--fund-wei WEI] [--max-live-tools N]",
    summary:
      "operators: let the pool pay for numbers, mailboxes and wallet funding under a template or a creator (none: take it back)",
  },
  "tool-grants": {
    args: [],
    options: ["limit", "cursor"],
    synopsis: PAGE,
    summary: "operators: the tool grants in force",
  },
  "curation-log": {
    args: [],
    options: ["template", "limit", "cursor"],
    synopsis: `[--template ID] ${PAGE}`,
    summary: "operators' signed actions (a creator: those about my templates)",
  },
} as const satisfies Record<string, CommandSyntax>;
