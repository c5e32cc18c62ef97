// How the agent paths' RPC errors read on REST (the route table names one
// beside each route): the claims service's field paths in the body's names,
// and RESOURCE_EXHAUSTED without a limit as "no idle agent right now".

import { Code } from "@connectrpc/connect";
import { AGENT_ERRORS, fieldNames, type RestErrorMapping } from "../core/errors.js";

/** The permissions path's: the RPC's `permissions.member_sms` is the body's `member_sms`. */
export const PERMISSIONS_ERRORS: RestErrorMapping = {
  field: (rpcField, sent) => AGENT_ERRORS.field(rpcField.replace(/^permissions\./, ""), sent),
};

/** The participation path's: the RPC's `participation.mode` is the body's `mode`. */
export const PARTICIPATION_ERRORS: RestErrorMapping = {
  field: (rpcField, sent) => AGENT_ERRORS.field(rpcField.replace(/^participation\./, ""), sent),
};

/** An addition to a conversation's fields in REST's words: the claims service's are the body's (`participation.mode`). */
export const ADDITION_NAMES = fieldNames({
  instance_id: "instance_id",
  conversation_invite: "conversation_invite",
  owner_signature: "owner_signature",
  participation: "participation",
  tools: "tools",
  confirm_second_agent: "confirm_second_agent",
});

/** A participation in a named conversation: the RPC's `participation.mode` is the body's `mode`, `conversation_id` the path's. */
export const PARTICIPATION_IN_NAMES = fieldNames({
  instance_id: "instance_id",
  conversation_id: "conversation_id",
  participation: "",
  owner_signature: "owner_signature",
});

/** Seconds a client should wait before retrying a claim that found no idle agent (the pool refills every few seconds). */
export const CLAIM_RETRY_AFTER_SECONDS = 5;

/**
 * RESOURCE_EXHAUSTED without a LimitExceeded detail, on the claim and "My
 * agents", means the warm pool has no idle agent right now (or a provider's
 * range is used up), not that this client sent too much: 503 with
 * Retry-After, which clients and proxies retry. A limit (with the detail)
 * stays 429 (errors.ts).
 */
export const NO_IDLE_AGENT: NonNullable<RestErrorMapping["byCode"]> = {
  [Code.ResourceExhausted]: {
    status: 503,
    type: "unavailable",
    headers: { "retry-after": String(CLAIM_RETRY_AFTER_SECONDS) },
  },
};

/** "My agents": the agent paths' names, RESOURCE_EXHAUSTED as on the claim. */
export const AGENT_LIST_ERRORS: RestErrorMapping = { ...AGENT_ERRORS, byCode: NO_IDLE_AGENT };
