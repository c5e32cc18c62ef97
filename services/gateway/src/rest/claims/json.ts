// The claim's REST bodies (docs/rest.md, "Claims and \"My agents\""): the
// claim (and clone) as ClaimService's ClaimRequest, in snake_case as every
// REST body, the conversation by its invite (or the `conversation_id` alias),
// a claim's progress, and the claim's errors in the body's names.

import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  ClaimRequestSchema,
  ClaimStage,
  type ClaimRequest,
  type GetClaimProgressResponse,
} from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { AGENT_ERRORS, badRequest, Violations, type RestErrorMapping } from "../core/errors.js";
import type { BodyOf, JsonObject } from "../core/json.js";
import { signatureOf } from "../core/signature-json.js";
import { NO_IDLE_AGENT } from "../agents/errors.js";
import { CONVERSATION_ID } from "../agents/json.js";

export const CLAIM_FIELDS = [
  "requester",
  "template_id",
  "conversation_invite",
  "conversation_id",
  "model",
  "user_config",
  "clone_from",
  "context_prompt",
  "owner_signature",
  "signature",
  "carry",
  "idempotency_key",
  "template_creator_id",
  "confirm_second_agent",
] as const;

/** What POST /api/pool/claim takes (a claim, or a clone with `clone_from`), by name. */
export type ClaimRequestJson = BodyOf<typeof CLAIM_FIELDS>;

/**
 * The body of POST /api/pool/claim. The conversation is given by its invite:
 * `conversation_invite`, or `conversation_id` as an alias (the name clients
 * of the first REST API used) when it is unambiguous: given alone, and not a
 * bare conversation ID.
 */
export function claimFromBody(body: JsonObject, idempotencyKeyHeader?: string): ClaimRequest {
  const check = new Violations();
  const hasInvite = body.has("conversation_invite");
  const hasId = body.has("conversation_id");
  if (hasInvite && hasId)
    check.add({
      field: "conversation_id",
      description: "give conversation_invite or its alias conversation_id, not both",
    });
  // Left out, "": the claims service names it with the template and the requester, every fault at once.
  const invite = check.read(() => body.string(hasId ? "conversation_id" : "conversation_invite", "")) ?? "";
  if (hasId && CONVERSATION_ID.test(invite.trim()))
    check.add({
      field: "conversation_id",
      description:
        "is a conversation ID; an agent joins a conversation through its invite: send the Convos invite link (or slug) as conversation_invite",
    });
  const read = <T>(get: () => T, none: T): T => check.read(get) ?? none;
  const request = create(ClaimRequestSchema, {
    requester: read(() => body.string("requester", ""), ""),
    // Required (the claims service says so, naming the field); a clone's is its parent's.
    templateId: read(() => body.string("template_id", ""), ""),
    // A clone's: the creator of its template, which the owner signs.
    templateCreatorId: read(() => body.string("template_creator_id", ""), ""),
    conversationInvite: invite,
    model: read(() => body.string("model", ""), ""),
    userConfig: read(() => body.stringMap("user_config"), undefined) ?? {},
    cloneFrom: read(() => body.string("clone_from", ""), ""),
    contextPrompt: read(() => body.string("context_prompt", ""), ""),
    ownerSignature: read(() => signatureOf(body, "owner_signature"), undefined),
    carry: read(() => body.strings("carry"), undefined) ?? [],
    // The requester's ClaimAgent signature, for a client without a session.
    signature: read(() => signatureOf(body), undefined),
    idempotencyKey: read(() => idempotencyKeyOf(body.string("idempotency_key", ""), idempotencyKeyHeader), ""),
    // A second agent of the template in the conversation, confirmed (and signed, with `signature`).
    confirmSecondAgent: read(() => body.boolean("confirm_second_agent", false), false),
  });
  // Every field of the wrong type or shape named at once; the claims service then names what breaks its rules.
  check.done();
  return request;
}

/** The claim's idempotency key: the body's `idempotency_key` or the `Idempotency-Key` header (the same, if both). */
function idempotencyKeyOf(fromBody: string, fromHeader: string | undefined): string {
  const header = fromHeader?.trim() ?? "";
  if (fromBody && header && fromBody !== header)
    throw badRequest("idempotency_key", "differs from the Idempotency-Key header: give one, or the same in both");
  return fromBody || header;
}

/** The claim's errors: the agent paths', the invite named as the body named it (`conversation_id`, the alias). */
export const CLAIM_ERRORS: RestErrorMapping = {
  field: (rpcField, sent) => {
    const alias = sent("conversation_id") && /^conversation_invite(?=$|[.[])/.test(rpcField);
    return alias ? rpcField.replace("conversation_invite", "conversation_id") : AGENT_ERRORS.field(rpcField, sent);
  },
  byCode: NO_IDLE_AGENT,
};

/** A claim's stage on REST: the enum's name after `CLAIM_STAGE_`, lower case ("joining"). */
export function claimStageName(stage: ClaimStage): string {
  return (ClaimStage[stage] ?? "UNSPECIFIED").toLowerCase();
}

/** What GET /api/pool/claims/{id} answers: a claim's stage by name ("joining"), its agent once made, its error once failed. */
export interface ClaimProgressJson {
  stage: string;
  started_at: string | null;
  cancel_requested: boolean;
  instance_id?: string;
  error?: { code: string; message: string };
}

/** GetClaimProgress as JSON: `{stage, started_at, cancel_requested, instance_id?, error?}`. */
export function claimProgressToJson(p: GetClaimProgressResponse): ClaimProgressJson {
  return {
    stage: claimStageName(p.stage),
    started_at: p.startedAt ? timestampDate(p.startedAt).toISOString() : null,
    cancel_requested: p.cancelRequested,
    ...(p.instanceId ? { instance_id: p.instanceId } : {}),
    ...(p.errorCode ? { error: { code: p.errorCode, message: p.errorMessage } } : {}),
  };
}
