// The claim (and clone), "My agents", pin, transfer and lineage REST bodies (docs/rest.md, seed 000's camelCase):
// a claim body as ClaimService's ClaimRequest, instances as proto JSON, and
// the claims service's RPC field paths renamed to the body's.

import { create, toJson } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import { ClaimRequestSchema, type ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { InheritanceSchema, InstanceSchema, type Inheritance, type Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { LineageNodeSchema, type LineageNode } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
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
export function claimFromBody(body: JsonObject): ClaimBody {
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
  });
  return { request, inviteField };
}

export const PIN_FIELDS = ["pinned", "ownerSignature"] as const;

/** The body of PUT /api/pool/agents/{id}/pin: `pinned` required, `ownerSignature` when there is no session. */
export function pinFromBody(body: JsonObject): { pinned: boolean; ownerSignature: Signature | undefined } {
  return { pinned: body.boolean("pinned"), ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)) };
}

export const REMOVE_FIELDS = ["ownerSignature"] as const;

/** The body of DELETE /api/pool/agents/{id}: none with the owner's session, `{ownerSignature}` (RemoveAgent) without. */
export function removeFromBody(body: JsonObject): { ownerSignature: Signature | undefined } {
  return { ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)) };
}

export const TRANSFER_FIELDS = ["newOwnerId", "ownerSignature"] as const;

/** The body of POST /api/pool/agents/{id}/transfer: the new owner and the owner's TransferAgent signature. */
export function transferFromBody(body: JsonObject): { newOwnerId: string; ownerSignature: Signature | undefined } {
  return { newOwnerId: body.string("newOwnerId"), ownerSignature: signatureFrom(body.object("ownerSignature", SIGNATURE_FIELDS)) };
}

export const ACCEPT_FIELDS = ["signature"] as const;

/** The body of POST /api/pool/agents/{id}/accept: the new owner's AcceptAgent signature. */
export function acceptFromBody(body: JsonObject): { signature: Signature | undefined } {
  return { signature: signatureFrom(body.object("signature", SIGNATURE_FIELDS)) };
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

/** An instance as proto JSON (camelCase, enums by name, int64 as strings, every field present). */
export function instanceToJson(i: Instance): unknown {
  return toJson(InstanceSchema, i, { alwaysEmitImplicit: true });
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
