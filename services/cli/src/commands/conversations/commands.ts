// One agent in several conversations from the command line (docs/cli.md;
// docs/design/one-agent-many-conversations.md): add a running agent to
// another conversation by its invite, take it out of one, and list where it
// is. Each change is signed by the key as the agent's owner; the agent checks
// the signature itself, so a session is not enough.
import type { AgentConversationJson, AgentJson } from "@convos-pool/gateway/rest-json";
import { ConversationTools } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { parseParticipationMode, type ResolvedParticipation } from "@convos-pool/kit/content";
import { addToConversationFields } from "@convos-pool/kit/signing";
import type { ParticipationArgs } from "../agents/args.js";
import type { ConversationToolsName } from "./args.js";
import { request, type Context } from "../../core/http.js";
import { loadKey } from "../../core/key-store.js";
import { signRest } from "../../core/signing.js";

const agentPath = (id: string) => `/api/pool/agents/${encodeURIComponent(id)}`;

export interface AddToOptions {
  /** `--mode` and `--cooldown`, only those given (the rest: the defaults, auto and 0). */
  participation?: ParticipationArgs | undefined;
  /** `--tools`; unset: shared. */
  tools?: ConversationToolsName | undefined;
  /** `--second-agent`: another agent of its template is there, and the owner adds this one anyway. */
  secondAgent?: boolean | undefined;
}

/**
 * The request of `add-to`: the REST body (only what was given, beside the
 * invite) and the fields the owner signs (AddToConversation over the same
 * values, the defaults filled in as the claims service and the agent rebuild
 * them: kit `addToConversationFields`).
 */
export function addToRequest(
  ownerId: string,
  instanceId: string,
  invite: string,
  opts: AddToOptions,
): { body: Record<string, unknown>; signed: ReturnType<typeof addToConversationFields> } {
  const given = opts.participation ?? {};
  const participation: Partial<ResolvedParticipation> = {};
  if (given.mode !== undefined) participation.mode = parseParticipationMode(given.mode);
  if (given.cooldown_seconds !== undefined) participation.cooldownSeconds = given.cooldown_seconds;
  const signed = addToConversationFields({
    ownerId,
    instanceId,
    conversationInvite: invite,
    participation,
    tools: opts.tools === "none" ? ConversationTools.NONE : ConversationTools.SHARED,
    secondAgent: opts.secondAgent === true,
  });
  const body = {
    conversation_invite: invite,
    ...(Object.keys(given).length > 0 ? { participation: given } : {}),
    ...(opts.tools !== undefined ? { tools: opts.tools } : {}),
    ...(opts.secondAgent === true ? { confirm_second_agent: true } : {}),
  };
  return { body, signed };
}

/**
 * Adds my running agent to the conversation of INVITE, signed by the key as
 * its owner (AddToConversation); prints `{conversation, agent}` once it has
 * joined.
 */
export async function addTo(ctx: Context, id: string, invite: string, opts: AddToOptions = {}): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const { body, signed } = addToRequest(key.inbox_id, id, invite, opts);
  const { inboxId: _owner, ...fields } = signed;
  const ownerSignature = await signRest(ctx, key, "AddToConversation", fields);
  return (
    await request(ctx, "POST", `${agentPath(id)}/conversations`, { body: { ...body, owner_signature: ownerSignature } })
  ).body;
}

/** Takes my agent out of one of its conversations (its id, as `conversations` lists it), signed RemoveFromConversation; prints the agent. */
export async function leave(ctx: Context, id: string, conversationId: string): Promise<unknown> {
  const key = await loadKey(ctx.keyFile);
  const ownerSignature = await signRest(ctx, key, "RemoveFromConversation", { instanceId: id, conversationId });
  const path = `${agentPath(id)}/conversations/${encodeURIComponent(conversationId)}`;
  return (await request(ctx, "DELETE", path, { body: { owner_signature: ownerSignature } })).body;
}

/** One conversation as the agent's JSON shows it (docs/rest.md, "An agent's conversations"), its fields as the gateway writes them; any may be missing. */
export type ConversationJson = Partial<AgentConversationJson>;

/** My agent's conversations, read signed in, one a line (`conversationsListing`). */
export async function conversations(ctx: Context, id: string): Promise<string> {
  const agent = (await request(ctx, "GET", agentPath(id), { auth: "session" })).body as AgentJson;
  return conversationsListing(agent.conversations ?? []);
}

/**
 * The listing of `pool conversations`: one conversation a line, the home
 * first, tab-separated: its id (what `pool leave` takes; "(joining)" before
 * it has one), its name with "(home)" after the home's, its state, when it
 * speaks there (the mode, and the cooldown when there is one) and whether its
 * tools act there ("tools shared" or "no tools").
 */
export function conversationsListing(list: readonly ConversationJson[]): string {
  if (list.length === 0) return "(in no conversation)";
  const ordered = [...list.filter((c) => c.home), ...list.filter((c) => !c.home)];
  return ordered
    .map((c) => {
      const name = `${c.name || "(no name)"}${c.home ? " (home)" : ""}`;
      const mode = c.participation?.mode || "auto";
      const cooldown = c.participation?.cooldown_seconds ?? 0;
      const speaks = cooldown > 0 ? `${mode}, ${cooldown} s cooldown` : mode;
      const tools = c.tools === "none" ? "no tools" : "tools shared";
      return [c.id || "(joining)", name, c.state || "unknown", speaks, tools].join("\t");
    })
    .join("\n");
}
