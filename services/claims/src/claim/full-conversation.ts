/**
 * A full conversation (docs/claims.md, "A full conversation"). XMTP allows
 * a group 250 members (GROUP_MEMBER_LIMIT). An agent let into a larger one
 * says so and leaves (the join's `memberLimit`): the claim fails, but only
 * once an agent was taken, configured and let in. The pool cannot read a
 * conversation from its invite, but an agent of its own already in that
 * conversation can count its members: before a claim takes an agent, the
 * pool asks one and refuses at the limit at once.
 *
 * A conversation is known by its invite's creator inbox and tag together: a
 * tag alone is anyone's to copy into an invite of their own, and a look-alike
 * conversation of theirs, full, would then turn away claims into another's.
 * The key is recorded only once the agent's host has checked the invite's
 * signature and joined the group that creator added it to with that tag.
 */
import { GROUP_MEMBER_LIMIT, parseInvite } from "@convos-pool/convos";
import { failedPreconditionOn } from "@convos-pool/kit/content";
import type { Logger } from "@convos-pool/kit/server";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { InstanceRef, InstanceRuntime } from "../hosts/runtime.js";

/** How long the agent asked may take: past it, the claim goes on, and its join says what happened. */
const ASK_MS = 5_000;

/** Refuses a claim into a conversation that has `members` already when it has no free place for one more. */
export function checkNotFull(members: number): void {
  if (members < GROUP_MEMBER_LIMIT) return;
  throw failedPreconditionOn(
    "conversation_invite",
    `the conversation has ${members} members, the most XMTP allows in a group (${GROUP_MEMBER_LIMIT}): ` +
      "someone must leave before an agent can join",
  );
}

/** The invite's conversation as "creator inbox/tag"; none when it does not parse here (the agent's join says why). */
export async function conversationKeyOf(invite: string): Promise<string | undefined> {
  try {
    const parsed = await parseInvite(invite);
    return `${parsed.creatorInboxId}/${parsed.payload.tag}`;
  } catch {
    return undefined;
  }
}

/** The agent claimed into the conversation `key` names most lately, if the pool has one there. */
export async function agentIn(em: EntityManager, key: string): Promise<InstanceRef | undefined> {
  const [row] = await em.execute<{ id: string; host_url: string; inbox_id: string }[]>(
    `select id, host_url, inbox_id from instances where state = 'claimed' and conversation_key = ?
     order by claimed_at desc limit 1`,
    [key],
  );
  return row ? { id: row.id, hostUrl: row.host_url, inboxId: row.inbox_id } : undefined;
}

/**
 * Refuses the claim when an agent of the pool in the conversation counts it
 * full. An agent that cannot answer lets the claim go on: the limit is
 * XMTP's to enforce, this only answers sooner and clearly.
 */
export async function checkConversationNotFull(
  deps: { em: EntityManager; runtime: InstanceRuntime; log: Logger },
  key: string,
): Promise<void> {
  const agent = await agentIn(deps.em.fork(), key);
  if (!agent) return;
  let members: number;
  try {
    members = await deps.runtime.countMembers(agent, ASK_MS);
  } catch (err) {
    deps.log.warn("could not count a conversation's members before a claim", { instanceId: agent.id, err });
    return;
  }
  checkNotFull(members);
}
