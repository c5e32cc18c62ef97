// The command table: every area's syntax (commands/<area>/syntax.ts) in the
// order `pool help` lists them, and the usage texts built from it (`pool
// help`, and the usage line of an argument error). main.ts runs them; no
// area imports this floor.
import type { CommandSyntax } from "../core/syntax.js";
import { KEY_COMMANDS } from "../commands/keys/syntax.js";
import { TEMPLATE_COMMANDS } from "../commands/templates/syntax.js";
import { AGENT_COMMANDS } from "../commands/agents/syntax.js";
import { CONVERSATION_COMMANDS } from "../commands/conversations/syntax.js";
import { APPROVAL_COMMANDS } from "../commands/approvals/syntax.js";
import { SCHEDULE_COMMANDS } from "../commands/schedules/syntax.js";
import { MEMORY_COMMANDS } from "../commands/memory/syntax.js";
import { ADDRESS_BOOK_COMMANDS } from "../commands/address-book/syntax.js";
import { PATTERN_COMMANDS } from "../commands/patterns/syntax.js";
import { SIGNAL_COMMANDS } from "../commands/signals/syntax.js";
import { ROLLOUT_COMMANDS } from "../commands/rollouts/syntax.js";
import { OPENCLAW_COMMANDS } from "../commands/openclaw/syntax.js";
import { RATING_COMMANDS } from "../commands/ratings/syntax.js";
import { CURATION_COMMANDS } from "../commands/curation/syntax.js";
import { VERIFY_COMMANDS } from "../commands/verify/syntax.js";

export const COMMANDS = {
  ...KEY_COMMANDS,
  ...TEMPLATE_COMMANDS,
  ...AGENT_COMMANDS,
  ...CONVERSATION_COMMANDS,
  ...APPROVAL_COMMANDS,
  ...SCHEDULE_COMMANDS,
  ...MEMORY_COMMANDS,
  ...ADDRESS_BOOK_COMMANDS,
  ...PATTERN_COMMANDS,
  ...SIGNAL_COMMANDS,
  ...ROLLOUT_COMMANDS,
  ...OPENCLAW_COMMANDS,
  ...RATING_COMMANDS,
  ...CURATION_COMMANDS,
  ...VERIFY_COMMANDS,
  help: { args: [], options: [], synopsis: "", summary: "this text" },
} as const satisfies Record<string, CommandSyntax>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export function commandUsage(name: CommandName): string {
  const c: CommandSyntax = COMMANDS[name];
  return `usage: pool [--url URL] [--key FILE] ${name}${c.synopsis ? ` ${c.synopsis}` : ""}`;
}

export function usage(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = 36;
  const lines = names.map((n) => {
    const c: CommandSyntax = COMMANDS[n];
    const left = `${n} ${c.synopsis}`;
    // A long synopsis gets its own line, the summary goes below it.
    return left.length > width
      ? `  ${left}\n  ${"".padEnd(width)}  ${c.summary}`
      : `  ${left.padEnd(width)}  ${c.summary}`;
  });
  return [
    "usage: pool [--url URL] [--key FILE] [--json] COMMAND [ARGS]",
    "",
    ...lines,
    "",
    "  --url URL   gateway (env POOL_URL; default http://127.0.0.1:8080)",
    "  --key FILE  key file (env POOL_KEY_FILE; default .data/cli/key.json)",
    "  --json      the gateway's JSON as it came, for scripts (default: a table or a few lines for people)",
  ].join("\n");
}
