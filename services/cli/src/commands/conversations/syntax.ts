// The syntax of an agent's other conversations (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const CONVERSATION_COMMANDS = {
  "add-to": {
    args: ["ID", "INVITE"],
    options: ["mode", "cooldown", "tools", "second-agent"],
    synopsis:
      "ID INVITE [--mode auto|speak|mention|paused] [--cooldown SECONDS] [--tools shared|none] [--second-agent]",
    summary:
      "add my running agent to another Convos conversation (its invite): the same agent, knowing what I taught it; what members say there stays there; --mode and --cooldown as participation, there; --tools none: its number, mailbox and wallet do not act there; --second-agent where one of its template is already there",
  },
  conversations: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary:
      "the conversations my agent is in, one a line: id, name (the home marked), state, when it speaks there, its tools there",
  },
  leave: {
    args: ["ID", "CONVERSATION"],
    options: [],
    synopsis: "ID CONVERSATION",
    summary:
      "take my agent out of one of its conversations (its id, as `conversations` lists it); it stays in the others",
  },
} as const satisfies Record<string, CommandSyntax>;
