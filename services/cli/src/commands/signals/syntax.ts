// The syntax of a template's versions compared (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const SIGNAL_COMMANDS = {
  signals: {
    args: ["TEMPLATE_ID"],
    options: ["versions"],
    synopsis: "TEMPLATE_ID [--versions 6,7]",
    summary:
      "my template's versions side by side over the last 30 days, per 100 answers (also for owners of its agents); default: the two newest",
  },
} as const satisfies Record<string, CommandSyntax>;
