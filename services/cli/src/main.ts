// `pool`: the creator's command line for the gateway's REST API.
// Run as `npm run -s pool -- <command>` (see docs/cli.md).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CommandUsageError, parseCommandLine, type ParsedCommand } from "./command-line/parse.js";
import { COMMANDS, commandUsage, isCommand, usage, type CommandName } from "./command-line/table.js";
import { view } from "./command-line/views.js";
import { onOffArg, positiveInt } from "./core/args.js";
import { trustLevelArg } from "./commands/agents/args.js";
import { starsArg } from "./commands/ratings/args.js";
import * as agents from "./commands/agents/commands.js";
import * as agentSettings from "./commands/agents/settings.js";
import * as keys from "./commands/keys/commands.js";
import * as templates from "./commands/templates/commands.js";
import * as curation from "./commands/curation/commands.js";
import * as addressBook from "./commands/address-book/commands.js";
import * as approvals from "./commands/approvals/commands.js";
import * as schedules from "./commands/schedules/commands.js";
import * as conversations from "./commands/conversations/commands.js";
import * as memory from "./commands/memory/commands.js";
import * as patterns from "./commands/patterns/commands.js";
import * as ratings from "./commands/ratings/commands.js";
import * as rollouts from "./commands/rollouts/commands.js";
import * as signals from "./commands/signals/commands.js";
import { CliError, HttpError, UsageError } from "./core/errors.js";
import { DEFAULT_URL, normalizeUrl, type Context } from "./core/http.js";
import { DEFAULT_KEY_FILE } from "./core/key-store.js";
import * as openclaw from "./commands/openclaw/commands.js";
import * as verify from "./commands/verify/commands.js";
import * as verifyStatement from "./commands/verify/statement.js";

export interface Io {
  env: Record<string, string | undefined>;
  /** The directory relative paths are taken from. */
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The terminal's width when stdout is one; absent: tables are not cut (a pipe, a file, a test). */
  columns?: number | undefined;
  fetch?: typeof fetch;
  /** Sets what Ctrl-C (SIGINT) does while a command waits (Context.onInterrupt). */
  onInterrupt?: (cancel: (() => void) | undefined) => void;
  /** How a command waits (Context.pause); absent: real time. */
  pause?: (ms: number) => Promise<unknown>;
}

export function contextOf(p: Pick<ParsedCommand, "url" | "key">, io: Io): Context {
  return {
    url: normalizeUrl(p.url ?? io.env.POOL_URL ?? DEFAULT_URL),
    keyFile: resolve(io.cwd, p.key ?? io.env.POOL_KEY_FILE ?? DEFAULT_KEY_FILE),
    cwd: io.cwd,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.env.XMTP_API_URL ? { xmtpApiUrl: io.env.XMTP_API_URL } : {}),
    ...(io.env.POOL_ID ? { poolId: io.env.POOL_ID } : {}),
    progress: (line) => io.stderr(`${line}\n`),
    ...(io.onInterrupt ? { onInterrupt: io.onInterrupt } : {}),
    ...(io.pause ? { pause: io.pause } : {}),
  };
}

/** What parseCommandLine sets for the command being run (command-line/parse.ts); missing, the two disagree. */
function parsed<T>(value: T | undefined, options: string): T {
  if (value === undefined) throw new Error(`${options}: not read from the command line before the command ran`);
  return value;
}

async function dispatch(p: ParsedCommand, ctx: Context): Promise<unknown> {
  const a = p.args;
  const id = a.ID as string;
  switch (p.command) {
    case "help":
      return undefined;
    case "keygen":
      return keys.keygen(ctx, { force: p.force, fromConvos: p.fromConvos, conversation: p.conversation });
    case "whoami":
      return keys.whoami(ctx);
    case "login":
      return keys.loginCommand(ctx);
    case "create":
      return templates.createTemplate(ctx, a.FILE as string);
    case "get":
      return templates.getTemplate(ctx, id, p.resolve);
    case "update":
      return templates.updateTemplate(ctx, id, a.FILE as string, p.version, p.notes, p.acknowledgeWalletRemoval);
    case "patch":
      return templates.patchTemplate(ctx, id, a.FILE as string, p.version, p.notes, p.acknowledgeWalletRemoval);
    case "publish":
      return templates.publishTemplate(ctx, id, p.version);
    case "unpublish":
      return templates.unpublishTemplate(ctx, id, p.version);
    case "archive":
      return templates.archiveTemplate(ctx, id, p.version);
    case "delete":
      return templates.deleteTemplate(ctx, id, p.version);
    case "versions":
      return templates.listVersions(ctx, id, { limit: p.limit, cursor: p.cursor });
    case "instances":
      return templates.listInstances(ctx, id, { live: p.live, limit: p.limit, cursor: p.cursor });
    case "rollback":
      return templates.rollbackTemplate(
        ctx,
        id,
        positiveInt("TARGET", a.TARGET as string, "rollback"),
        p.version,
        p.notes,
        p.acknowledgeWalletRemoval,
      );
    case "diff":
      return curation.diff(
        ctx,
        id,
        positiveInt("FROM", a.FROM as string, "diff"),
        positiveInt("TO", a.TO as string, "diff"),
      );
    case "notes":
      return curation.notes(ctx, id, { limit: p.limit, cursor: p.cursor });
    case "report":
      return curation.report(ctx, id, a.REASON as string);
    case "featured":
      return curation.featured(ctx, { limit: p.limit, cursor: p.cursor });
    case "appeal":
      return curation.appeal(ctx, id, a.MESSAGE as string, p.version);
    case "reports":
      return curation.reports(ctx, { template: p.template, all: p.all, limit: p.limit, cursor: p.cursor });
    case "delist":
      return curation.delist(ctx, id, a.REASON as string);
    case "relist":
      return curation.relist(ctx, id, p.note);
    case "decline":
      return curation.decline(ctx, id, a.NOTE as string);
    case "dismiss":
      return curation.dismiss(ctx, id, p.note);
    case "delistings":
      return curation.delistings(ctx, { reviewRequested: p.reviewRequested, limit: p.limit, cursor: p.cursor });
    case "feature":
      return curation.feature(ctx, id, true);
    case "unfeature":
      return curation.feature(ctx, id, false);
    case "grant-tools":
      return curation.grantTools(ctx, a.SUBJECT as string, {
        tools: p.grantTools,
        fundWei: p.fundWei,
        maxLiveTools: p.maxLiveTools,
      });
    case "tool-grants":
      return curation.toolGrants(ctx, { limit: p.limit, cursor: p.cursor });
    case "rate":
      return ratings.rate(ctx, id, starsArg(a.STARS as string), p.review ?? "");
    case "rating":
      return ratings.myRating(ctx, id);
    case "reviews":
      return ratings.reviews(ctx, id, { limit: p.limit, cursor: p.cursor });
    case "answer-review":
      return ratings.answerReview(ctx, id, a.REVIEWER as string, a.ANSWER as string);
    case "report-review":
      return ratings.reportReview(ctx, id, a.REVIEWER as string, a.REASON as string);
    case "review-reports":
      return ratings.reviewReports(ctx, { template: p.template, limit: p.limit, cursor: p.cursor });
    case "remove-review":
      return ratings.removeReview(ctx, id, a.REVIEWER as string, a.REASON as string);
    case "curation-log":
      return curation.curationLog(ctx, { template: p.template, limit: p.limit, cursor: p.cursor });
    case "browse":
      return templates.browse(ctx, {
        q: p.q,
        category: p.category,
        sort: p.sort,
        limit: p.limit,
        cursor: p.cursor,
      });
    case "models":
      return templates.models(ctx);
    case "mine":
      return templates.mine(ctx, { archived: p.archived, limit: p.limit, cursor: p.cursor });
    case "claim":
      return agents.claim(ctx, a.TEMPLATE_ID as string, a.INVITE as string, {
        model: p.model,
        config: p.config,
        secondAgent: p.secondAgent,
      });
    case "agents":
      return agents.agents(ctx, { limit: p.limit, cursor: p.cursor });
    case "agent":
      return agents.agent(ctx, id);
    case "pin":
      return agents.pinAgent(ctx, id, true);
    case "unpin":
      return agents.pinAgent(ctx, id, false);
    case "remove":
      return agents.removeAgent(ctx, id);
    case "withdraw":
      return agents.withdrawFunds(ctx, id);
    case "clone":
      return agents.clone(ctx, id, a.INVITE as string, {
        directive: p.directive,
        carry: p.carry,
        model: p.model,
        config: p.config,
      });
    case "transfer":
      return agents.transferAgent(ctx, id, a.INBOX_ID as string);
    case "withdraw-transfer":
      return agents.withdrawTransfer(ctx, id);
    case "accept":
      return agents.acceptAgent(ctx, id);
    case "trust":
      return agentSettings.setTrust(ctx, id, trustLevelArg(a.LEVEL as string, "trust"), p.dailyLimitWei);
    case "permissions":
      return agentSettings.setPermissions(ctx, id, parsed(p.permissions, "the permission options"));
    case "participation":
      return agentSettings.setParticipation(ctx, id, parsed(p.participation, "--mode and --cooldown"), p.conversation);
    case "add-to":
      return conversations.addTo(ctx, id, a.INVITE as string, {
        participation: p.participation,
        tools: p.conversationTools,
        secondAgent: p.secondAgent,
      });
    case "conversations":
      return conversations.conversations(ctx, id);
    case "leave":
      return conversations.leave(ctx, id, a.CONVERSATION as string);
    case "activity":
      return agents.activity(ctx, id, { limit: p.limit, cursor: p.cursor });
    case "approvals":
      return approvals.listApprovals(ctx, id);
    case "approve":
      return approvals.answerApproval(ctx, id, a.QUESTION_ID as string, parsed(p.approve, "--yes or --no"));
    case "schedules":
      return schedules.listSchedules(ctx, id, p.conversation);
    case "schedules pause":
      return schedules.changeSchedule(ctx, id, a.ITEM_ID as string, "pause");
    case "schedules resume":
      return schedules.changeSchedule(ctx, id, a.ITEM_ID as string, "resume");
    case "schedules cancel":
      return schedules.changeSchedule(ctx, id, a.ITEM_ID as string, "cancel");
    case "schedules move":
      return schedules.moveSchedule(ctx, id, a.ITEM_ID as string, a["WHEN..."] as string);
    case "lineage":
      return agents.lineage(ctx, id);
    case "dashboard":
      return agents.dashboard(ctx, a.TEMPLATE_ID as string);
    case "patterns":
      return p.health
        ? patterns.poolHealth(ctx)
        : patterns.templatePatterns(ctx, a.TEMPLATE_ID as string, {
            expired: p.expired,
            limit: p.limit,
            cursor: p.cursor,
          });
    case "pattern-hold":
      return patterns.setPatternHold(ctx, a.TEMPLATE_ID as string, onOffArg("ON_OFF", a.ON_OFF, "pattern-hold"));
    case "signals":
      return signals.compareVersions(ctx, a.TEMPLATE_ID as string, p.versions);
    case "patterns-held":
      return patterns.heldPatterns(ctx, a.TEMPLATE_ID as string, { all: p.all, limit: p.limit });
    case "pattern-review":
      return patterns.reviewPattern(ctx, a.TEMPLATE_ID as string, a.PATTERN_ID as string, a.DECISION as string);
    case "family":
      return agents.family(ctx, { ended: p.ended, limit: p.limit, cursor: p.cursor });
    case "logout":
      return keys.logout(ctx);
    case "sign":
      return keys.sign(ctx, a.OPERATION as string, a.FIELDS_JSON as string);
    case "import":
      return openclaw.importCommand(ctx, a.DIR as string, { dryRun: p.dryRun });
    case "export":
      return openclaw.exportCommand(ctx, id, a.DIR as string);
    case "memory-export":
      return memory.exportMemory(ctx, id, a.FILE as string);
    case "memory-import":
      return memory.importMemory(ctx, id, a.FILE as string, p.secrets);
    case "memory-list":
      return memory.listMemory(ctx, id, p.feedback);
    case "memory-forget":
      return memory.forgetMemory(
        ctx,
        id,
        (a.ENTRY_IDS as string)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      );
    case "memory-share":
      return memory.shareMemory(ctx, id, parsed(p.entryIds, "ENTRY_ID..."), p.off !== true);
    case "sharing":
      return memory.setSharing(ctx, id, parsed(p.offer, "--offer"), parsed(p.adopt, "--adopt"));
    case "address-book":
      return addressBook.listContacts(ctx, id);
    case "address-book save":
      return addressBook.saveContact(ctx, id, {
        name: a.NAME as string,
        kind: addressBook.kindArg(a.KIND as string),
        value: a.VALUE as string,
      });
    case "address-book remove":
      return addressBook.removeContacts(ctx, id, (a["CONTACT_ID..."] as string).split(/[\s,]+/).filter(Boolean));
    case "rollout start":
      return rollouts.startRollout(ctx, a.TEMPLATE_ID as string, a.FILE as string, {
        share: parsed(p.share, "--share"),
        bounds: p.rolloutBounds,
        notes: p.notes,
        acknowledgeWalletRemoval: p.acknowledgeWalletRemoval,
      });
    case "rollout widen":
      return rollouts.stepRollout(
        ctx,
        a.TEMPLATE_ID as string,
        a.ROLLOUT_ID as string,
        "widen",
        parsed(p.share, "--share"),
      );
    case "rollout pause":
      return rollouts.stepRollout(ctx, a.TEMPLATE_ID as string, a.ROLLOUT_ID as string, "pause");
    case "rollout resume":
      return rollouts.stepRollout(ctx, a.TEMPLATE_ID as string, a.ROLLOUT_ID as string, "resume");
    case "rollout promote":
      return rollouts.stepRollout(ctx, a.TEMPLATE_ID as string, a.ROLLOUT_ID as string, "promote");
    case "rollout roll-back":
      return rollouts.stepRollout(ctx, a.TEMPLATE_ID as string, a.ROLLOUT_ID as string, "roll_back");
    case "rollout list":
      return rollouts.listRollouts(ctx, a.TEMPLATE_ID as string, { limit: p.limit, cursor: p.cursor });
    case "rollout show":
      return rollouts.showRollout(ctx, a.TEMPLATE_ID as string, a.ROLLOUT_ID as string);
    case "content-hash":
      return templates.contentHashOf(ctx, a.FILE as string);
    case "patch-hash":
      return templates.patchHashOf(ctx, a.FILE as string);
    case "verify-agent":
      return verify.verifyAgent(ctx, a.INBOX as string, p);
    case "verify-statement":
      return verifyStatement.verifyStatement(ctx, a.INBOX as string, p);
    default: {
      // A command in the table (command-line/table.ts) without its case here does not compile.
      const missing: never = p.command;
      throw new Error(`${String(missing)}: in the command table, but main.ts does not run it`);
    }
  }
}

/**
 * What a command prints: text it made itself as it is; with `--json` the
 * gateway's JSON pretty-printed, as scripts read it; else the answer for a
 * person (command-line/views.ts), nothing cut when stdout is not a terminal.
 */
export function printed(command: CommandName, out: unknown, json: boolean, columns?: number): string {
  if (typeof out === "string") return out;
  return json ? JSON.stringify(out, null, 2) : view(command, out, { width: columns });
}

/** Runs one command line; returns the exit code (0 ok, 1 error, 2 usage). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let parsed: ParsedCommand | undefined;
  try {
    parsed = parseCommandLine(argv);
    if (parsed.help || parsed.command === "help") {
      io.stdout(
        `${parsed.command === "help" ? usage() : `${commandUsage(parsed.command)}\n  ${COMMANDS[parsed.command].summary}`}\n`,
      );
      return 0;
    }
    const out = await dispatch(parsed, contextOf(parsed, io));
    io.stdout(`${printed(parsed.command, out, parsed.json, io.columns)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof verify.AgentNotVerified || err instanceof verifyStatement.StatementNotVerified) {
      // The whole report, as for an agent that checks out; the exit code says it did not.
      io.stdout(`${JSON.stringify(err.report, null, 2)}\n`);
      io.stderr(`pool: ${err.message}\n`);
      return 1;
    }
    if (err instanceof HttpError) {
      io.stderr(`${JSON.stringify(err.body, null, 2)}\n`);
      return 1;
    }
    if (err instanceof UsageError) {
      const command = err instanceof CommandUsageError ? err.command : parsed?.command;
      const help = command !== undefined && isCommand(command) ? commandUsage(command) : usage();
      io.stderr(`pool: ${err.message}\n${help}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`pool: ${err.message}\n`);
      return 1;
    }
    io.stderr(`pool: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;

if (isEntryPoint) {
  // Ctrl-C during a claim cancels it and waits for its answer; otherwise, or pressed again, it stops the CLI at once.
  let cancel: (() => void) | undefined;
  process.on("SIGINT", () => {
    const now = cancel;
    cancel = undefined;
    if (now) now();
    else process.exit(130);
  });
  const code = await run(process.argv.slice(2), {
    onInterrupt: (c) => (cancel = c),
    env: process.env,
    // `npm run` starts scripts in the package root; INIT_CWD is where the user ran it.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  });
  process.exitCode = code;
}
