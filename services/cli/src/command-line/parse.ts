// The command line read into what the commands take: the generic reader
// (core/args.ts) against the command table (table.ts), then each option's
// value read by the area it belongs to (commands/<area>/args.ts), and the
// checks that tie one command's options together.
import { commaList, onOffArg, positiveInt, readCommandLine, CommandUsageError } from "../core/args.js";
import { COMMANDS, type CommandName } from "./table.js";
import {
  carryArg,
  checkTrust,
  configArg,
  dailyLimitArg,
  participationArgs,
  participationOptions,
  permissionArgs,
  type ParticipationArgs,
  type PermissionArgs,
} from "../commands/agents/args.js";
import { conversationToolsArg, type ConversationToolsName } from "../commands/conversations/args.js";
import { entryIdsArg, secretsArg } from "../commands/memory/args.js";
import { boundsArgs, shareArg, type BoundsArgs } from "../commands/rollouts/args.js";
import { sortArg, type Sort } from "../commands/templates/args.js";
import type { VerifyAgentOptions } from "../commands/verify/commands.js";
import type { VerifyStatementOptions } from "../commands/verify/statement.js";

export { CommandUsageError };

/**
 * The options of every command, read. verify-agent's are VerifyAgentOptions
 * as its command takes them (where the agent's profile comes from, the
 * invite, the JWKS); their `conversation` is keygen's and participation's
 * too, the conversation it applies to (its group id).
 */
export interface ParsedCommand extends VerifyAgentOptions, VerifyStatementOptions {
  command: CommandName;
  /** Positionals by their names in COMMANDS. */
  args: Record<string, string>;
  url?: string;
  key?: string;
  /** `--json`: the gateway's JSON as it came, for scripts; without it, text for people (core/render.ts). */
  json: boolean;
  help: boolean;
  force: boolean;
  archived: boolean;
  resolve: boolean;
  live: boolean;
  version?: number;
  limit?: number;
  q?: string;
  category?: string;
  sort?: Sort;
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
  /** `--share PERCENT` of rollout start and widen, in hundredths of a percent. */
  share?: number;
  /** `--bound SIGNAL=BOUND ...` and `--false-alarm RATE` of rollout start, by the kit's names (rolloutBoundsJson). */
  rolloutBounds?: BoundsArgs;
}

/** Parses argv (without node and script); throws CommandUsageError. */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const line = readCommandLine(argv, COMMANDS, (name, values) =>
    // `patterns --health` is about the whole pool: no template.
    name === "patterns" && values.health === true ? { args: [], as: "patterns --health" } : undefined,
  );
  const { command: name, values } = line;
  const out: ParsedCommand = {
    command: name,
    args: line.args,
    help: values.help === true,
    json: values.json === true,
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
  if (out.health && (out.expired || values.limit !== undefined || values.cursor !== undefined)) {
    throw new CommandUsageError("patterns --health takes no --expired, --limit or --cursor", name);
  }
  if (values.url !== undefined) out.url = values.url;
  if (values.key !== undefined) out.key = values.key;
  if (values.version !== undefined) out.version = positiveInt("--version", values.version, name);
  if (values.limit !== undefined) out.limit = positiveInt("--limit", values.limit, name);
  if (values.tools !== undefined && name === "grant-tools") out.grantTools = values.tools;
  if (values.tools !== undefined && name === "add-to") out.conversationTools = conversationToolsArg(values.tools, name);
  if (values["fund-wei"] !== undefined) out.fundWei = values["fund-wei"];
  if (values["max-live-tools"] !== undefined)
    out.maxLiveTools = positiveInt("--max-live-tools", values["max-live-tools"], name);
  if (values.q !== undefined) out.q = values.q;
  if (values.category !== undefined) out.category = values.category;
  if (values.cursor !== undefined) out.cursor = values.cursor;
  if (values.model !== undefined) out.model = values.model;
  if (values.directive !== undefined) out.directive = values.directive;
  if (values.carry !== undefined) out.carry = carryArg(values.carry, name);
  if (values.config !== undefined) out.config = configArg(values.config, name);
  if (values["daily-limit"] !== undefined) out.dailyLimitWei = dailyLimitArg(values["daily-limit"], name);
  if (values["from-convos"] !== undefined) out.fromConvos = values["from-convos"];
  if (values.notes !== undefined) out.notes = values.notes;
  if (values["acknowledge-wallet-removal"] === true) out.acknowledgeWalletRemoval = true;
  if (values["second-agent"] === true) out.secondAgent = true;
  if (values.note !== undefined) out.note = values.note;
  if (values.review !== undefined) out.review = values.review;
  if (values.template !== undefined) out.template = values.template;
  if (values.versions !== undefined) {
    const versions = commaList(values.versions);
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
  if (values.messages !== undefined) out.messages = values.messages;
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
  if (name === "trust") checkTrust(out.args.LEVEL ?? "", out.dailyLimitWei, name);
  if (values.share !== undefined) out.share = shareArg(values.share, name);
  if ((name === "rollout start" || name === "rollout widen") && out.share === undefined)
    throw new CommandUsageError(`${name} needs --share PERCENT: the share of conversations, such as 10`, name);
  if (values.bound !== undefined || values["false-alarm"] !== undefined)
    out.rolloutBounds = boundsArgs(values.bound ?? [], values["false-alarm"], name);
  if (values.sort !== undefined) out.sort = sortArg(values.sort, name);
  return out;
}
