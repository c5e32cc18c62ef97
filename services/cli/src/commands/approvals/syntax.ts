// The syntax of the questions an agent waits on its owner for (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const APPROVAL_COMMANDS = {
  approvals: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "the questions my agent is waiting on me for: each one's id, until when it waits, and the act in full",
  },
  approve: {
    args: ["ID", "QUESTION_ID"],
    options: ["yes", "no"],
    synopsis: "ID QUESTION_ID --yes|--no",
    summary: "answer one of my agent's questions, signed: --yes does the act, --no declines it",
  },
} as const satisfies Record<string, CommandSyntax>;
