// The syntax of the key and session commands and `sign` (docs/cli.md); the
// commands are commands.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const KEY_COMMANDS = {
  keygen: {
    args: [],
    options: ["force", "from-convos", "conversation"],
    synopsis: "[--force] [--from-convos DIR [--conversation ID]]",
    summary:
      "create a local key (mode 0600), or take the Convos identity of its --home DIR (the one in conversation ID, where it keeps one per conversation); print {address, inbox_id}",
  },
  whoami: { args: [], options: [], synopsis: "", summary: "print {address, inbox_id} of the key" },
  login: {
    args: [],
    options: [],
    synopsis: "",
    summary: "sign in (a Sign-In with Ethereum message); the token is stored beside the key",
  },
  logout: {
    args: [],
    options: [],
    synopsis: "",
    summary: "sign out: the stored session is ended on the server and deleted here",
  },
  sign: {
    args: ["OPERATION", "FIELDS_JSON"],
    options: [],
    synopsis: "OPERATION FIELDS_JSON",
    summary: "print a signature object for a hand-made request",
  },
} as const satisfies Record<string, CommandSyntax>;
