// The words of the command line every command shares: the options parseArgs
// (node:util) reads, the global ones, and the shape of a command's syntax.
// Each area's commands/<area>/syntax.ts holds its commands' syntax;
// command-line/table.ts puts them in one table.

/** The options of parseArgs (node:util); a command takes those its syntax names, and the global ones. */
export const OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
  force: { type: "boolean" },
  version: { type: "string" },
  q: { type: "string" },
  category: { type: "string" },
  sort: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  archived: { type: "boolean" },
  live: { type: "boolean" },
  model: { type: "string" },
  config: { type: "string", multiple: true },
  directive: { type: "string" },
  carry: { type: "string" },
  versions: { type: "string" },
  ended: { type: "boolean" },
  "daily-limit": { type: "string" },
  "member-sms": { type: "string" },
  "member-email": { type: "string" },
  "member-crypto": { type: "string" },
  "outsider-reply": { type: "string" },
  approvals: { type: "string" },
  mode: { type: "string" },
  cooldown: { type: "string" },
  "from-convos": { type: "string" },
  "dry-run": { type: "boolean" },
  notes: { type: "string" },
  "acknowledge-wallet-removal": { type: "boolean" },
  "second-agent": { type: "boolean" },
  off: { type: "boolean" },
  note: { type: "string" },
  review: { type: "string" },
  template: { type: "string" },
  all: { type: "boolean" },
  "review-requested": { type: "boolean" },
  tools: { type: "string" },
  "fund-wei": { type: "string" },
  "max-live-tools": { type: "string" },
  resolve: { type: "boolean" },
  expired: { type: "boolean" },
  health: { type: "boolean" },
  secret: { type: "string", multiple: true },
  feedback: { type: "boolean" },
  offer: { type: "string" },
  adopt: { type: "string" },
  profile: { type: "string" },
  conversation: { type: "string" },
  yes: { type: "boolean" },
  no: { type: "boolean" },
  "convos-home": { type: "string" },
  "convos-env": { type: "string" },
  invite: { type: "string" },
  "jwks-url": { type: "string" },
  messages: { type: "string" },
  share: { type: "string" },
  bound: { type: "string", multiple: true },
  "false-alarm": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
export const GLOBAL: readonly OptionName[] = ["url", "key", "json", "help"];

export interface CommandSyntax {
  /** Positional argument names, in order; a last one ending in "..." takes one or more. */
  args: readonly string[];
  options: readonly OptionName[];
  /** The arguments as shown in usage texts. */
  synopsis: string;
  summary: string;
}

/** The paging options as usage texts show them. */
export const PAGE = "[--limit N] [--cursor C]";
