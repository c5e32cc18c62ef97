// Every command's syntax: its arguments and options, and the usage texts
// built from them (`pool help`, and the usage line of an argument error).
// The rollout commands' are in rollout-syntax.ts.

import { ROLLOUT_COMMANDS } from "./rollout-syntax.js";

/** The options of parseArgs (node:util); a command takes those its syntax names, and the global ones. */
export const OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
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
  share: { type: "string" },
  bound: { type: "string", multiple: true },
  "false-alarm": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
export const GLOBAL: readonly OptionName[] = ["url", "key", "help"];

export interface CommandSyntax {
  /** Positional argument names, in order; a last one ending in "..." takes one or more. */
  args: readonly string[];
  options: readonly OptionName[];
  /** The arguments as shown in usage texts. */
  synopsis: string;
  summary: string;
}

const PAGE = "[--limit N] [--cursor C]";

export const COMMANDS = {
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
  create: {
    args: ["FILE"],
    options: [],
    synopsis: "FILE.json",
    summary: "create a private template from a content file",
  },
  get: {
    args: ["ID"],
    options: ["resolve"],
    synopsis: "ID [--resolve]",
    summary: "print one template; --resolve adds what its agents run on, with its bases applied",
  },
  update: {
    args: ["ID", "FILE"],
    options: ["version", "notes", "acknowledge-wallet-removal"],
    synopsis: "ID FILE.json [--version N] [--notes TEXT] [--acknowledge-wallet-removal]",
    summary:
      "replace the content (based on version N; default: the current one), with release notes; a version without the pool's wallet needs --acknowledge-wallet-removal",
  },
  patch: {
    args: ["ID", "FILE"],
    options: ["version", "notes", "acknowledge-wallet-removal"],
    synopsis: "ID FILE.json [--version N] [--notes TEXT] [--acknowledge-wallet-removal]",
    summary: "change only the content fields present in FILE.json",
  },
  publish: {
    args: ["ID"],
    options: ["version"],
    synopsis: "ID [--version N]",
    summary: "make the template public (the store)",
  },
  unpublish: {
    args: ["ID"],
    options: ["version"],
    synopsis: "ID [--version N]",
    summary: "make the template private again",
  },
  archive: {
    args: ["ID"],
    options: ["version"],
    synopsis: "ID [--version N]",
    summary: "archive: hidden from the store and new claims, history kept",
  },
  delete: {
    args: ["ID"],
    options: ["version"],
    synopsis: "ID [--version N]",
    summary: "delete the template and its history for good",
  },
  versions: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "version history, newest first",
  },
  instances: {
    args: ["ID"],
    options: ["live", "limit", "cursor"],
    synopsis: `ID [--live] ${PAGE}`,
    summary: "the template's instances with their instruction-sync state (creator only)",
  },
  rollback: {
    args: ["ID", "TARGET"],
    options: ["version", "notes", "acknowledge-wallet-removal"],
    synopsis: "ID TARGET [--version N] [--notes TEXT] [--acknowledge-wallet-removal]",
    summary: "new version with the content of version TARGET",
  },
  diff: {
    args: ["ID", "FROM", "TO"],
    options: [],
    synopsis: "ID FROM TO",
    summary: "what changed between two versions: field by field, the instructions as a unified diff, the release notes",
  },
  notes: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "the release notes of each content version, newest first",
  },
  browse: {
    args: [],
    options: ["q", "category", "sort", "limit", "cursor"],
    synopsis: `[--q TEXT] [--category C] [--sort relevance|newest|most_used|top_rated] ${PAGE}`,
    summary: "the public store",
  },
  models: {
    args: [],
    options: [],
    synopsis: "",
    summary: "the models a template may name on this pool, its default first",
  },
  mine: {
    args: [],
    options: ["archived", "limit", "cursor"],
    synopsis: `[--archived] ${PAGE}`,
    summary: "my templates, private ones included",
  },
  claim: {
    args: ["TEMPLATE_ID", "INVITE"],
    options: ["model", "config", "second-agent"],
    synopsis: "TEMPLATE_ID INVITE [--model M] [--config TOOL_ID=VALUE ...] [--second-agent]",
    summary:
      "add an agent of a template to a Convos conversation (its invite); you own it; --second-agent where one of the template is already there",
  },
  agents: { args: [], options: ["limit", "cursor"], synopsis: PAGE, summary: "my agents, across templates" },
  agent: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "one of my agents, with its instruction-sync state, trust level, permissions and when it speaks",
  },
  pin: { args: ["ID"], options: [], synopsis: "ID", summary: "keep my agent on the template version it runs" },
  unpin: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "let my agent follow the template's updates again (it catches up at once)",
  },
  remove: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "remove my agent for good: it leaves its conversation, its tools are released",
  },
  withdraw: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "take my share of my agent's wallet (above the pool's grant, less the fee) to my key's address",
  },
  clone: {
    args: ["ID", "INVITE"],
    options: ["directive", "carry", "model", "config"],
    synopsis:
      "ID INVITE [--directive TEXT] [--carry training,personalization,credentials] [--model M] [--config TOOL_ID=VALUE ...]",
    summary: "clone my agent into another conversation with what it learned (default carry: training,personalization)",
  },
  transfer: {
    args: ["ID", "INBOX_ID"],
    options: [],
    synopsis: "ID INBOX_ID",
    summary: "offer my agent to another inbox; it is theirs once they accept",
  },
  "withdraw-transfer": {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "take back my open offer of this agent; the agent voids it too",
  },
  accept: { args: ["ID"], options: [], synopsis: "ID", summary: "accept an agent offered to me" },
  trust: {
    args: ["ID", "LEVEL"],
    options: ["daily-limit"],
    synopsis: "ID L1|L2|L3|L4 [--daily-limit ETH]",
    summary:
      "set my agent's trust level (--daily-limit: the most its wallet may pay in a day, in ETH; L4 needs it; L2 and L3 may have it, each payment also waiting for my yes, and without it the agent pays nothing; L1 takes none)",
  },
  permissions: {
    args: ["ID"],
    options: ["member-sms", "member-email", "member-crypto", "outsider-reply", "approvals"],
    synopsis:
      "ID [--member-sms allow|ask|refuse] [--member-email allow|ask|refuse] [--member-crypto allow|ask|refuse] [--outsider-reply none|ask|answer] [--approvals conversation|direct]",
    summary:
      "set whose requests my agent acts on: whether another member may have it text, mail or pay (allow; ask: ask me first; refuse), whether it answers texts from outside (none, ask, answer) and where it asks my approval (conversation: there, for everyone to read; direct: in my direct conversation with it, the group told only that I was asked); options not given keep their current values",
  },
  participation: {
    args: ["ID"],
    options: ["mode", "cooldown", "conversation"],
    synopsis: "ID [--mode auto|speak|mention|paused] [--cooldown SECONDS] [--conversation CONVERSATION]",
    summary:
      "set when my agent speaks in its conversation: auto (speak alone with one person, mention in a group), speak, mention (only when named or replied to) or paused, and the least time between its answers (0 to 86400 seconds); an option not given keeps its current value; --conversation: in that one of its conversations (its id, as `conversations` lists it), else its home",
  },
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
  activity: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "my agent's activity log, newest first: its tool calls and how each ended",
  },
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
  lineage: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "an agent's lineage: where it was cloned from, and its clones",
  },
  dashboard: {
    args: ["TEMPLATE_ID"],
    options: [],
    synopsis: "TEMPLATE_ID",
    summary: "my template's agents: live, clones, depth, owners",
  },
  patterns: {
    args: ["TEMPLATE_ID"],
    options: ["expired", "health", "limit", "cursor"],
    synopsis: `TEMPLATE_ID [--expired] ${PAGE} | --health`,
    summary:
      "what my template's agents learned and offered to the pattern pool, and its refusals; --health: the whole pool's counts",
  },
  signals: {
    args: ["TEMPLATE_ID"],
    options: ["versions"],
    synopsis: "TEMPLATE_ID [--versions 6,7]",
    summary:
      "my template's versions side by side over the last 30 days, per 100 answers (also for owners of its agents); default: the two newest",
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
  family: {
    args: [],
    options: ["ended", "limit", "cursor"],
    synopsis: `[--ended] ${PAGE}`,
    summary: "my agents with their lineage (ended ones too with --ended)",
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
  report: {
    args: ["ID", "REASON"],
    options: [],
    synopsis: "ID REASON",
    summary: "report a template in the store to the pool's operators (signed in; once while open)",
  },
  featured: { args: [], options: ["limit", "cursor"], synopsis: PAGE, summary: "the templates the operators feature" },
  appeal: {
    args: ["ID", "MESSAGE"],
    options: ["version"],
    synopsis: "ID MESSAGE [--version N]",
    summary: "ask the operators to review my delisted template as it is now (or at version N), saying what I fixed",
  },
  reports: {
    args: [],
    options: ["template", "all", "limit", "cursor"],
    synopsis: `[--template ID] [--all] ${PAGE}`,
    summary: "operators: open reports (closed ones too with --all)",
  },
  delist: {
    args: ["ID", "REASON"],
    options: [],
    synopsis: "ID REASON",
    summary: "operators: take a template out of the store and new claims; its creator and owners see REASON",
  },
  relist: {
    args: ["ID"],
    options: ["note"],
    synopsis: "ID [--note TEXT]",
    summary: "operators: put a delisted template back in the store",
  },
  decline: {
    args: ["ID", "NOTE"],
    options: [],
    synopsis: "ID NOTE",
    summary: "operators: keep a template delisted after a review; its creator sees NOTE",
  },
  dismiss: {
    args: ["ID"],
    options: ["note"],
    synopsis: "ID [--note TEXT]",
    summary: "operators: close a template's open reports, leaving it in the store",
  },
  delistings: {
    args: [],
    options: ["review-requested", "limit", "cursor"],
    synopsis: `[--review-requested] ${PAGE}`,
    summary: "operators: delisted templates, their reviews",
  },
  feature: { args: ["ID"], options: [], synopsis: "ID", summary: "operators: put a template on the featured list" },
  unfeature: { args: ["ID"], options: [], synopsis: "ID", summary: "operators: take a template off the featured list" },
  "grant-tools": {
    args: ["SUBJECT"],
    options: ["tools", "fund-wei", "max-live-tools"],
    synopsis: "TEMPLATE_ID|CREATOR_INBOX_ID [--tools sms,email] [--fund-wei WEI] [--max-live-tools N]",
    summary:
      "operators: let the pool pay for numbers, mailboxes and wallet funding under a template or a creator (none: take it back)",
  },
  "tool-grants": {
    args: [],
    options: ["limit", "cursor"],
    synopsis: PAGE,
    summary: "operators: the tool grants in force",
  },
  rate: {
    args: ["ID", "STARS"],
    options: ["review"],
    synopsis: 'ID STARS [--review "TEXT"]',
    summary:
      "rate a template 1 to 5, with a review of at most 500 characters (an owner of its agent for a day; again replaces it)",
  },
  rating: {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary: "my rating of a template, and whether I may rate it (and why not)",
  },
  reviews: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "a template's reviews, newest first, and its ratings once there are three",
  },
  "answer-review": {
    args: ["ID", "REVIEWER", "ANSWER"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID ANSWER",
    summary: "the creator answers an owner's review of their template (once)",
  },
  "report-review": {
    args: ["ID", "REVIEWER", "REASON"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID REASON",
    summary: "report a review to the pool's operators (signed in; once)",
  },
  "review-reports": {
    args: [],
    options: ["template", "limit", "cursor"],
    synopsis: `[--template ID] ${PAGE}`,
    summary: "operators: reviews someone reported, most recently reported first",
  },
  "remove-review": {
    args: ["ID", "REVIEWER", "REASON"],
    options: [],
    synopsis: "ID REVIEWER_INBOX_ID REASON",
    summary: "operators: take a review's words out of the store (its stars still count); logged with REASON",
  },
  "curation-log": {
    args: [],
    options: ["template", "limit", "cursor"],
    synopsis: `[--template ID] ${PAGE}`,
    summary: "operators' signed actions (a creator: those about my templates)",
  },
  "verify-agent": {
    args: ["INBOX"],
    options: ["profile", "conversation", "convos-home", "convos-env", "invite", "jwks-url"],
    synopsis:
      "INBOX (--profile FILE | --conversation ID [--convos-home DIR] [--convos-env local|dev|production]) [--invite URL] [--jwks-url URL]",
    summary:
      "check an agent's verified badge (against the pool's JWKS) and birth certificate (each signature against XMTP_API_URL): its template, creator, owner, parent",
  },
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
  "address-book": {
    args: ["ID"],
    options: [],
    synopsis: "ID",
    summary:
      "my agent's address book, opened here: id, name, kind (wallet, phone, mail), value, how it was saved, when",
  },
  "address-book save": {
    args: ["ID", "NAME", "KIND", "VALUE"],
    options: [],
    synopsis: "ID NAME wallet|phone|mail VALUE",
    summary:
      "save a contact to my agent's address book, sealed to its checked key; a new value for a name and kind replaces the old",
  },
  "address-book remove": {
    args: ["ID", "CONTACT_ID..."],
    options: [],
    synopsis: "ID CONTACT_ID...",
    summary: "remove contacts from my agent's address book by id",
  },
  ...ROLLOUT_COMMANDS,
  "content-hash": {
    args: ["FILE"],
    options: [],
    synopsis: "FILE.json",
    summary: "print the contentHash of a content file (defaults filled)",
  },
  "patch-hash": { args: ["FILE"], options: [], synopsis: "FILE.json", summary: "print the patchHash of a patch file" },
  help: { args: [], options: [], synopsis: "", summary: "this text" },
} as const satisfies Record<string, CommandSyntax>;

export type CommandName = keyof typeof COMMANDS;

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
    "usage: pool [--url URL] [--key FILE] COMMAND [ARGS]",
    "",
    ...lines,
    "",
    "  --url URL   gateway (env POOL_URL; default http://127.0.0.1:8080)",
    "  --key FILE  key file (env POOL_KEY_FILE; default .data/cli/key.json)",
  ].join("\n");
}
