// The syntax of the pattern pool, seen from a template (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import { PAGE, type CommandSyntax } from "../../core/syntax.js";

export const PATTERN_COMMANDS = {
  patterns: {
    args: ["TEMPLATE_ID"],
    options: ["expired", "health", "limit", "cursor"],
    synopsis: `TEMPLATE_ID [--expired] ${PAGE} | --health`,
    summary:
      "what my template's agents learned and offered to the pattern pool, and its refusals; --health: the whole pool's counts",
  },
  "pattern-hold": {
    args: ["TEMPLATE_ID", "ON_OFF"],
    options: [],
    synopsis: "TEMPLATE_ID on|off",
    summary: "hold the pattern pool's lessons for my approval before my template's agents adopt them (signed), or stop",
  },
  "patterns-held": {
    args: ["TEMPLATE_ID"],
    options: ["all", "limit"],
    synopsis: "TEMPLATE_ID [--all] [--limit N]",
    summary: "the lessons that would reach my template's agents, waiting for my decision (--all: decided ones too)",
  },
  "pattern-review": {
    args: ["TEMPLATE_ID", "PATTERN_ID", "DECISION"],
    options: [],
    synopsis: "TEMPLATE_ID PATTERN_ID approve|reject",
    summary: "approve or reject one lesson for my template's agents (signed); a rejected one never reaches them",
  },
} as const satisfies Record<string, CommandSyntax>;
