// An agent's conversations as the claims feed tells them
// (lineage_agent_conversations, migration 0011): one row per stretch of an
// agent in one conversation, opened and closed in the transaction of the
// event that says so (events.ts). Today a claim opens the agent's one
// conversation and its end closes every one; the feed's joins and leaves
// (an agent added to or leaving a conversation) open and close one each.
// Figures count the union of these, each conversation once (signals/).
import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * `instanceId` is in `conversationId` from `at`. Nothing when it is already
 * in it (an event told twice), when the agent ended or lineage never heard
 * of it, or when the conversation is unknown (''): such an agent counts as
 * one of its own. `home`: it is now the agent's home
 * (lineage_agents.conversation_id, what the older fields name), as when its
 * home was left and the oldest added conversation took its place.
 */
export async function joinConversation(
  tx: EntityManager,
  instanceId: string,
  conversationId: string,
  at: Date,
  home = false,
): Promise<void> {
  if (!conversationId) return;
  if (home)
    await tx.execute(
      `update lineage_agents set conversation_id = ? where instance_id = ? and ended_at is null`,
      [conversationId, instanceId],
      "run",
    );
  // A stretch left in the millisecond it began, and joined again then, is reopened: its start is its key.
  await tx.execute(
    `insert into lineage_agent_conversations (instance_id, conversation_id, from_at)
     select ?, ?, ? where exists (select 1 from lineage_agents where instance_id = ? and ended_at is null)
       and not exists (select 1 from lineage_agent_conversations where instance_id = ? and conversation_id = ? and to_at is null)
     on conflict (instance_id, conversation_id, from_at) do update set to_at = null`,
    [instanceId, conversationId, at, instanceId, instanceId, conversationId],
    "run",
  );
}

/** `instanceId` left `conversationId` at `at`; every one it is in when `conversationId` is absent (it ended). */
export async function leaveConversation(
  tx: EntityManager,
  instanceId: string,
  conversationId: string | undefined,
  at: Date,
): Promise<void> {
  await tx.execute(
    `update lineage_agent_conversations set to_at = greatest(from_at, ?)
     where instance_id = ? and to_at is null ${conversationId === undefined ? "" : "and conversation_id = ?"}`,
    [at, instanceId, ...(conversationId === undefined ? [] : [conversationId])],
    "run",
  );
}
