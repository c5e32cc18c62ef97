// What an owner sets on an agent: its trust level and daily limit, whose
// requests it acts on (permissions) and when it speaks (participation), each
// signed by the key as its owner (docs/cli.md). A permission or participation
// option not given keeps the agent's value, read from it first.
import type { AgentJson } from "@convos-pool/gateway/rest-json";
import {
  DEFAULT_PERMISSION_VALUES,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  parseParticipationMode,
  parseTrustLevel,
  NOT_A_TRUST_LEVEL,
  permissionNames,
  type TrustLevelName,
} from "@convos-pool/kit/content";
import type { ParticipationArgs, PermissionArgs } from "./args.js";
import { CliError } from "../../core/errors.js";
import { request, type Context } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";

const agentPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}`;

/**
 * Sets my agent's trust level, signed by the key as its owner (SetTrustLevel;
 * the agent checks it itself), with the daily spending limit in wei: required
 * at L4 (./args.ts), optional at L2 and L3 (none: 0, it pays nothing), none at L1.
 */
export async function setTrust(
  ctx: Context,
  id: string,
  level: TrustLevelName,
  dailyLimitWei?: bigint,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const trustLevel = parseTrustLevel(level);
  if (trustLevel === undefined) throw new CliError(`LEVEL ${NOT_A_TRUST_LEVEL} (got "${level}")`);
  const ownerSignature = await signRest(ctx, key, "SetTrustLevel", {
    instanceId: id,
    trustLevel,
    dailySpendLimitWei: dailyLimitWei ?? 0n,
  });
  const body = {
    trust_level: level,
    ...(dailyLimitWei !== undefined ? { daily_spend_limit_wei: dailyLimitWei.toString() } : {}),
    owner_signature: ownerSignature,
  };
  return (await request(ctx, "PUT", `${agentPath(id)}/trust`, { body })).body;
}

export type PermissionNames = ReturnType<typeof permissionNames>;

const PERMISSION_FIELDS = ["member_sms", "member_email", "member_crypto", "outsider_reply", "approvals"] as const;
type PermissionField = (typeof PERMISSION_FIELDS)[number];

type Grant = NonNullable<ReturnType<typeof parseGrant>>;
type OutsiderReply = NonNullable<ReturnType<typeof parseOutsiderReply>>;
type ApprovalPlace = NonNullable<ReturnType<typeof parseApprovalPlace>>;

/** The five permissions as the owner signs them (SetPermissions). */
export interface PermissionValues {
  memberSms: Grant;
  memberEmail: Grant;
  memberCrypto: Grant;
  outsiderReply: OutsiderReply;
  approvals: ApprovalPlace;
}

/**
 * What the owner signs and sends: the values named, and for the others the
 * agent's `current` ones (its JSON's `permissions`; none read: the
 * defaults), so nothing the owner did not name changes. A current value this
 * CLI does not know is an error, never quietly replaced.
 */
export function permissionsToSet(
  current: unknown,
  given: PermissionArgs,
): { names: PermissionNames; values: PermissionValues } {
  const now = (typeof current === "object" && current !== null ? current : {}) as Record<string, unknown>;
  const defaults = permissionNames(DEFAULT_PERMISSION_VALUES);
  const names: Record<string, string> = {};
  const known = <T>(field: PermissionField, parse: (name: string) => T | undefined): T => {
    const v = given[field] ?? now[field] ?? defaults[field];
    const value = typeof v === "string" ? parse(v) : undefined;
    if (typeof v !== "string" || value === undefined)
      throw new CliError(
        `the agent's ${field} is ${JSON.stringify(v)}, which this CLI does not know: give --${field.replace("_", "-")}`,
      );
    names[field] = v;
    return value;
  };
  const values: PermissionValues = {
    memberSms: known("member_sms", parseGrant),
    memberEmail: known("member_email", parseGrant),
    memberCrypto: known("member_crypto", parseGrant),
    outsiderReply: known("outsider_reply", parseOutsiderReply),
    approvals: known("approvals", parseApprovalPlace),
  };
  return { names: names as PermissionNames, values };
}

/**
 * Sets whose requests my agent acts on, signed by the key as its owner
 * (SetPermissions over all five; the agent checks it itself). Only the
 * values named change: the others are read from the agent first (signed in),
 * unless all five are named.
 */
export async function setPermissions(ctx: Context, id: string, given: PermissionArgs): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const all = PERMISSION_FIELDS.every((f) => given[f] !== undefined);
  const current = all
    ? undefined
    : ((await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson).permissions;
  const { names, values } = permissionsToSet(current, given);
  const ownerSignature = await signRest(ctx, key, "SetPermissions", { instanceId: id, ...values });
  const body = { ...names, owner_signature: ownerSignature };
  return (await request(ctx, "PUT", `${agentPath(id)}/permissions`, { body })).body;
}

export interface ParticipationNames {
  mode: string;
  cooldown_seconds: number;
}

type ParticipationMode = NonNullable<ReturnType<typeof parseParticipationMode>>;

/**
 * What the owner signs and sends: the values named, and for the other the
 * agent's `current` one (its JSON's `participation`; none read: "auto" and
 * 0). A current mode this CLI does not know is an error, never quietly
 * replaced.
 */
export function participationToSet(
  current: unknown,
  given: ParticipationArgs,
): { names: ParticipationNames; mode: ParticipationMode } {
  const now = (typeof current === "object" && current !== null ? current : {}) as Record<string, unknown>;
  const mode = given.mode ?? now.mode ?? "auto";
  const parsedMode = typeof mode === "string" ? parseParticipationMode(mode) : undefined;
  if (typeof mode !== "string" || parsedMode === undefined)
    throw new CliError(`the agent's mode is ${JSON.stringify(mode)}, which this CLI does not know: give --mode`);
  const cooldown = given.cooldown_seconds ?? now.cooldown_seconds ?? 0;
  if (typeof cooldown !== "number" || !Number.isInteger(cooldown) || cooldown < 0)
    throw new CliError(
      `the agent's cooldown is ${JSON.stringify(cooldown)}, which this CLI does not know: give --cooldown`,
    );
  return { names: { mode, cooldown_seconds: cooldown }, mode: parsedMode };
}

/**
 * Sets when my agent speaks, signed by the key as its owner (the agent
 * checks it itself): in its home (SetParticipation over the mode and
 * cooldown), or in one of its conversations, `conversation`
 * (SetConversationParticipation, over that conversation too). Only what is
 * named changes: the other is read from the agent first (signed in), unless
 * both are named.
 */
export async function setParticipation(
  ctx: Context,
  id: string,
  given: ParticipationArgs,
  conversation?: string,
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const both = given.mode !== undefined && given.cooldown_seconds !== undefined;
  const current = both ? undefined : await currentParticipation(ctx, id, conversation);
  const { names, mode } = participationToSet(current, given);
  const fields = { instanceId: id, mode, cooldownSeconds: names.cooldown_seconds };
  const ownerSignature =
    conversation === undefined
      ? await signRest(ctx, key, "SetParticipation", fields)
      : await signRest(ctx, key, "SetConversationParticipation", { ...fields, conversationId: conversation });
  const body = { ...names, owner_signature: ownerSignature };
  const path =
    conversation === undefined
      ? `${agentPath(id)}/participation`
      : `${agentPath(id)}/conversations/${encodeURIComponent(conversation)}/participation`;
  return (await request(ctx, "PUT", path, { body })).body;
}

/** The agent's participation now, in its home or in `conversation` (its JSON's `conversations`), read signed in. */
async function currentParticipation(ctx: Context, id: string, conversation: string | undefined): Promise<unknown> {
  const agent = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson;
  if (conversation === undefined) return agent.participation;
  const there = agent.conversations?.find((c) => c.id === conversation);
  if (!there)
    throw new CliError(`the agent is not in conversation ${conversation} (\`pool conversations ${id}\` lists them)`);
  return there.participation;
}
