// Whose word an agent acts on, and where it asks its owner, by the names
// people use ("allow", "ask", "refuse"; "none", "ask", "answer";
// "conversation", "direct"), for the agent, the claims service, the
// REST gateway, the CLI and the web app. The values are the proto's
// Permissions (instance.proto); the agent enforces them (docs/trust.md).
import { create } from "@bufbuild/protobuf";
import {
  ApprovalPlace,
  Grant,
  OutsiderReply,
  PermissionsSchema,
  type Permissions,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { invalidArguments, type FieldViolationInfo } from "./errors.js";

export type GrantName = "allow" | "ask" | "refuse";
export type OutsiderReplyName = "none" | "ask" | "answer";
export type ApprovalPlaceName = "conversation" | "direct";

export const GRANT_NAMES = ["allow", "ask", "refuse"] as const satisfies readonly GrantName[];
export const OUTSIDER_REPLY_NAMES = ["none", "ask", "answer"] as const satisfies readonly OutsiderReplyName[];
export const APPROVAL_PLACE_NAMES = ["conversation", "direct"] as const satisfies readonly ApprovalPlaceName[];

const GRANTS: Record<GrantName, Grant> = { allow: Grant.ALLOW, ask: Grant.ASK, refuse: Grant.REFUSE };
const REPLIES: Record<OutsiderReplyName, OutsiderReply> = {
  none: OutsiderReply.NONE,
  ask: OutsiderReply.ASK,
  answer: OutsiderReply.ANSWER,
};
const PLACES: Record<ApprovalPlaceName, ApprovalPlace> = {
  conversation: ApprovalPlace.CONVERSATION,
  direct: ApprovalPlace.DIRECT,
};

/** Each enum field's values and names, for checking and for errors; the others are a member's grant. */
const ENUMS = {
  outsiderReply: { values: Object.values(REPLIES), names: OUTSIDER_REPLY_NAMES },
  approvals: { values: Object.values(PLACES), names: APPROVAL_PLACE_NAMES },
} as const;
const GRANT_ENUM = { values: Object.values(GRANTS), names: GRANT_NAMES };

/** The fields of Permissions that are a member's grant, by the tool each is for. */
export const MEMBER_GRANT_FIELDS = {
  sms: "memberSms",
  email: "memberEmail",
  crypto: "memberCrypto",
} as const satisfies Record<string, keyof Permissions>;

/**
 * What a careful owner would choose: members ask the owner first; outsiders
 * are passed on, not answered; the owner is asked where the request was made,
 * as every approval was before an owner could choose.
 */
export const DEFAULT_PERMISSION_VALUES = {
  memberSms: Grant.ASK,
  memberEmail: Grant.ASK,
  memberCrypto: Grant.ASK,
  outsiderReply: OutsiderReply.NONE,
  approvals: ApprovalPlace.CONVERSATION,
} as const;

/** Every field set: what the owner signs and the agent holds. */
export type ResolvedPermissions = {
  memberSms: Grant;
  memberEmail: Grant;
  memberCrypto: Grant;
  outsiderReply: OutsiderReply;
  approvals: ApprovalPlace;
};

const SNAKE: Record<keyof ResolvedPermissions, string> = {
  memberSms: "member_sms",
  memberEmail: "member_email",
  memberCrypto: "member_crypto",
  outsiderReply: "outsider_reply",
  approvals: "approvals",
};

/**
 * Unspecified fields filled with the defaults; a value this code does not
 * know is INVALID_ARGUMENT naming the field (`permissions.member_sms`).
 */
export function resolvePermissions(p: Partial<ResolvedPermissions> | undefined): ResolvedPermissions {
  const out = { ...DEFAULT_PERMISSION_VALUES } as ResolvedPermissions;
  const violations: FieldViolationInfo[] = [];
  for (const key of Object.keys(SNAKE) as (keyof ResolvedPermissions)[]) {
    const v = p?.[key] ?? 0;
    if (v === 0) continue;
    const known = key in ENUMS ? ENUMS[key as keyof typeof ENUMS] : GRANT_ENUM;
    if (!(known.values as number[]).includes(v))
      violations.push({ field: `permissions.${SNAKE[key]}`, description: `must be one of ${known.names.join(", ")}` });
    else out[key] = v as never;
  }
  // Every unknown value named at once.
  if (violations.length > 0) throw invalidArguments(violations);
  return out;
}

/** The proto message, every field set. */
export function permissionsMessage(p: Partial<ResolvedPermissions> | undefined): Permissions {
  return create(PermissionsSchema, resolvePermissions(p));
}

export function grantName(g: Grant): GrantName | "" {
  return GRANT_NAMES.find((n) => GRANTS[n] === g) ?? "";
}

export function outsiderReplyName(r: OutsiderReply): OutsiderReplyName | "" {
  return OUTSIDER_REPLY_NAMES.find((n) => REPLIES[n] === r) ?? "";
}

export function approvalPlaceName(p: ApprovalPlace): ApprovalPlaceName | "" {
  return APPROVAL_PLACE_NAMES.find((n) => PLACES[n] === p) ?? "";
}

/** "allow", "ask" or "refuse"; undefined for anything else. */
export function parseGrant(s: GrantName): Grant;
export function parseGrant(s: string): Grant | undefined;
export function parseGrant(s: string): Grant | undefined {
  return (GRANT_NAMES as readonly string[]).includes(s) ? GRANTS[s as GrantName] : undefined;
}

/** "none", "ask" or "answer"; undefined for anything else. */
export function parseOutsiderReply(s: OutsiderReplyName): OutsiderReply;
export function parseOutsiderReply(s: string): OutsiderReply | undefined;
export function parseOutsiderReply(s: string): OutsiderReply | undefined {
  return (OUTSIDER_REPLY_NAMES as readonly string[]).includes(s) ? REPLIES[s as OutsiderReplyName] : undefined;
}

/** "conversation" or "direct"; undefined for anything else. */
export function parseApprovalPlace(s: ApprovalPlaceName): ApprovalPlace;
export function parseApprovalPlace(s: string): ApprovalPlace | undefined;
export function parseApprovalPlace(s: string): ApprovalPlace | undefined {
  return (APPROVAL_PLACE_NAMES as readonly string[]).includes(s) ? PLACES[s as ApprovalPlaceName] : undefined;
}

/** Each field by its name, as REST and the CLI show them. */
export function permissionNames(p: ResolvedPermissions): {
  member_sms: GrantName;
  member_email: GrantName;
  member_crypto: GrantName;
  outsider_reply: OutsiderReplyName;
  approvals: ApprovalPlaceName;
} {
  return {
    member_sms: grantName(p.memberSms) || "ask",
    member_email: grantName(p.memberEmail) || "ask",
    member_crypto: grantName(p.memberCrypto) || "ask",
    outsider_reply: outsiderReplyName(p.outsiderReply) || "none",
    approvals: approvalPlaceName(p.approvals) || "conversation",
  };
}
