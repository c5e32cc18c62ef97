// Command line parsing (node:util parseArgs) and usage texts.
import { parseArgs } from "node:util";
import { NOT_A_TRUST_LEVEL, isTrustLevelName, type TrustLevelName } from "@convos-pool/kit";
import { parseEther } from "viem";
import { UsageError } from "./errors.js";

export type OptionName =
  | "url"
  | "key"
  | "force"
  | "version"
  | "q"
  | "category"
  | "sort"
  | "limit"
  | "cursor"
  | "archived"
  | "live"
  | "model"
  | "config"
  | "directive"
  | "carry"
  | "ended"
  | "daily-limit"
  | "from-convos"
  | "dry-run"
  | "notes"
  | "note"
  | "template"
  | "all"
  | "review-requested"
  | "resolve"
  | "expired"
  | "health"
  | "secret"
  | "feedback"
  | "offer"
  | "adopt"
  | "help";

const OPTIONS = {
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
  ended: { type: "boolean" },
  "daily-limit": { type: "string" },
  "from-convos": { type: "string" },
  "dry-run": { type: "boolean" },
  notes: { type: "string" },
  note: { type: "string" },
  template: { type: "string" },
  all: { type: "boolean" },
  "review-requested": { type: "boolean" },
  resolve: { type: "boolean" },
  expired: { type: "boolean" },
  health: { type: "boolean" },
  secret: { type: "string", multiple: true },
  feedback: { type: "boolean" },
  offer: { type: "string" },
  adopt: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const GLOBAL: readonly OptionName[] = ["url", "key", "help"];

export interface CommandSyntax {
  /** Positional argument names, in order. */
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
    options: ["force", "from-convos"],
    synopsis: "[--force] [--from-convos DIR]",
    summary:
      "create a local key (mode 0600), or take a Convos CLI's own from its --home DIR; print {address, inbox_id}",
  },
  whoami: { args: [], options: [], synopsis: "", summary: "print {address, inbox_id} of the key" },
  login: {
    args: [],
    options: [],
    synopsis: "",
    summary: "sign in (CreateSession); the token is stored beside the key",
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
    options: ["version", "notes"],
    synopsis: "ID FILE.json [--version N] [--notes TEXT]",
    summary: "replace the content (based on version N; default: the current one), with release notes",
  },
  patch: {
    args: ["ID", "FILE"],
    options: ["version", "notes"],
    synopsis: "ID FILE.json [--version N] [--notes TEXT]",
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
    options: ["version", "notes"],
    synopsis: "ID TARGET [--version N] [--notes TEXT]",
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
    synopsis: `[--q TEXT] [--category C] [--sort relevance|newest|most_used] ${PAGE}`,
    summary: "the public store",
  },
  mine: {
    args: [],
    options: ["archived", "limit", "cursor"],
    synopsis: `[--archived] ${PAGE}`,
    summary: "my templates, private ones included",
  },
  claim: {
    args: ["TEMPLATE_ID", "INVITE"],
    options: ["model", "config"],
    synopsis: "TEMPLATE_ID INVITE [--model M] [--config TOOL_ID=VALUE ...]",
    summary: "add an agent of a template to a Convos conversation (its invite); you own it",
  },
  agents: { args: [], options: ["limit", "cursor"], synopsis: PAGE, summary: "my agents, across templates" },
  agent: { args: ["ID"], options: [], synopsis: "ID", summary: "one of my agents, with its instruction-sync state" },
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
  accept: { args: ["ID"], options: [], synopsis: "ID", summary: "accept an agent offered to me" },
  trust: {
    args: ["ID", "LEVEL"],
    options: ["daily-limit"],
    synopsis: "ID L1|L2|L3|L4 [--daily-limit ETH]",
    summary: "set my agent's trust level (L4 needs --daily-limit: the most it may spend in a day, in ETH)",
  },
  activity: {
    args: ["ID"],
    options: ["limit", "cursor"],
    synopsis: `ID ${PAGE}`,
    summary: "my agent's activity log, newest first: its tool calls and how each ended",
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
  "curation-log": {
    args: [],
    options: ["template", "limit", "cursor"],
    synopsis: `[--template ID] ${PAGE}`,
    summary: "operators' signed actions (a creator: those about my templates)",
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
  sharing: {
    args: ["ID"],
    options: ["offer", "adopt"],
    synopsis: "ID --offer on|off --adopt on|off",
    summary: "let my agent offer its lessons to, and adopt lessons from, the pattern pool (both off until turned on)",
  },
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

/** A UsageError that knows which command it is about (for its usage line). */
export class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

export interface ParsedCommand {
  command: CommandName;
  /** Positionals by their names in COMMANDS. */
  args: Record<string, string>;
  url?: string;
  key?: string;
  help: boolean;
  force: boolean;
  archived: boolean;
  resolve: boolean;
  live: boolean;
  version?: number;
  limit?: number;
  q?: string;
  category?: string;
  sort?: string;
  cursor?: string;
  model?: string;
  /** `--config TOOL_ID=VALUE`, by tool id. */
  config?: Record<string, string>;
  directive?: string;
  /** `--carry a,b`: the kinds of memory a clone brings. */
  carry?: string[];
  ended: boolean;
  /** `--dry-run` of import: print the template and the report, create nothing. */
  dryRun: boolean;
  /** `--daily-limit ETH`, in wei. */
  dailyLimitWei?: bigint;
  /** `--from-convos DIR`: a Convos CLI's home, whose identity becomes the key. */
  fromConvos?: string;
  /** `--notes TEXT`: release notes of update, patch and rollback. */
  notes?: string;
  /** `--note TEXT` of relist and dismiss. */
  note?: string;
  /** `--template ID` of reports and curation-log. */
  template?: string;
  all: boolean;
  reviewRequested: boolean;
  /** `--expired` and `--health` of patterns. */
  expired: boolean;
  health: boolean;
  /** `--secret NAME=VALUE` of memory-import, by name. */
  secrets?: Record<string, string>;
  /** `--feedback` of memory-list. */
  feedback?: boolean;
  /** `--offer on|off` and `--adopt on|off` of sharing. */
  offer?: boolean;
  adopt?: boolean;
}

export function positiveInt(name: string, value: string, command?: CommandName): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CommandUsageError(`${name} must be a whole number, 1 or more (got "${value}")`, command);
  }
  return Number(value);
}

/** LEVEL of `trust`: "L1" to "L4" as people write them (a lower-case l too). */
export function trustLevelArg(value: string, command?: CommandName): TrustLevelName {
  const name = value.toUpperCase();
  if (!isTrustLevelName(name)) throw new CommandUsageError(`LEVEL ${NOT_A_TRUST_LEVEL} (got "${value}")`, command);
  return name;
}

/** `--daily-limit` in ETH ("0.05"), as wei: above 0, at most 18 decimals. */
export function dailyLimitArg(value: string, command?: CommandName): bigint {
  const wei = /^\d+(\.\d{1,18})?$/.test(value) ? parseEther(value) : 0n;
  if (wei <= 0n)
    throw new CommandUsageError(`--daily-limit takes an amount of ETH above 0, such as 0.05 (got "${value}")`, command);
  return wei;
}

/** `--secret NAME=VALUE`, each name once. */
function secretsArg(pairs: string[], command: CommandName): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1)
      throw new CommandUsageError(
        `--secret takes NAME=VALUE, NAME as the exported file names it (got "${pair.slice(0, 40)}")`,
        command,
      );
    const name = pair.slice(0, eq);
    if (Object.hasOwn(out, name)) throw new CommandUsageError(`--secret ${name} is given twice`, command);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/** `--offer` and `--adopt` of sharing: "on" or "off", both required (the owner signs both). */
function onOffArg(option: string, value: string | undefined, command: CommandName): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new CommandUsageError(`${option} takes on or off${value === undefined ? "" : ` (got "${value}")`}`, command);
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Parses argv (without node and script); throws CommandUsageError. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; tokens: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    const first = argv.find((a) => !a.startsWith("-"));
    throw new CommandUsageError(
      (err as Error).message.split("\n")[0] ?? "bad arguments",
      first && isCommand(first) ? first : undefined,
    );
  }
  const [name, ...rest] = parsed.positionals;
  const { values } = parsed;
  if (name === undefined) {
    if (values.help)
      return {
        command: "help",
        args: {},
        help: true,
        force: false,
        archived: false,
        live: false,
        ended: false,
        dryRun: false,
        all: false,
        reviewRequested: false,
        resolve: false,
        expired: false,
        health: false,
      };
    throw new CommandUsageError("no command given");
  }
  if (!isCommand(name)) throw new CommandUsageError(`unknown command "${name}"`);
  const syntax: CommandSyntax = COMMANDS[name];
  const given = new Set((parsed.tokens ?? []).filter((t) => t.kind === "option").map((t) => t.name as OptionName));
  for (const opt of given) {
    if (!GLOBAL.includes(opt) && !syntax.options.includes(opt)) {
      throw new CommandUsageError(`${name} takes no --${opt}`, name);
    }
  }
  const out: ParsedCommand = {
    command: name,
    args: {},
    help: values.help === true,
    force: values.force === true,
    archived: values.archived === true,
    resolve: values.resolve === true,
    live: values.live === true,
    ended: values.ended === true,
    dryRun: values["dry-run"] === true,
    all: values.all === true,
    reviewRequested: values["review-requested"] === true,
    expired: values.expired === true,
    health: values.health === true,
  };
  if (out.help) return out;
  // `patterns --health` is about the whole pool: no template.
  const wanted = name === "patterns" && out.health ? [] : syntax.args;
  if (rest.length !== wanted.length) {
    const what =
      wanted.length === 0
        ? "no arguments"
        : `${wanted.length} argument${wanted.length > 1 ? "s" : ""} (${wanted.join(" ")})`;
    throw new CommandUsageError(`${name}${out.health ? " --health" : ""} takes ${what}, got ${rest.length}`, name);
  }
  if (out.health && (out.expired || values.limit !== undefined || values.cursor !== undefined)) {
    throw new CommandUsageError("patterns --health takes no --expired, --limit or --cursor", name);
  }
  wanted.forEach((a, i) => {
    out.args[a] = rest[i] as string;
  });
  for (const a of ["ID", "FILE", "TEMPLATE_ID", "INVITE", "INBOX_ID", "DIR"] as const) {
    if (out.args[a] === "") throw new CommandUsageError(`${a} must not be empty`, name);
  }
  if (values.url !== undefined) out.url = values.url;
  if (values.key !== undefined) out.key = values.key;
  if (values.version !== undefined) out.version = positiveInt("--version", values.version, name);
  if (values.limit !== undefined) out.limit = positiveInt("--limit", values.limit, name);
  if (values.q !== undefined) out.q = values.q;
  if (values.category !== undefined) out.category = values.category;
  if (values.cursor !== undefined) out.cursor = values.cursor;
  if (values.model !== undefined) out.model = values.model;
  if (values.directive !== undefined) out.directive = values.directive;
  if (values.carry !== undefined) {
    const kinds = values.carry
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean);
    const unknown = kinds.find((k) => !["training", "personalization", "credentials"].includes(k));
    if (unknown !== undefined || kinds.length === 0) {
      throw new CommandUsageError(
        `--carry takes kinds of memory, comma-separated: training, personalization, credentials (got "${values.carry}")`,
        name,
      );
    }
    out.carry = kinds;
  }
  if (values.config !== undefined) {
    out.config = {};
    for (const pair of values.config) {
      const eq = pair.indexOf("=");
      if (eq < 1) throw new CommandUsageError(`--config takes TOOL_ID=VALUE (got "${pair}")`, name);
      const id = pair.slice(0, eq);
      if (Object.hasOwn(out.config, id)) throw new CommandUsageError(`--config ${id} is given twice`, name);
      out.config[id] = pair.slice(eq + 1);
    }
  }
  if (values["daily-limit"] !== undefined) out.dailyLimitWei = dailyLimitArg(values["daily-limit"], name);
  if (values["from-convos"] !== undefined) out.fromConvos = values["from-convos"];
  if (values.notes !== undefined) out.notes = values.notes;
  if (values.note !== undefined) out.note = values.note;
  if (values.template !== undefined) out.template = values.template;
  if (values.feedback !== undefined) out.feedback = values.feedback;
  if (values.secret !== undefined) out.secrets = secretsArg(values.secret, name);
  if (name === "sharing") {
    out.offer = onOffArg("--offer", values.offer, name);
    out.adopt = onOffArg("--adopt", values.adopt, name);
  }
  if (name === "trust") {
    const level = trustLevelArg(out.args.LEVEL ?? "", name);
    if (level === "L4" && out.dailyLimitWei === undefined) {
      throw new CommandUsageError("L4 needs --daily-limit ETH: the most the agent may spend in a day", name);
    }
    if (level !== "L4" && out.dailyLimitWei !== undefined) {
      throw new CommandUsageError(`only L4 has a daily spending limit: leave --daily-limit out for ${level}`, name);
    }
  }
  if (values.sort !== undefined) {
    if (!["relevance", "newest", "most_used"].includes(values.sort)) {
      throw new CommandUsageError(`--sort must be relevance, newest or most_used (got "${values.sort}")`, name);
    }
    out.sort = values.sort;
  }
  return out;
}
