// The syntax of checking an agent's badge and birth certificate, and its
// statement of what it may do (docs/cli.md); the commands are commands.ts's
// and statement.ts's, and command-line/table.ts lists every area's.
import type { CommandSyntax } from "../../core/syntax.js";

export const VERIFY_COMMANDS = {
  "verify-agent": {
    args: ["INBOX"],
    options: ["profile", "conversation", "convos-home", "convos-env", "invite", "jwks-url"],
    synopsis:
      "INBOX (--profile FILE | --conversation ID [--convos-home DIR] [--convos-env local|dev|production]) [--invite URL] [--jwks-url URL]",
    summary:
      "check an agent's verified badge (against the pool's JWKS) and birth certificate (each signature against XMTP_API_URL): its template, creator, owner, parent",
  },
  "verify-statement": {
    args: ["INBOX"],
    options: ["messages", "jwks-url"],
    synopsis: "INBOX --messages FILE [--jwks-url URL]",
    summary:
      "check an agent's latest statement of what it may do in a dump of its conversation's messages: signed by the pool (its JWKS), and its words say what it signed",
  },
} as const satisfies Record<string, CommandSyntax>;
