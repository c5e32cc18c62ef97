// Command line parsing (node:util parseArgs): the command and its
// arguments checked against its syntax (command-syntax.ts), option values
// read into what the commands take.
import { parseArgs } from "node:util";
import {
  APPROVAL_PLACE_NAMES,
  GRANT_NAMES,
  MAX_COOLDOWN_SECONDS,
  NOT_A_TRUST_LEVEL,
  OUTSIDER_REPLY_NAMES,
  PARTICIPATION_MODE_NAMES,
  ROLLOUT_SIGNAL_NAMES,
  ROLLOUT_SIGNALS,
  isTrustLevelName,
  type ApprovalPlaceName,
  type GrantName,
  type OutsiderReplyName,
  type ParticipationModeName,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import { parseEther } from "viem";
import { COMMANDS, GLOBAL, OPTIONS, type CommandName, type CommandSyntax } from "./command-syntax.js";
import type { BoundsArgs } from "./rollout-commands.js";
import { UsageError } from "./errors.js";

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
  /** `--yes` or `--no` of approve: the answer. */
  approve?: boolean;
  /** `--notes TEXT`: release notes of update, patch and rollback. */
  notes?: string;
  /** `--acknowledge-wallet-removal` of update, patch and rollback: signed (docs/templates.md, "A version without the wallet"). */
  acknowledgeWalletRemoval?: boolean;
  /** `--second-agent` of claim and add-to: confirms a second agent of the template in the conversation, signed. */
  secondAgent?: boolean;
  /** `--tools shared|none` of add-to: whether the agent's tools act in that conversation. */
  conversationTools?: ConversationToolsName;
  /** ENTRY_ID... of memory-share, and `--off`: back to the conversation each came from. */
  entryIds?: string[];
  off?: boolean;
  /** `--review TEXT` of rate. */
  review?: string;
  /** `--note TEXT` of relist and dismiss. */
  note?: string;
  /** `--tools`, `--fund-wei` and `--max-live-tools` of grant-tools. */
  grantTools?: string;
  fundWei?: string;
  maxLiveTools?: number;
  /** `--template ID` of reports and curation-log. */
  template?: string;
  /** `--versions 6,7` of signals: the versions to compare. */
  versions?: string[];
  all: boolean;
  reviewRequested: boolean;
  /** `--expired` and `--health` of patterns. */
  expired: boolean;
  health: boolean;
  /** `--secret NAME=VALUE` of memory-import, by name. */
  secrets?: Record<string, string>;
  /** `--feedback` of memory-list. */
  feedback?: boolean;
  /** The five options of `permissions`, by the REST body's names; only those given. */
  permissions?: PermissionArgs;
  /** `--mode` and `--cooldown` of `participation` and add-to, by the REST body's names; only those given. */
  participation?: ParticipationArgs;
  /** `--offer on|off` and `--adopt on|off` of sharing. */
  offer?: boolean;
  adopt?: boolean;
  /** verify-agent: where the agent's profile comes from, the invite, the JWKS. */
  profile?: string;
  /** verify-agent's and keygen's; participation's: the conversation it applies to (its group id). */
  conversation?: string;
  convosHome?: string;
  convosEnv?: string;
  invite?: string;
  jwksUrl?: string;
  /** `--share PERCENT` of rollout start and widen, in hundredths of a percent. */
  share?: number;
  /** `--bound SIGNAL=BOUND ...` and `--false-alarm RATE` of rollout start, by the kit's names (rolloutBoundsJson). */
  rolloutBounds?: BoundsArgs;
}

export function positiveInt(name: string, value: string, command?: CommandName): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CommandUsageError(`${name} must be a whole number, 1 or more (got "${value}")`, command);
  }
  return Number(value);
}

/** STARS of `rate`: a whole number from 1 to 5. */
export function starsArg(value: string): number {
  if (!/^[1-5]$/.test(value)) throw new CommandUsageError(`STARS must be 1, 2, 3, 4 or 5 (got "${value}")`, "rate");
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

export interface PermissionArgs {
  member_sms?: GrantName;
  member_email?: GrantName;
  member_crypto?: GrantName;
  outsider_reply?: OutsiderReplyName;
  approvals?: ApprovalPlaceName;
}

/** The options of `permissions`: the REST body's field each sets, and the names it takes. */
const PERMISSION_OPTIONS = [
  ["member-sms", "member_sms", GRANT_NAMES],
  ["member-email", "member_email", GRANT_NAMES],
  ["member-crypto", "member_crypto", GRANT_NAMES],
  ["outsider-reply", "outsider_reply", OUTSIDER_REPLY_NAMES],
  ["approvals", "approvals", APPROVAL_PLACE_NAMES],
] as const;

/** The options of `permissions` given: at least one, each by a name it takes. */
function permissionArgs(values: Record<string, unknown>, command: CommandName): PermissionArgs {
  const out: Record<string, string> = {};
  for (const [option, field, names] of PERMISSION_OPTIONS) {
    const v = values[option];
    if (typeof v !== "string") continue;
    if (!(names as readonly string[]).includes(v))
      throw new CommandUsageError(`--${option} takes ${names.join(", ")} (got "${v}")`, command);
    out[field] = v;
  }
  if (Object.keys(out).length === 0)
    throw new CommandUsageError(
      "name what to change: --member-sms, --member-email, --member-crypto, --outsider-reply or --approvals (`pool agent ID` shows them now)",
      command,
    );
  return out;
}

export interface ParticipationArgs {
  mode?: ParticipationModeName;
  cooldown_seconds?: number;
}

/** Whether an agent's tools act in one of its conversations, by the names the REST body takes. */
export const CONVERSATION_TOOLS = ["shared", "none"] as const;
export type ConversationToolsName = (typeof CONVERSATION_TOOLS)[number];

/** The options of `participation` given: at least one, a mode by its name, a cooldown in whole seconds up to a day. */
function participationArgs(values: { mode?: string; cooldown?: string }, command: CommandName): ParticipationArgs {
  const out = participationOptions(values, command);
  if (Object.keys(out).length === 0)
    throw new CommandUsageError("name what to change: --mode or --cooldown (`pool agent ID` shows them now)", command);
  return out;
}

/** `--mode` and `--cooldown` as given (none: {}), a mode by its name, a cooldown in whole seconds up to a day. */
function participationOptions(values: { mode?: string; cooldown?: string }, command: CommandName): ParticipationArgs {
  const out: ParticipationArgs = {};
  if (values.mode !== undefined) {
    if (!(PARTICIPATION_MODE_NAMES as readonly string[]).includes(values.mode))
      throw new CommandUsageError(
        `--mode takes ${PARTICIPATION_MODE_NAMES.join(", ")} (got "${values.mode}")`,
        command,
      );
    out.mode = values.mode as ParticipationModeName;
  }
  if (values.cooldown !== undefined) {
    const seconds = /^\d+$/.test(values.cooldown) ? Number(values.cooldown) : NaN;
    if (!(seconds <= MAX_COOLDOWN_SECONDS))
      throw new CommandUsageError(
        `--cooldown takes whole seconds from 0 to ${MAX_COOLDOWN_SECONDS} (got "${values.cooldown}")`,
        command,
      );
    out.cooldown_seconds = seconds;
  }
  return out;
}

/** ENTRY_ID... of memory-share: ids separated by spaces or commas, at least one. */
function entryIdsArg(value: string, command: CommandName): string[] {
  const ids = value.split(/[\s,]+/).filter(Boolean);
  if (ids.length === 0)
    throw new CommandUsageError("ENTRY_ID...: name at least one entry (`pool memory-list ID`)", command);
  return ids;
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

/** `--offer` and `--adopt` of sharing, ON_OFF of pattern-hold: "on" or "off" (what is signed). */
export function onOffArg(option: string, value: string | undefined, command: CommandName): boolean {
  if (value === "on") return true;
  if (value === "off") return false;
  throw new CommandUsageError(`${option} takes on or off${value === undefined ? "" : ` (got "${value}")`}`, command);
}

/** `--share PERCENT`: 0.01 to 99.99, at most two decimals, as hundredths of a percent (10 → 1,000). */
export function shareArg(value: string, command?: CommandName): number {
  const bp = /^\d{1,2}(\.\d{1,2})?$/.test(value.replace(/%$/, ""))
    ? Math.round(Number(value.replace(/%$/, "")) * 100)
    : 0;
  if (bp < 1 || bp > 9_999)
    throw new CommandUsageError(
      `--share takes a percent from 0.01 to 99.99, such as 10 (got "${value}"); all of them is an update: promote instead`,
      command,
    );
  return bp;
}

/** The signals a rollout bounds, by the names `--bound` takes (the REST body's) and the kit's. */
const BOUND_NAMES: Record<string, keyof BoundsArgs> = Object.fromEntries(
  ROLLOUT_SIGNALS.map((s) => [ROLLOUT_SIGNAL_NAMES[s], s]),
);

const positiveNumber = (v: string) => (/^\d*\.?\d+$/.test(v) && Number(v) > 0 ? Number(v) : undefined);

/** `--bound SIGNAL=BOUND ...` (each signal once) and `--false-alarm RATE`; the service checks their ranges. */
function boundsArgs(pairs: string[], falseAlarm: string | undefined, command: CommandName): BoundsArgs {
  const out: BoundsArgs = {};
  const names = Object.keys(BOUND_NAMES).join(", ");
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, Math.max(eq, 0)).replaceAll("-", "_");
    const key = BOUND_NAMES[name];
    if (eq < 1 || !key)
      throw new CommandUsageError(`--bound takes SIGNAL=BOUND, SIGNAL one of ${names} (got "${pair}")`, command);
    if (out[key] !== undefined) throw new CommandUsageError(`--bound ${name} is given twice`, command);
    const v = positiveNumber(pair.slice(eq + 1));
    if (v === undefined)
      throw new CommandUsageError(
        `--bound ${name} takes a number above 0: how much worse than the current version halts it, 0.5 for half again (got "${pair.slice(eq + 1)}")`,
        command,
      );
    out[key] = v;
  }
  if (falseAlarm !== undefined) {
    const v = positiveNumber(falseAlarm);
    if (v === undefined || v >= 1)
      throw new CommandUsageError(
        `--false-alarm takes a chance between 0 and 1, such as 0.05 (got "${falseAlarm}")`,
        command,
      );
    out.falseAlarm = v;
  }
  return out;
}

/** The first words of commands of several words ("rollout"), each with its second words. */
function subcommandsOf(first: string): string[] {
  return Object.keys(COMMANDS)
    .filter((n) => n.startsWith(`${first} `))
    .map((n) => n.slice(first.length + 1));
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
  let [name, ...rest] = parsed.positionals;
  // A command of several words ("address-book save"): its first word, then the rest.
  const sub = name !== undefined && rest[0] !== undefined ? `${name} ${rest[0]}` : undefined;
  if (sub !== undefined && isCommand(sub)) [name, rest] = [sub, rest.slice(1)];
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
  if (!isCommand(name)) {
    const subs = subcommandsOf(name);
    if (subs.length > 0)
      throw new CommandUsageError(
        `${name} takes one of ${subs.join(", ")}${rest[0] === undefined ? "" : ` (got "${rest[0]}")`}`,
      );
    throw new CommandUsageError(`unknown command "${name}"`);
  }
  const syntax: CommandSyntax = COMMANDS[name];
  const given = new Set((parsed.tokens ?? []).filter((t) => t.kind === "option").map((t) => t.name));
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
  const wanted: readonly string[] = name === "patterns" && out.health ? [] : syntax.args;
  // A last argument "NAME..." takes every positional from there on, space-joined.
  const many = wanted.at(-1)?.endsWith("...") === true;
  if (many ? rest.length < wanted.length : rest.length !== wanted.length) {
    const what =
      wanted.length === 0
        ? "no arguments"
        : `${many ? "at least " : ""}${wanted.length} argument${wanted.length > 1 ? "s" : ""} (${wanted.join(" ")})`;
    throw new CommandUsageError(`${name}${out.health ? " --health" : ""} takes ${what}, got ${rest.length}`, name);
  }
  if (out.health && (out.expired || values.limit !== undefined || values.cursor !== undefined)) {
    throw new CommandUsageError("patterns --health takes no --expired, --limit or --cursor", name);
  }
  wanted.forEach((a, i) => {
    out.args[a] = many && i === wanted.length - 1 ? rest.slice(i).join(" ") : (rest[i] as string);
  });
  for (const a of ["ID", "FILE", "TEMPLATE_ID", "ROLLOUT_ID", "INVITE", "INBOX_ID", "DIR", "CONVERSATION"] as const) {
    if (out.args[a] === "") throw new CommandUsageError(`${a} must not be empty`, name);
  }
  if (values.url !== undefined) out.url = values.url;
  if (values.key !== undefined) out.key = values.key;
  if (values.version !== undefined) out.version = positiveInt("--version", values.version, name);
  if (values.limit !== undefined) out.limit = positiveInt("--limit", values.limit, name);
  if (values.tools !== undefined && name === "grant-tools") out.grantTools = values.tools;
  if (values.tools !== undefined && name === "add-to") {
    if (!(CONVERSATION_TOOLS as readonly string[]).includes(values.tools))
      throw new CommandUsageError(`--tools takes ${CONVERSATION_TOOLS.join(", ")} (got "${values.tools}")`, name);
    out.conversationTools = values.tools as ConversationToolsName;
  }
  if (values["fund-wei"] !== undefined) out.fundWei = values["fund-wei"];
  if (values["max-live-tools"] !== undefined)
    out.maxLiveTools = positiveInt("--max-live-tools", values["max-live-tools"], name);
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
  if (values["acknowledge-wallet-removal"] === true) out.acknowledgeWalletRemoval = true;
  if (values["second-agent"] === true) out.secondAgent = true;
  if (values.note !== undefined) out.note = values.note;
  if (values.review !== undefined) out.review = values.review;
  if (values.template !== undefined) out.template = values.template;
  if (values.versions !== undefined) {
    const versions = values.versions
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (versions.length === 0)
      throw new CommandUsageError(`--versions takes versions, comma-separated: 6,7 (got "${values.versions}")`, name);
    out.versions = versions;
  }
  if (values.feedback !== undefined) out.feedback = values.feedback;
  if (values.secret !== undefined) out.secrets = secretsArg(values.secret, name);
  if (values.profile !== undefined) out.profile = values.profile;
  if (values.conversation !== undefined) out.conversation = values.conversation;
  if (values["convos-home"] !== undefined) out.convosHome = values["convos-home"];
  if (values["convos-env"] !== undefined) out.convosEnv = values["convos-env"];
  if (values.invite !== undefined) out.invite = values.invite;
  if (values["jwks-url"] !== undefined) out.jwksUrl = values["jwks-url"];
  if (name === "sharing") {
    out.offer = onOffArg("--offer", values.offer, name);
    out.adopt = onOffArg("--adopt", values.adopt, name);
  }
  if (name === "approve") {
    if (values.yes === values.no) throw new CommandUsageError("approve takes one answer: --yes or --no", name);
    out.approve = values.yes === true;
  }
  if (name === "keygen" && values.conversation !== undefined && values["from-convos"] === undefined)
    throw new CommandUsageError("--conversation picks an identity of --from-convos DIR: give DIR too", name);
  if (name === "permissions") out.permissions = permissionArgs(values, name);
  if (name === "participation") out.participation = participationArgs(values, name);
  if (name === "participation" && values.conversation === "")
    throw new CommandUsageError(
      "--conversation takes one of the agent's conversations (`pool conversations ID`)",
      name,
    );
  if (name === "add-to") out.participation = participationOptions(values, name);
  if (name === "memory-share") {
    out.entryIds = entryIdsArg(out.args["ENTRY_ID..."] ?? "", name);
    out.off = values.off === true;
  }
  if (name === "trust") {
    const level = trustLevelArg(out.args.LEVEL ?? "", name);
    if (level === "L4" && out.dailyLimitWei === undefined) {
      throw new CommandUsageError("L4 needs --daily-limit ETH: the most the agent may spend in a day", name);
    }
    if (level === "L1" && out.dailyLimitWei !== undefined) {
      throw new CommandUsageError("L1 uses no tool, so it has no daily spending limit: leave --daily-limit out", name);
    }
  }
  if (values.share !== undefined) out.share = shareArg(values.share, name);
  if ((name === "rollout start" || name === "rollout widen") && out.share === undefined)
    throw new CommandUsageError(`${name} needs --share PERCENT: the share of conversations, such as 10`, name);
  if (values.bound !== undefined || values["false-alarm"] !== undefined)
    out.rolloutBounds = boundsArgs(values.bound ?? [], values["false-alarm"], name);
  if (values.sort !== undefined) {
    if (!["relevance", "newest", "most_used", "top_rated"].includes(values.sort)) {
      throw new CommandUsageError(
        `--sort must be relevance, newest, most_used or top_rated (got "${values.sort}")`,
        name,
      );
    }
    out.sort = values.sort;
  }
  return out;
}
