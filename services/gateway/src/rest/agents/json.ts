// The "My agents", pin, transfer, trust, permissions, participation and
// conversations REST bodies (docs/rest.md, "Claims and \"My agents\""),
// snake_case as every REST body: instances as proto JSON with the proto's
// own field names (trust levels by their names, "L1" to "L4"; permissions
// and participation modes by theirs, "allow", "none", "mention"), and the
// claims service's RPC field paths in the body's names.

import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TrustLevel, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import {
  AgentConversationState,
  ConversationTools,
  InheritanceSchema,
  InstanceSchema,
  SpendLimitKind,
  type AgentConversation,
  type Inheritance,
  type Instance,
  type Participation,
  type Permissions,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import {
  APPROVAL_PLACE_NAMES,
  BARE_CONVERSATION_ID,
  DEFAULT_PERMISSION_VALUES,
  GRANT_NAMES,
  MAX_COOLDOWN_SECONDS,
  NOT_A_TRUST_LEVEL,
  OUTSIDER_REPLY_NAMES,
  PARTICIPATION_MODE_NAMES,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  parseParticipationMode,
  participationModeName,
  permissionNames,
  parseTrustLevel,
  trustLevelName,
  trustRequestViolations,
  type ParticipationModeName,
  type ResolvedParticipation,
  type ResolvedPermissions,
  type TrustLevelName,
  type FieldViolationInfo,
} from "@convos-pool/kit/content";
import { Violations } from "../core/errors.js";
import { PROTO_JSON, type BodyOf, type JsonObject } from "../core/json.js";
import { signatureOf } from "../core/signature-json.js";

/** A bare XMTP conversation (group) ID where an invite is asked for: the kit's, which the claims service refuses too. */
export const CONVERSATION_ID = BARE_CONVERSATION_ID;

export const PIN_FIELDS = ["pinned", "owner_signature"] as const;
export type PinRequestJson = BodyOf<typeof PIN_FIELDS>;

/** The body of PUT /api/pool/agents/{id}/pin: `pinned` required, `owner_signature` when there is no session. */
export function pinFromBody(body: JsonObject): { pinned: boolean; ownerSignature: Signature | undefined } {
  return { pinned: body.boolean("pinned"), ownerSignature: signatureOf(body, "owner_signature") };
}

export const REMOVE_FIELDS = ["owner_signature"] as const;
/** Removal, withdrawing a transfer, a withdrawal and the activity read whole: `{owner_signature}`. */
export type OwnerSignedRequestJson = BodyOf<typeof REMOVE_FIELDS>;

/** The body of DELETE /api/pool/agents/{id}: `{owner_signature}` (RemoveAgent), required even with a session. */
export function removeFromBody(body: JsonObject): { ownerSignature: Signature | undefined } {
  return { ownerSignature: signatureOf(body, "owner_signature") };
}

export const TRANSFER_FIELDS = ["new_owner_id", "owner_signature"] as const;
export type TransferRequestJson = BodyOf<typeof TRANSFER_FIELDS>;

/** The body of POST /api/pool/agents/{id}/transfer: the new owner and the owner's TransferAgent signature. */
export function transferFromBody(body: JsonObject): { newOwnerId: string; ownerSignature: Signature | undefined } {
  return { newOwnerId: body.string("new_owner_id"), ownerSignature: signatureOf(body, "owner_signature") };
}

export const ACCEPT_FIELDS = ["signature"] as const;
export type AcceptRequestJson = BodyOf<typeof ACCEPT_FIELDS>;

/** The body of POST /api/pool/agents/{id}/accept: the new owner's AcceptAgent signature. */
export function acceptFromBody(body: JsonObject): { signature: Signature | undefined } {
  return { signature: signatureOf(body) };
}

export const TRUST_FIELDS = ["trust_level", "daily_spend_limit_wei", "owner_signature"] as const;

export interface TrustBody {
  trustLevel: TrustLevel;
  dailySpendLimitWei: string;
  ownerSignature: Signature | undefined;
}

/**
 * The body of PUT /api/pool/agents/{id}/trust: `trust_level` "L1" to "L4",
 * `daily_spend_limit_wei` (a decimal string) as the kit's one rule takes it
 * (trustRequestViolations: required at L4, optional at L2 and L3, none at
 * L1), and the owner's SetTrustLevel (required even with a session: the
 * agent checks it; its absence is the claims service's 401). Every bad field
 * is named at once.
 */
export function trustFromBody(body: JsonObject): TrustBody {
  const check = new Violations();
  const name = check.read(() => body.string("trust_level"));
  const trustLevel = (name === undefined ? undefined : parseTrustLevel(name)) ?? TrustLevel.UNSPECIFIED;
  if (name !== undefined && trustLevel === TrustLevel.UNSPECIFIED)
    check.add({ field: "trust_level", description: NOT_A_TRUST_LEVEL });
  const dailySpendLimitWei = check.read(() => body.string("daily_spend_limit_wei", "")) ?? "";
  check.add(...trustRequestViolations(trustLevel, dailySpendLimitWei));
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  check.done();
  return { trustLevel, dailySpendLimitWei, ownerSignature };
}

export const PERMISSIONS_FIELDS = [
  "member_sms",
  "member_email",
  "member_crypto",
  "outsider_reply",
  "approvals",
  "owner_signature",
] as const;

export interface PermissionsBody {
  /** Only the fields the body gave; the claims service fills the rest with the defaults, as the owner signed them. */
  permissions: Partial<ResolvedPermissions>;
  ownerSignature: Signature | undefined;
}

/**
 * The body of PUT /api/pool/agents/{id}/permissions: `member_sms`,
 * `member_email`, `member_crypto` ("allow", "ask" or "refuse"),
 * `outsider_reply` ("none", "ask" or "answer") and `approvals`
 * ("conversation" or "direct"), each optional (left out: its default, not its
 * current value), and the owner's SetPermissions over all five, defaults
 * filled in (required even with a session: the agent checks it; its absence
 * is the claims service's 401).
 */
export function permissionsFromBody(body: JsonObject): PermissionsBody {
  const check = new Violations();
  const permissions: Partial<ResolvedPermissions> = {};
  const given = <T extends string, V>(field: string, names: readonly T[], parse: (name: T) => V): V | undefined => {
    const name = body.has(field) ? check.read(() => body.oneOf(field, names)) : undefined;
    return name === undefined ? undefined : parse(name);
  };
  const set = <K extends keyof ResolvedPermissions>(key: K, value: ResolvedPermissions[K] | undefined) => {
    if (value !== undefined) permissions[key] = value;
  };
  set("memberSms", given("member_sms", GRANT_NAMES, parseGrant));
  set("memberEmail", given("member_email", GRANT_NAMES, parseGrant));
  set("memberCrypto", given("member_crypto", GRANT_NAMES, parseGrant));
  set("outsiderReply", given("outsider_reply", OUTSIDER_REPLY_NAMES, parseOutsiderReply));
  set("approvals", given("approvals", APPROVAL_PLACE_NAMES, parseApprovalPlace));
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  check.done();
  return { permissions, ownerSignature };
}

export const PARTICIPATION_FIELDS = ["mode", "cooldown_seconds", "owner_signature"] as const;

export interface ParticipationBody {
  /** Only the fields the body gave; the claims service fills the rest with the defaults, as the owner signed them. */
  participation: Partial<ResolvedParticipation>;
  ownerSignature: Signature | undefined;
}

/**
 * The body of PUT /api/pool/agents/{id}/participation: `mode` ("auto",
 * "speak", "mention" or "paused") and `cooldown_seconds` (0 to a day), each
 * optional (left out: "auto" and 0, not the current value), and the owner's
 * SetParticipation over both (required even with a session: the agent checks
 * it; its absence is the claims service's 401).
 */
export function participationFromBody(body: JsonObject): ParticipationBody {
  const check = new Violations();
  const later: FieldViolationInfo[] = [];
  const participation = participationOf(body, check, later);
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  if (check.any()) check.add(...later);
  check.done();
  return { participation, ownerSignature };
}

/**
 * The body of PUT …/conversations/{conversation_id}/participation, the
 * agent's own participation path's: what REST cannot read goes to `check`,
 * a cooldown past a day on to the service (participationInViolations).
 */
export function participationInFromBody(body: JsonObject, check: Violations): ParticipationBody {
  const participation = participationOf(body, check, []);
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  return { participation, ownerSignature };
}

const UINT32_MAX = 2 ** 32 - 1;

/**
 * `mode` and `cooldown_seconds` of `o` (the body, or its `participation`
 * object), only those given; what is wrong with them goes to `check`, but a
 * cooldown past a day to `later`: the claims service's to refuse, named with
 * the request's other faults, and named here only when the gateway refuses
 * the request itself.
 */
function participationOf(
  o: JsonObject,
  check: Violations,
  later: FieldViolationInfo[],
): Partial<ResolvedParticipation> {
  const participation: Partial<ResolvedParticipation> = {};
  const mode = o.has("mode") ? check.read(() => o.oneOf("mode", PARTICIPATION_MODE_NAMES)) : undefined;
  if (mode !== undefined) participation.mode = parseParticipationMode(mode);
  const seconds = o.has("cooldown_seconds") ? check.read(() => o.integer("cooldown_seconds", 0)) : undefined;
  const tooLong = {
    field: o.field("cooldown_seconds"),
    description: `must be at most ${MAX_COOLDOWN_SECONDS} (a day; "paused" is longer)`,
  };
  // Past the RPC's uint32 it could not even be sent; past a day, the claims service says so.
  if (seconds !== undefined && seconds > UINT32_MAX) check.add(tooLong);
  else if (seconds !== undefined) {
    if (seconds > MAX_COOLDOWN_SECONDS) later.push(tooLong);
    participation.cooldownSeconds = seconds;
  }
  return participation;
}

/** Whether an agent's tools act in one of its conversations, by name: "shared" (the default) or "none". */
export const CONVERSATION_TOOLS_NAMES = ["shared", "none"] as const;
export type ConversationToolsName = (typeof CONVERSATION_TOOLS_NAMES)[number];

const TOOLS_BY_NAME: Record<ConversationToolsName, ConversationTools> = {
  shared: ConversationTools.SHARED,
  none: ConversationTools.NONE,
};

/** The tools by name; unset or a value this gateway does not know (a newer agent's) is the default, "shared". */
export function conversationToolsName(t: ConversationTools): ConversationToolsName {
  return t === ConversationTools.NONE ? "none" : "shared";
}

export const ADD_TO_CONVERSATION_FIELDS = [
  "conversation_invite",
  "owner_signature",
  "participation",
  "tools",
  "confirm_second_agent",
] as const;

export interface AddToConversationBody {
  conversationInvite: string;
  ownerSignature: Signature | undefined;
  /** Only the fields given; the claims service fills the rest with the defaults, as the owner signed them. */
  participation: Partial<ResolvedParticipation> | undefined;
  /** UNSPECIFIED when not given: shared, as signed. */
  tools: ConversationTools;
  confirmSecondAgent: boolean;
}

/**
 * The body of POST /api/pool/agents/{id}/conversations: the invite of the
 * conversation to join (left out: empty, for the claims service to name),
 * the owner's AddToConversation (required even with a session: the agent
 * checks it; its absence is the claims service's 401), `participation`
 * there (`{mode?, cooldown_seconds?}` as PUT …/participation takes them),
 * `tools` there ("shared" or "none") and `confirm_second_agent`. What REST
 * cannot read goes to `check`; what the service judges (the invite, a
 * cooldown past a day) goes on for it (additionViolations).
 */
export function addToConversationFromBody(body: JsonObject, check: Violations): AddToConversationBody {
  const conversationInvite = check.read(() => body.string("conversation_invite", "")) ?? "";
  const ownerSignature = check.read(() => signatureOf(body, "owner_signature"));
  const p = check.read(() => body.object("participation", ["mode", "cooldown_seconds"]));
  const participation = p ? participationOf(p, check, []) : undefined;
  const tools = body.has("tools") ? check.read(() => body.oneOf("tools", CONVERSATION_TOOLS_NAMES)) : undefined;
  const confirmSecondAgent = check.read(() => body.boolean("confirm_second_agent", false)) ?? false;
  return {
    conversationInvite,
    ownerSignature,
    participation,
    tools: tools === undefined ? ConversationTools.UNSPECIFIED : TOOLS_BY_NAME[tools],
    confirmSecondAgent,
  };
}

export type AgentConversationStateName = "joining" | "joined" | "rejoining" | "leaving" | "";

const CONVERSATION_STATES: Record<AgentConversationState, AgentConversationStateName> = {
  [AgentConversationState.UNSPECIFIED]: "",
  [AgentConversationState.JOINING]: "joining",
  [AgentConversationState.JOINED]: "joined",
  [AgentConversationState.REJOINING]: "rejoining",
  [AgentConversationState.LEAVING]: "leaving",
};

export interface AgentConversationJson {
  /** The XMTP group id; "" while it joins. */
  id: string;
  name: string;
  home: boolean;
  state: AgentConversationStateName;
  participation: ParticipationJson;
  tools: ConversationToolsName;
  joined_at: string | null;
}

/** One of an agent's conversations: its state, participation and tools by name, the time in ISO 8601. */
export function conversationToJson(c: AgentConversation): AgentConversationJson {
  return {
    id: c.conversationId,
    name: c.name,
    home: c.home,
    state: CONVERSATION_STATES[c.state] ?? "",
    participation: participationToJson(c.participation),
    tools: conversationToolsName(c.tools),
    joined_at: c.joinedAt ? timestampDate(c.joinedAt).toISOString() : null,
  };
}

/**
 * An instance as proto JSON (snake_case, enums by name, int64 as strings,
 * every field present), but its trust level by the name people use: "L1" to
 * "L4" ("" when unknown), as template content names a template's highest;
 * its permissions by theirs (`{member_sms: "ask", …}`) and when it speaks
 * (`{mode: "auto", cooldown_seconds: 0}`), the defaults for an agent whose
 * owner never set them; its conversations as conversationToJson gives them.
 */
/**
 * An agent as the agent paths answer it (GET /api/pool/agents/{id}, "My
 * agents"): the Instance's proto JSON in its own field names, its trust
 * level, permissions, participation and conversations by name. Message
 * fields the claims service left unset are absent.
 */
export interface AgentJson {
  id: string;
  template_id: string;
  owner_id: string;
  parent_instance_id: string;
  inbox_id: string;
  conversation_id: string;
  /** The proto's name, "INSTANCE_STATE_ACTIVE". */
  state: string;
  model: string;
  model_overridden: boolean;
  tools: unknown[];
  agent_name: string;
  /** The inbox a transfer is offered to; "" when none is open. */
  pending_owner_id: string;
  trust_level: TrustLevelName | "";
  daily_spend_limit_wei: string;
  /** How the owner set the limit: "signed", "confirmed_in_convos" (at most 0.05 ETH a day), or "" with none. */
  daily_spend_limit_kind: "signed" | "confirmed_in_convos" | "";
  conversation_name: string;
  conversations: AgentConversationJson[];
  /** Only what owners are shown of a delisting (docs/store.md); null while listed. */
  template_delisting: { reason: string; delisted_at: string | null } | null;
  permissions: PermissionsJson;
  participation: ParticipationJson;
  sync?: unknown;
  created_at?: string;
  claimed_at?: string;
  inheritance?: unknown;
}

/** An agent's permissions, each by its name. */
export type PermissionsJson = ReturnType<typeof permissionNames>;

const LIMIT_KIND_NAMES: Record<number, AgentJson["daily_spend_limit_kind"]> = {
  [SpendLimitKind.SIGNED]: "signed",
  [SpendLimitKind.CONFIRMED_IN_CONVOS]: "confirmed_in_convos",
};

export function instanceToJson(i: Instance): AgentJson {
  const json = toJson(InstanceSchema, i, PROTO_JSON) as unknown as AgentJson;
  // Only what owners are shown of a delisting (docs/store.md); null while listed.
  const d = i.templateDelisting;
  const delisting = d
    ? { reason: d.reason, delisted_at: d.delistedAt ? timestampDate(d.delistedAt).toISOString() : null }
    : null;
  return {
    ...json,
    trust_level: trustLevelName(i.trustLevel),
    daily_spend_limit_kind: LIMIT_KIND_NAMES[i.dailySpendLimitKind] ?? "",
    template_delisting: delisting,
    permissions: permissionsToJson(i.permissions),
    participation: participationToJson(i.participation),
    conversations: i.conversations.map(conversationToJson),
  };
}

export interface ParticipationJson {
  mode: ParticipationModeName;
  cooldown_seconds: number;
}

/** The mode by its name ("auto" when unset or unknown, as the agent takes it), the cooldown in seconds. */
export function participationToJson(p: Participation | undefined): ParticipationJson {
  return { mode: participationModeName(p?.mode ?? 0), cooldown_seconds: p?.cooldownSeconds ?? 0 };
}

/** Each field by its name; one unset or unknown is its default, as the agent takes it. */
export function permissionsToJson(p: Permissions | undefined): PermissionsJson {
  return permissionNames(p ?? DEFAULT_PERMISSION_VALUES);
}

/** A clone's inheritance as proto JSON: `{state: "INHERITANCE_STATE_SENT", carry, error}`. */
export function inheritanceToJson(i: Inheritance): unknown {
  return toJson(InheritanceSchema, i, PROTO_JSON);
}
