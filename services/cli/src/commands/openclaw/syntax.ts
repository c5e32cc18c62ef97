// The syntax of OpenClaw workspaces in and out (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const OPENCLAW_COMMANDS = {
  import: {
    args: ["DIR"],
    options: ["dry-run"],
    synopsis: "DIR [--dry-run]",
    summary:
      "create a private template from an OpenClaw workspace (IDENTITY.md, SOUL.md, AGENTS.md, TOOLS.md); print it and what went where",
  },
  export: {
    args: ["ID", "DIR"],
    options: [],
    synopsis: "ID DIR",
    summary: "write a template as an OpenClaw workspace (IDENTITY.md, SOUL.md, AGENTS.md, TOOLS.md) into DIR",
  },
} as const satisfies Record<string, CommandSyntax>;
