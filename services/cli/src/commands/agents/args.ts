// The values the agent commands read from the command line: a trust level,
// a daily limit in ETH, the permissions and participation to set (by the REST
// body's names), what a clone carries and a claim's tool configuration.
import {
  APPROVAL_PLACE_NAMES,
  GRANT_NAMES,
  MAX_COOLDOWN_SECONDS,
  NOT_A_TRUST_LEVEL,
  OUTSIDER_REPLY_NAMES,
  PARTICIPATION_MODE_NAMES,
  isTrustLevelName,
  MAX_DAILY_SPEND_LIMIT_WEI,
  parseTrustLevel,
  trustRequestViolations,
  type ApprovalPlaceName,
  type GrantName,
  type OutsiderReplyName,
  type ParticipationModeName,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import { formatEther, parseEther } from "viem";
import { CommandUsageError, commaList, type OptionValues } from "../../core/args.js";

/** LEVEL of `trust`: "L1" to "L4" as people write them (a lower-case l too). */
export function trustLevelArg(value: string, command?: string): TrustLevelName {
  const name = value.toUpperCase();
  if (!isTrustLevelName(name)) throw new CommandUsageError(`LEVEL ${NOT_A_TRUST_LEVEL} (got "${value}")`, command);
  return name;
}

/** `--daily-limit` in ETH ("0.05"), as wei: above 0, at most 18 decimals. */
export function dailyLimitArg(value: string, command?: string): bigint {
  const wei = /^\d+(\.\d{1,18})?$/.test(value) ? parseEther(value) : 0n;
  if (wei <= 0n)
    throw new CommandUsageError(`--daily-limit takes an amount of ETH above 0, such as 0.05 (got "${value}")`, command);
  return wei;
}

/**
 * LEVEL and `--daily-limit` of `trust` together, held to the kit's one rule
 * (trustRequestViolations, which the gateway and the claims service apply
 * too): L4 needs a limit, L2 and L3 may have one, L1 takes none.
 */
export function checkTrust(level: string, dailyLimitWei: bigint | undefined, command: string): void {
  const name = trustLevelArg(level, command);
  const wrong = trustRequestViolations(parseTrustLevel(name) ?? 0, dailyLimitWei?.toString() ?? "");
  if (wrong.length === 0) return;
  if (dailyLimitWei === undefined)
    throw new CommandUsageError("L4 needs --daily-limit ETH: the most the agent may spend in a day", command);
  if (name === "L1")
    throw new CommandUsageError("L1 uses no tool, so it has no daily spending limit: leave --daily-limit out", command);
  throw new CommandUsageError(
    `--daily-limit is too large: at most ${formatEther(MAX_DAILY_SPEND_LIMIT_WEI)} ETH`,
    command,
  );
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
export function permissionArgs(values: OptionValues, command: string): PermissionArgs {
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

/** The options of `participation` given: at least one, a mode by its name, a cooldown in whole seconds up to a day. */
export function participationArgs(values: { mode?: string; cooldown?: string }, command: string): ParticipationArgs {
  const out = participationOptions(values, command);
  if (Object.keys(out).length === 0)
    throw new CommandUsageError("name what to change: --mode or --cooldown (`pool agent ID` shows them now)", command);
  return out;
}

/** `--mode` and `--cooldown` as given (none: {}), a mode by its name, a cooldown in whole seconds up to a day. */
export function participationOptions(values: { mode?: string; cooldown?: string }, command: string): ParticipationArgs {
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

/** `--carry a,b`: the kinds of memory a clone brings. */
export function carryArg(value: string, command: string): string[] {
  const kinds = commaList(value);
  const unknown = kinds.find((k) => !["training", "personalization", "credentials"].includes(k));
  if (unknown !== undefined || kinds.length === 0) {
    throw new CommandUsageError(
      `--carry takes kinds of memory, comma-separated: training, personalization, credentials (got "${value}")`,
      command,
    );
  }
  return kinds;
}

/** `--config TOOL_ID=VALUE ...`, by tool id, each once. */
export function configArg(pairs: string[], command: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new CommandUsageError(`--config takes TOOL_ID=VALUE (got "${pair}")`, command);
    const id = pair.slice(0, eq);
    if (Object.hasOwn(out, id)) throw new CommandUsageError(`--config ${id} is given twice`, command);
    out[id] = pair.slice(eq + 1);
  }
  return out;
}
