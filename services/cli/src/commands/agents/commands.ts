// The agent commands: add an agent of a template to a conversation, list and
// read my agents, and what an owner does with one (pin, remove, withdraw its funds, clone,
// transfer, accept, its activity and lineage), each signed with the
// key as the requester or owner (docs/cli.md). Bodies and answers are the
// gateway's snake_case JSON (docs/rest.md); the signed fields are the kit's
// EIP-712 types.
import type {
  AcceptRequestJson,
  AgentJson,
  ClaimRequestJson,
  OwnerSignedRequestJson,
  PinRequestJson,
  TemplateJson,
  TransferRequestJson,
  WithdrawalJson,
} from "@convos-pool/gateway/rest-json";
import { randomUUID } from "node:crypto";
import { type ToolJson, toolValueProblem } from "@convos-pool/kit/content";
import { claimFields, cloneFields } from "@convos-pool/kit/signing";
import { formatActivity, type ActivityPage } from "./activity.js";
import { CommandUsageError } from "../../core/args.js";
import { CliError, HttpError } from "../../core/errors.js";
import { NetworkError, request, type Context, type Page } from "../../core/http.js";
import { pause } from "../../core/context.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";
import { followClaim } from "./claim-progress.js";

const agentPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}`;
const templatePath = (id: string) => `/api/pool/templates/${encodeURIComponent(id)}`;

/** Tries of one claim when the connection fails. */
const CLAIM_ATTEMPTS = 3;

/**
 * Refuses a `--config` value not of its tool's kind before anything is
 * signed, in the words the claims service would use (the kit's
 * toolValueProblem). The tools are the template's own as the store shows
 * them; a template this cannot read (a private one, signed out) or a base's
 * tools are left to the claims service, which checks every value anyway.
 */
export function checkConfig(
  command: "claim" | "clone",
  tools: readonly ToolJson[] | undefined,
  config: Record<string, string>,
): void {
  for (const tool of tools ?? []) {
    const value = config[tool.id];
    if (tool.provisioning !== "user" || value === undefined) continue;
    const problem = toolValueProblem(tool, value);
    if (problem) throw new CommandUsageError(`--config ${tool.id} ${problem}`, command);
  }
}

/** The template's tools as anyone may read them; undefined when it is not readable so. */
async function publicTools(ctx: Context, templateId: string): Promise<ToolJson[] | undefined> {
  try {
    // The template's content fields are its JSON's own (`tools`), not under a `content` key.
    return ((await request(ctx, "GET", templatePath(templateId))).body as TemplateJson).tools;
  } catch (err) {
    if (err instanceof HttpError) return undefined;
    throw err;
  }
}

/**
 * Adds an agent of a template to a Convos conversation, by its invite, for
 * the key's inbox (its owner from then on). The claim is signed (ClaimAgent),
 * so no session is needed; the answer comes once the agent has joined.
 */
export async function claim(
  ctx: Context,
  templateId: string,
  invite: string,
  opts: {
    model?: string | undefined;
    config?: Record<string, string> | undefined;
    /** Confirms a second agent of the template in the conversation (signed as `secondAgent`). */
    secondAgent?: boolean | undefined;
  } = {},
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const confirmSecondAgent = opts.secondAgent === true;
  const model = opts.model ?? "";
  const userConfig = opts.config ?? {};
  if (Object.keys(userConfig).length > 0) checkConfig("claim", await publicTools(ctx, templateId), userConfig);
  const { inboxId: _requester, ...fields } = claimFields({
    requester: key.inbox_id,
    templateId,
    conversationInvite: invite,
    model,
    userConfig,
    confirmSecondAgent,
  });
  const signature = await signRest(ctx, key, "ClaimAgent", fields);
  const body = {
    requester: key.inbox_id,
    template_id: templateId,
    conversation_invite: invite,
    model,
    user_config: userConfig,
    ...(confirmSecondAgent ? { confirm_second_agent: true } : {}),
    signature,
  } satisfies ClaimRequestJson;
  // An answer lost on the way (a broken connection) is asked for again with the same key: the same agent, never a second.
  const idempotencyKey = randomUUID();
  const sent = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await request(ctx, "POST", "/api/pool/claim", { body, idempotencyKey })).body;
      } catch (err) {
        if (!(err instanceof NetworkError) || attempt === CLAIM_ATTEMPTS) throw err;
        await pause(ctx, 1_000 * attempt);
      }
    }
  })();
  // The same key names the claim to follow on stderr, and to cancel on Ctrl-C (claim-progress.ts).
  if (ctx.progress) await followClaim(ctx, idempotencyKey, sent, ctx.progress);
  return sent;
}

/** My agents across templates (signed in). */
export async function agents(ctx: Context, page: Page = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  return (await request(ctx, "GET", "/api/pool/agents", { auth: "session", query: { owner: key.inbox_id, ...page } }))
    .body;
}

/** One of my agents, with its instruction-sync state (signed in). */
export async function agent(ctx: Context, id: string): Promise<unknown> {
  return (await request(ctx, "GET", agentPath(id), { auth: "session" })).body;
}

/** Pins or unpins my agent, signed by the key as its owner (SetInstancePin). */
export async function pinAgent(ctx: Context, id: string, pinned: boolean): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "SetInstancePin", { instanceId: id, pinned });
  return (
    await request(ctx, "PUT", `${agentPath(id)}/pin`, {
      body: { pinned, owner_signature: ownerSignature } satisfies PinRequestJson,
    })
  ).body;
}

/** Removes my agent for good, signed by the key as its owner (RemoveAgent). The server answers 204. */
export async function removeAgent(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "RemoveAgent", { instanceId: id });
  await request(ctx, "DELETE", agentPath(id), {
    body: { owner_signature: ownerSignature } satisfies OwnerSignedRequestJson,
  });
  return { id, removed: true };
}

/**
 * Takes my share of my agent's wallet (above what the pool granted it, less
 * the fee) to the key's own address: the funds go to the wallet that signs
 * WithdrawFunds. Prints what was sent and where.
 */
export async function withdrawFunds(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "WithdrawFunds", { instanceId: id });
  const res = (await request(ctx, "POST", `${agentPath(id)}/withdraw`, { body: { owner_signature: ownerSignature } }))
    .body as WithdrawalJson;
  return { id, amount_wei: res.amount_wei, to_address: res.to_address, transaction_hash: res.transaction_hash };
}

/**
 * Clones my agent into another conversation, with what it learned: the
 * kinds of memory that carry, under a directive (none: the template's
 * default). Signed as the owner (CloneAgent), naming the parent's template
 * and its creator (read first, signed in); the answer comes once the clone has joined and its parent has sent (or
 * refused) its summary: `inheritance` says which.
 */
export async function clone(
  ctx: Context,
  parentId: string,
  invite: string,
  opts: {
    directive?: string | undefined;
    carry?: string[] | undefined;
    model?: string | undefined;
    config?: Record<string, string> | undefined;
  } = {},
): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  // The owner signs which template, and whose, the clone runs: its parent's.
  // The parent checks that it runs exactly that one before it sends anything.
  const parent = (await request(ctx, "GET", agentPath(parentId), { auth: "session" })).body as AgentJson;
  const templateId = parent.template_id ?? "";
  const template = (await request(ctx, "GET", templatePath(templateId), { auth: "session" })).body as TemplateJson;
  checkConfig("clone", template.tools, opts.config ?? {});
  const fields = {
    ownerId: key.inbox_id,
    parentInstanceId: parentId,
    templateId,
    templateCreatorId: template.creator_id ?? "",
    conversationInvite: invite,
    contextPrompt: opts.directive ?? "",
    carry: opts.carry ?? [],
    model: opts.model ?? "",
    userConfig: opts.config ?? {},
  };
  const { inboxId: _owner, ...signed } = cloneFields(fields);
  const ownerSignature = await signRest(ctx, key, "CloneAgent", signed);
  const body = {
    requester: key.inbox_id,
    clone_from: parentId,
    template_id: fields.templateId,
    template_creator_id: fields.templateCreatorId,
    conversation_invite: invite,
    context_prompt: fields.contextPrompt,
    carry: fields.carry,
    model: fields.model,
    user_config: fields.userConfig,
    owner_signature: ownerSignature,
  } satisfies ClaimRequestJson;
  return (await request(ctx, "POST", "/api/pool/claim", { body })).body;
}

/** Offers my agent to another inbox (TransferAgent, signed as the owner); nothing changes until they accept. */
export async function transferAgent(ctx: Context, id: string, newOwnerId: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "TransferAgent", { instanceId: id, newOwnerId });
  const body = { new_owner_id: newOwnerId, owner_signature: ownerSignature } satisfies TransferRequestJson;
  return (await request(ctx, "POST", `${agentPath(id)}/transfer`, { body })).body;
}

/** Withdraws my open offer of an agent (WithdrawTransfer naming the inbox it is offered to, read from the agent). */
export async function withdrawTransfer(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const agent = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson;
  if (!agent.pending_owner_id) throw new CliError(`agent ${id} has no open transfer offer`);
  const fields = { instanceId: id, newOwnerId: agent.pending_owner_id };
  const ownerSignature = await signRest(ctx, key, "WithdrawTransfer", fields);
  return (await request(ctx, "DELETE", `${agentPath(id)}/transfer`, { body: { owner_signature: ownerSignature } }))
    .body;
}

/**
 * Accepts an agent offered to the key's inbox: reads it (the inbox it is
 * offered to may) to learn whose it is, signs AcceptAgent naming that owner.
 */
export async function acceptAgent(ctx: Context, id: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const offered = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson;
  if (offered.pending_owner_id !== key.inbox_id)
    throw new CliError(`agent ${id} is not offered to you (${key.inbox_id})`);
  const signature = await signRest(ctx, key, "AcceptAgent", { instanceId: id, fromOwnerId: offered.owner_id ?? "" });
  return (await request(ctx, "POST", `${agentPath(id)}/accept`, { body: { signature } satisfies AcceptRequestJson }))
    .body;
}

/**
 * My agent's activity log, newest first, as a table: whole, each call with
 * whom it was for, how much and its detail, since the key signs the read as
 * its owner (ReadAgentActivity, POST …/activity/list), signed in as well.
 */
export async function activity(ctx: Context, id: string, page: Page = {}): Promise<string> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "ReadAgentActivity", { instanceId: id });
  const reply = await request(ctx, "POST", `${agentPath(id)}/activity/list`, {
    auth: "session",
    query: { ...page },
    body: { owner_signature: ownerSignature },
  });
  return formatActivity(reply.body as ActivityPage);
}

/** An agent's lineage (signed in as its owner or its template's creator). */
export async function lineage(ctx: Context, id: string): Promise<unknown> {
  return (await request(ctx, "GET", `${agentPath(id)}/lineage`, { auth: "session" })).body;
}

/** A template's dashboard for its creator (signed in). */
export async function dashboard(ctx: Context, templateId: string): Promise<unknown> {
  return (await request(ctx, "GET", `${templatePath(templateId)}/dashboard`, { auth: "session" })).body;
}

/** My agents with their lineage (signed in). */
export async function family(ctx: Context, opts: Page & { ended?: boolean | undefined } = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const query = { owner: key.inbox_id, ended: opts.ended ? "true" : undefined, limit: opts.limit, cursor: opts.cursor };
  return (await request(ctx, "GET", "/api/pool/lineage", { auth: "session", query })).body;
}
