// The syntax of an agent's memory, and its sharing with the pattern pool (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const MEMORY_COMMANDS = {
  "memory-export": {
    args: ["ID", "FILE"],
    options: [],
    synopsis: "ID FILE",
    summary:
      "write my agent's memory to FILE (0600), sealed to me on the way: entries, template, conversation summary; secrets named, not included",
  },
  "memory-import": {
    args: ["ID", "FILE"],
    options: ["secret"],
    synopsis: "ID FILE [--secret NAME=VALUE ...]",
    summary:
      "merge an agent-memory file into my agent, sealed to its checked key; --secret supplies a named secret again (memory:<entry id>)",
  },
  "memory-list": {
    args: ["ID"],
    options: ["feedback"],
    synopsis: "ID [--feedback]",
    summary: "what my agent learned: id, kind, source, text (--feedback: from reactions and corrections only)",
  },
  "memory-forget": {
    args: ["ID", "ENTRY_IDS"],
    options: [],
    synopsis: "ID ENTRY_ID[,ENTRY_ID...]",
    summary: "delete entries of my agent's memory by id",
  },
  "memory-share": {
    args: ["ID", "ENTRY_ID..."],
    options: ["off"],
    synopsis: "ID ENTRY_ID... [--off]",
    summary:
      "let my agent use these entries of its memory in all its conversations; --off: only in the conversation each came from again",
  },
  sharing: {
    args: ["ID"],
    options: ["offer", "adopt"],
    synopsis: "ID --offer on|off --adopt on|off",
    summary: "let my agent offer its lessons to, and adopt lessons from, the pattern pool (both off until turned on)",
  },
} as const satisfies Record<string, CommandSyntax>;
