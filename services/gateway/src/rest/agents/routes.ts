// The REST paths of agents (docs/rest.md, "Claims and \"My agents\""): "My
// agents", one agent, pinning, removal, transfer, trust, permissions,
// participation, its conversations (added to one, taken out of one,
// participation in one), activity (a session's, and the owner's signed read
// of it whole), the owner's withdrawal from its wallet, and a template's
// instances for its creator. Each is a ClaimService RPC of the forwarder, as on the
// Connect face; 503 when the gateway has no claims service.

import type { Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { Instance } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { additionViolations, participationInViolations } from "@convos-pool/kit/signing";
import type { ClaimsForwarder } from "../../connect/forward.js";
import {
  ACCEPT_FIELDS,
  ADD_TO_CONVERSATION_FIELDS,
  PARTICIPATION_FIELDS,
  PERMISSIONS_FIELDS,
  PIN_FIELDS,
  REMOVE_FIELDS,
  TRANSFER_FIELDS,
  TRUST_FIELDS,
  acceptFromBody,
  addToConversationFromBody,
  conversationToJson,
  instanceToJson,
  participationFromBody,
  participationInFromBody,
  permissionsFromBody,
  pinFromBody,
  removeFromBody,
  transferFromBody,
  trustFromBody,
  type AgentJson,
} from "./json.js";
import { activityEntryToJson, signedPaymentToJson, type ActivityPageJson, type WithdrawalJson } from "./activity.js";
import {
  ADDITION_NAMES,
  AGENT_LIST_ERRORS,
  PARTICIPATION_ERRORS,
  PARTICIPATION_IN_NAMES,
  PERMISSIONS_ERRORS,
} from "./errors.js";
import { AGENT_ERRORS, Violations, badRequest, renaming, type RestErrorMapping } from "../core/errors.js";
import {
  forwarderOf,
  nextCursor,
  query,
  queryBool,
  queryPage,
  type Handler,
  type RestRequest,
  type Route,
} from "../core/request.js";

/** The agent a claims call answers with, as JSON: the claims service always sets it. */
function agentOf(res: { instance?: Instance | undefined }): AgentJson {
  if (!res.instance) throw new Error("claims service answered without the instance");
  return instanceToJson(res.instance);
}

/** "My agents": the owner's live instances across templates; the owner's session only. */
const listAgents: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  const q = query(r, ["owner", "limit", "cursor"]);
  const owner = q.get("owner");
  if (!owner) throw badRequest("owner", "is required: the XMTP inbox ID whose agents to list (your own)");
  const res = await claims.listOwnerAgents({ ownerId: owner, ...queryPage(q) }, r.call);
  return {
    status: 200,
    body: { agents: res.instances.map(instanceToJson), next_cursor: nextCursor(res.nextPageToken) },
  };
};

/** One agent, with its instruction-sync state; the owner's session only (anyone else: 404). */
const getAgent: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const res = await claims.getInstance({ instanceId: r.id }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Pins an agent to the template version it runs, or unpins it (then it is
 * brought to the newest): `{pinned}` with the owner's session, or with
 * `owner_signature` (SetInstancePin) instead. Answers the agent.
 */
const pinAgent: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { pinned, ownerSignature } = pinFromBody(await r.body(PIN_FIELDS));
  const res = await claims.setInstancePin({ instanceId: r.id, pinned, ownerSignature }, r.call);
  return { status: 200, body: agentOf(res) };
};

/** Removes one of the owner's agents for good (204): `owner_signature` (RemoveAgent), required even with a session. */
const removeAgent: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  await claims.removeAgent({ instanceId: r.id, ownerSignature }, r.call);
  return { status: 204 };
};

/**
 * Offers one of the owner's agents to another inbox: `{new_owner_id,
 * owner_signature}` (TransferAgent; required even with a session: the agent
 * checks it). Answers the agent, with `pending_owner_id`.
 */
const transferAgent: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { newOwnerId, ownerSignature } = transferFromBody(await r.body(TRANSFER_FIELDS));
  const res = await claims.transferAgent({ instanceId: r.id, newOwnerId, ownerSignature }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * The owner withdraws the agent's open transfer offer: `{owner_signature}`
 * (WithdrawTransfer naming the offer's inbox; required even with a session:
 * the agent checks it). Answers the agent, with no pending owner.
 */
const withdrawTransfer: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  const res = await claims.withdrawTransfer({ instanceId: r.id, ownerSignature }, r.call);
  return { status: 200, body: agentOf(res) };
};

/** The inbox an agent was offered to takes it: `{signature}` (AcceptAgent). Answers the agent, now theirs. */
const acceptAgent: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { signature } = acceptFromBody(await r.body(ACCEPT_FIELDS));
  const res = await claims.acceptAgent({ instanceId: r.id, signature }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Sets an agent's trust level: `{trust_level: "L1".."L4",
 * daily_spend_limit_wei (L4 only), owner_signature}` (SetTrustLevel; required
 * even with a session: the agent checks it). Answers the agent, at its new level.
 */
const setTrust: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const body = trustFromBody(await r.body(TRUST_FIELDS));
  const res = await claims.setTrustLevel({ instanceId: r.id, ...body }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Sets whose requests an agent acts on and where it asks its owner:
 * `{member_sms?, member_email?, member_crypto?, outsider_reply?, approvals?,
 * owner_signature}` (SetPermissions; required even with a session: the agent
 * checks it). A field left out is its default. Answers the agent, with its
 * new permissions.
 */
const setPermissions: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const body = permissionsFromBody(await r.body(PERMISSIONS_FIELDS));
  const res = await claims.setPermissions({ instanceId: r.id, ...body }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Sets when an agent speaks: `{mode?, cooldown_seconds?, owner_signature}`
 * (SetParticipation; required even with a session: the agent checks it). A
 * field left out is its default ("auto", 0). Answers the agent, with its new
 * participation.
 */
const setParticipation: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const body = participationFromBody(await r.body(PARTICIPATION_FIELDS));
  const res = await claims.setParticipation({ instanceId: r.id, ...body }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Sets when an agent speaks in one of its conversations, the path's
 * `{conversation_id}`: the body of the agent's own participation path,
 * signed as SetConversationParticipation over the conversation too (a
 * signature for the home never sets another). Answers the agent, with each
 * conversation's participation.
 */
const setConversationParticipation: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const check = new Violations();
  const body = participationInFromBody(await r.body(PARTICIPATION_FIELDS), check);
  const req = { instanceId: r.id, conversationId: r.params.conversation_id ?? "", ...body };
  check.doneWith(PARTICIPATION_IN_NAMES, () => participationInViolations(req));
  const res = await claims.setParticipation(req, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * Adds a running agent to another conversation, by its invite:
 * `{conversation_invite, owner_signature, participation?, tools?,
 * confirm_second_agent?}` (AddToConversation; required even with a session:
 * the agent checks it). Answers `{conversation, agent}` once it has joined.
 */
const addToConversation: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const check = new Violations();
  const req = { instanceId: r.id, ...addToConversationFromBody(await r.body(ADD_TO_CONVERSATION_FIELDS), check) };
  check.doneWith(ADDITION_NAMES, () => additionViolations(req));
  const res = await claims.addToConversation(req, r.call);
  if (!res.conversation) throw new Error("claims service answered without the conversation");
  return { status: 200, body: { conversation: conversationToJson(res.conversation), agent: agentOf(res) } };
};

/**
 * Takes an agent out of one of its conversations, the path's
 * `{conversation_id}`: `{owner_signature}` (RemoveFromConversation; required
 * even with a session). Answers the agent, in its other conversations.
 */
const removeFromConversation: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  const conversationId = r.params.conversation_id ?? "";
  const res = await claims.removeFromConversation({ instanceId: r.id, conversationId, ownerSignature }, r.call);
  return { status: 200, body: agentOf(res) };
};

/**
 * The owner takes their share of the agent's wallet to the wallet that signs:
 * `{owner_signature}` (WithdrawFunds; required even with a session). Answers
 * `{amount_wei, to_address, transaction_hash}`.
 */
const withdrawFunds: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  query(r, []);
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  const res = await claims.withdrawFunds({ instanceId: r.id, ownerSignature }, r.call);
  const body: WithdrawalJson = {
    amount_wei: res.amountWei,
    to_address: res.toAddress,
    transaction_hash: res.transactionHash,
  };
  return { status: 200, body };
};

/**
 * A page of an agent's activity log, newest first: `{entries, next_cursor,
 * detailed, signed_payments}`; its owner's session only (anyone else 404). With the owner's
 * `ReadAgentActivity` signature the entries are whole (`detailed: true`);
 * without, each tool call comes without its target, amount, detail and asker.
 */
async function activityPage(
  claims: ClaimsForwarder,
  r: RestRequest,
  ownerSignature?: Signature,
): Promise<{ status: number; body: ActivityPageJson }> {
  const q = query(r, ["limit", "cursor"]);
  const res = await claims.listAgentActivity(
    { instanceId: r.id, ...queryPage(q), ...(ownerSignature ? { ownerSignature } : {}) },
    r.call,
  );
  const body: ActivityPageJson = {
    entries: res.entries.map(activityEntryToJson),
    next_cursor: nextCursor(res.nextPageToken),
    detailed: res.detailed,
    signed_payments: res.signedPayments.map(signedPaymentToJson),
  };
  return { status: 200, body };
}

/** The log as a session alone reads it: no recipient, amount, detail or asker of a tool call (`detailed: false`). */
const agentActivity: Handler = (r, deps) => activityPage(forwarderOf(deps, "claims"), r);

/**
 * The log whole: `{owner_signature}` (ReadAgentActivity, single use) with the
 * owner's session; the page is the query's, as on the GET. Without the
 * signature it is the session's read, `detailed: false`, as ListAgentActivity
 * answers on Connect: the claims service judges the agent first on both
 * faces (an agent not the caller's is 404), and REST refuses nothing the RPC
 * takes.
 */
const agentActivityWhole: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  const { ownerSignature } = removeFromBody(await r.body(REMOVE_FIELDS));
  return activityPage(claims, r, ownerSignature);
};

/**
 * A template's instances with their count, for its creator's session (the
 * data of the creator's dashboard): `{instances, total_count, next_cursor,
 * reach}`.
 */
const listTemplateInstances: Handler = async (r, deps) => {
  const claims = forwarderOf(deps, "claims");
  const q = query(r, ["live", "limit", "cursor"]);
  const res = await claims.listTemplateInstances(
    {
      templateId: r.id,
      liveOnly: queryBool(q, "live"),
      ...queryPage(q),
    },
    r.call,
  );
  const reach = res.reach;
  return {
    status: 200,
    body: {
      instances: res.instances.map(instanceToJson),
      total_count: Number(res.totalCount),
      next_cursor: nextCursor(res.nextPageToken),
      reach: {
        release_version: Number(reach?.releaseVersion ?? 0n),
        live_count: Number(reach?.liveCount ?? 0n),
        current_count: Number(reach?.currentCount ?? 0n),
        pending_count: Number(reach?.pendingCount ?? 0n),
        failed_count: Number(reach?.failedCount ?? 0n),
        pinned_count: Number(reach?.pinnedCount ?? 0n),
        running: (reach?.running ?? []).map((v) => ({ version: Number(v.version), count: Number(v.count) })),
      },
    },
  };
};

/** ListTemplateInstances' field paths in the query's names (`template_id` is the path's `{id}`). */
const TEMPLATE_INSTANCES_ERRORS: RestErrorMapping = {
  field: renaming({ live_only: "live", page_size: "limit", page_token: "cursor" }),
};

export const AGENT_ROUTES: Route[] = [
  ["GET", "/templates/:id/instances", listTemplateInstances, TEMPLATE_INSTANCES_ERRORS],
  ["GET", "/agents", listAgents, AGENT_LIST_ERRORS],
  ["GET", "/agents/:id", getAgent, AGENT_ERRORS],
  ["PUT", "/agents/:id/pin", pinAgent, AGENT_ERRORS],
  ["DELETE", "/agents/:id", removeAgent, AGENT_ERRORS],
  ["POST", "/agents/:id/transfer", transferAgent, AGENT_ERRORS],
  ["DELETE", "/agents/:id/transfer", withdrawTransfer, AGENT_ERRORS],
  ["POST", "/agents/:id/accept", acceptAgent, AGENT_ERRORS],
  ["PUT", "/agents/:id/trust", setTrust, AGENT_ERRORS],
  ["PUT", "/agents/:id/permissions", setPermissions, PERMISSIONS_ERRORS],
  ["PUT", "/agents/:id/participation", setParticipation, PARTICIPATION_ERRORS],
  ["POST", "/agents/:id/conversations", addToConversation, ADDITION_NAMES],
  ["DELETE", "/agents/:id/conversations/:conversation_id", removeFromConversation, AGENT_ERRORS],
  [
    "PUT",
    "/agents/:id/conversations/:conversation_id/participation",
    setConversationParticipation,
    PARTICIPATION_IN_NAMES,
  ],
  ["GET", "/agents/:id/activity", agentActivity, AGENT_ERRORS],
  ["POST", "/agents/:id/activity/list", agentActivityWhole, AGENT_ERRORS],
  ["POST", "/agents/:id/withdraw", withdrawFunds, AGENT_ERRORS],
];
