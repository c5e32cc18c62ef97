// The claim (and clone), "My agents", pin, transfer, trust, activity and lineage REST bodies (docs/rest.md,
// seed 000's camelCase): a claim body as ClaimService's ClaimRequest, instances as proto JSON (trust levels
// by their names, "L1" to "L4"), and the claims service's RPC field paths renamed to the body's.

import { create, toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { SignatureSchema, TrustLevel, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ClaimRequestSchema, type ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import {
  InheritanceSchema,
  InstanceSchema,
  ToolCallOutcome,
  type ActivityEntry,
  type Inheritance,
  type Instance,
} from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { LineageNodeSchema, type LineageNode } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { NOT_A_TRUST_LEVEL, parseTrustLevel, trustLevelName, type TrustLevelName } from "@convos-pool/kit";
import { badRequest } from "./errors.js";
import type { JsonObject } from "./json.js";

export const CLAIM_FIELDS = [
  "requester",
  "templateId",
  "conversationInvite",
  "conversationId",
  "model",
  "userConfig",
  "cloneFrom",
  "contextPrompt",
  "ownerSignature",
  "signature",
  "carry",
  "idempotencyKey",
] as const;
/** The signature objects of the claims paths: `{signature, issuedAt, nonce}`. */
const SIGNATURE_FIELDS = ["signature", "issuedAt", "nonce"] as const;

/**
 * A bare XMTP conversation (group) ID: hex, as seed 000's "convo-hex". An
 * agent cannot join a conversation from its ID, only from an invite, so such
 * a value is refused rather than guessed at.
 */
const CONVERSATION_ID = /^(0x)?[0-9a-f]{32,64}$/i;

export interface ClaimBody {
  request: ClaimRequest;
  /** The body's name of the invite: "conversationInvite", or "conversationId" when the alias was used. */
  inviteField: "conversationInvite" | "conversationId";
}

/**
 * The body of POST /api/pool/claim. The conversation is given by its invite:
 * `conversationInvite` (our name), or seed 000's `conversationId` as an alias
 * when it is unambiguous: given alone, and not a bare conversation ID.
 */
export function claimFromBody(body: JsonObject, idempotencyKeyHeader?: string): ClaimBody {
  const hasInvite = body.has("conversationInvite");
  const hasId = body.has("conversationId");
  if (hasInvite && hasId) {
    throw badRequest("conversationId", "give conversationInvite or its alias conversationId, not both");
  }
  const inviteField = hasId ? "conversationId" : "conversationInvite";
  const invite = body.string(inviteField);
  if (hasId && CONVERSATION_ID.test(invite.trim())) {
    throw badRequest(
      "conversationId",
      "is a conversation ID; an agent joins a conversation through its invite: send the Convos invite link (or slug) as conversationInvite",
    );
  }
  const sig = body.object("ownerSignature", SIGNATURE_FIELDS);
  const request = create(ClaimRequestSchema, {
    requester: body.string("requester"),
    // A clone runs its parent's template: then it may be left out.
    templateId: body.string("templateId", ""),
    conversationInvite: invite,
    model: body.string("model", ""),
    userConfig: body.stringMap("userConfig") ?? {},
    cloneFrom: body.string("cloneFrom", ""),
    contextPrompt: body.string("contextPrompt", ""),
    ownerSignature: signatureFrom(sig),
    carry: body.strings("carry") ?? [],
    // The requester's ClaimAgent signature, for a client without a session.
    signature: signatureFrom(body.object("signature", SIGNATURE_FIELDS)),
    idempotencyKey: idempotencyKeyOf(body.string("idempotencyKey", ""), idempotencyKeyHeader),
  });
  return { request, inviteField };
}

/** The claim's idempotency key: the body's `idempotencyKey` or the `Idempotency-Key` header (the same, if both). */
function idempotencyKeyOf(fromBody: string, fromHeader: string | undefined): string {
  const header = fromHeader?.trim() ?? "";
  if (fromBody && header && fromBody !== header)
    throw badRequest("idempotencyKey", "differs from the Idempotency-Key header: give one, or the same in both");
  return fromBody || header;
}

export const PIN_FIELDS = ["pinned", "ownerSignature"] as const;

/** The body of PUT /api/pool/agents/{id}/pin: `pinned` required, `ownerSignature` when there is no session. */
export function pinFromBody(body: JsonObject): { pinned: boolean; ownerSignature: Signature | undefined } {
  return {
    pinned: body.boolean("pinned"),
    ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)),
  };
}

export const REMOVE_FIELDS = ["ownerSignature"] as const;

/** The body of DELETE /api/pool/agents/{id}: none with the owner's session, `{ownerSignature}` (RemoveAgent) without. */
export function removeFromBody(body: JsonObject): { ownerSignature: Signature | undefined } {
  return { ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)) };
}

export const TRANSFER_FIELDS = ["newOwnerId", "ownerSignature"] as const;

/** The body of POST /api/pool/agents/{id}/transfer: the new owner and the owner's TransferAgent signature. */
export function transferFromBody(body: JsonObject): { newOwnerId: string; ownerSignature: Signature | undefined } {
  return {
    newOwnerId: body.string("newOwnerId"),
    ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)),
  };
}

export const ACCEPT_FIELDS = ["signature"] as const;

/** The body of POST /api/pool/agents/{id}/accept: the new owner's AcceptAgent signature. */
export function acceptFromBody(body: JsonObject): { signature: Signature | undefined } {
  return { signature: signatureFrom(body.object("signature", SIGNATURE_FIELDS)) };
}

export const TRUST_FIELDS = ["trustLevel", "dailySpendLimitWei", "ownerSignature"] as const;

export interface TrustBody {
  trustLevel: TrustLevel;
  dailySpendLimitWei: string;
  ownerSignature: Signature | undefined;
}

/**
 * The body of PUT /api/pool/agents/{id}/trust: `trustLevel` "L1" to "L4",
 * `dailySpendLimitWei` (a decimal string) required at L4 and left out (or
 * "") below it, and the owner's SetTrustLevel (required even with a session:
 * the agent checks it; its absence is the claims service's 401).
 */
export function trustFromBody(body: JsonObject): TrustBody {
  const name = body.string("trustLevel");
  const trustLevel = parseTrustLevel(name);
  if (trustLevel === undefined) throw badRequest("trustLevel", NOT_A_TRUST_LEVEL);
  const dailySpendLimitWei = body.string("dailySpendLimitWei", "");
  if (trustLevel === TrustLevel.AUTONOMOUS && dailySpendLimitWei === "") {
    throw badRequest("dailySpendLimitWei", "is required at L4: the most it may spend in a day, in wei");
  }
  if (trustLevel !== TrustLevel.AUTONOMOUS && dailySpendLimitWei !== "") {
    throw badRequest("dailySpendLimitWei", "only L4 has a daily spending limit: leave it out below L4");
  }
  return {
    trustLevel,
    dailySpendLimitWei,
    ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)),
  };
}

/** A body's `ownerSignature`, `{signature, issuedAt, nonce}`, or undefined when it has none. */
export function ownerSignatureFromBody(body: JsonObject): Signature | undefined {
  return signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS));
}

function signatureFrom(sig: JsonObject | undefined): Signature | undefined {
  return sig
    ? create(SignatureSchema, {
        signature: sig.string("signature"),
        issuedAt: BigInt(sig.integer("issuedAt", 0)),
        nonce: sig.string("nonce"),
      })
    : undefined;
}

/**
 * An instance as proto JSON (camelCase, enums by name, int64 as strings,
 * every field present), but its trust level by the name people use: "L1" to
 * "L4" ("" when unknown), as template content names a template's highest.
 */
export function instanceToJson(i: Instance): unknown {
  const json = toJson(InstanceSchema, i, { alwaysEmitImplicit: true }) as Record<string, unknown>;
  // Only what owners are shown of a delisting (docs/store.md); null while listed.
  const d = i.templateDelisting;
  const templateDelisting = d
    ? { reason: d.reason, delistedAt: d.delistedAt ? timestampDate(d.delistedAt).toISOString() : null }
    : null;
  return { ...json, trustLevel: trustLevelName(i.trustLevel), templateDelisting };
}

export type OutcomeName = "done" | "failed" | "refused" | "denied" | "timed_out";

const OUTCOMES: Record<ToolCallOutcome, OutcomeName | ""> = {
  [ToolCallOutcome.UNSPECIFIED]: "",
  [ToolCallOutcome.DONE]: "done",
  [ToolCallOutcome.FAILED]: "failed",
  [ToolCallOutcome.REFUSED]: "refused",
  [ToolCallOutcome.DENIED]: "denied",
  [ToolCallOutcome.TIMED_OUT]: "timed_out",
};

export interface ActivityEntryJson {
  id: string;
  at: string | null;
  toolId: string;
  action: string;
  target: string;
  amountWei: string;
  outcome: OutcomeName | "";
  detail: string;
  trustLevel: TrustLevelName | "";
  approved: boolean;
}

/** One line of an agent's activity log: outcome and level by name, the time in ISO 8601. */
export function activityEntryToJson(e: ActivityEntry): ActivityEntryJson {
  return {
    id: e.id,
    at: e.at ? timestampDate(e.at).toISOString() : null,
    toolId: e.toolId,
    action: e.action,
    target: e.target,
    amountWei: e.amountWei,
    outcome: OUTCOMES[e.outcome] ?? "",
    detail: e.detail,
    trustLevel: trustLevelName(e.trustLevel),
    approved: e.approved,
  };
}

/** A clone's inheritance as proto JSON: `{state: "INHERITANCE_STATE_SENT", carry, error}`. */
export function inheritanceToJson(i: Inheritance): unknown {
  return toJson(InheritanceSchema, i, { alwaysEmitImplicit: true });
}

/** A lineage node as proto JSON (an agent still live has no `endedAt`). */
export function lineageNodeToJson(n: LineageNode): unknown {
  return toJson(LineageNodeSchema, n, { alwaysEmitImplicit: true });
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The claims service's field paths in the body's names: `template_id` →
 * `templateId`, `user_config.personal-email` → `userConfig.personal-email`
 * (the key after `userConfig.` is the tool id, left as it is),
 * `conversation_invite` → the name the body used; list queries:
 * `owner_id` → `owner`, `page_size` → `limit`, `page_token` → `cursor`.
 */
export function claimRestField(inviteField: string = "conversationInvite"): (rpcField: string) => string {
  const QUERY: Record<string, string> = { owner_id: "owner", page_size: "limit", page_token: "cursor" };
  return (rpcField) => {
    const query = QUERY[rpcField];
    if (query) return query;
    const dot = rpcField.indexOf(".");
    const head = dot < 0 ? rpcField : rpcField.slice(0, dot);
    const rest = dot < 0 ? "" : rpcField.slice(dot);
    if (head === "conversation_invite") return inviteField + rest;
    if (head === "user_config") return `userConfig${rest}`;
    if (head === "include_ended") return "ended";
    return camel(head) + (head === "owner_signature" || head === "signature" ? camel(rest) : rest);
  };
}
