/**
 * The release each instance follows, in SQL: its target (docs/claims.md,
 * "Staged rollouts"). Every "behind", "due" and "current" of instruction
 * sync compares an instance's `applied_key` with this key, so the fan-out,
 * a claim's completion and the lists agree on it.
 *
 * The template's held release (`template_releases`), unless the template has
 * a rollout (`template_rollouts`, a running or paused one) and either the
 * instance has applied its candidate already, or the rollout is not paused
 * and the agent is in the share: its conversation (kit `rolloutBucketSql`,
 * the same place as kit `rolloutBucket`) and every other conversation it is
 * in (`agent_conversations`, docs/rollouts.md, "An agent in several
 * conversations"). Then the candidate. An instance without a conversation
 * follows the held release. Never lower than the held release (`greatest`),
 * and an instance on the candidate keeps following it (added to a
 * conversation outside the share, or the rollout paused), so no instance is
 * sent back by a rollout.
 */
import { rolloutBucketSql } from "@convos-pool/kit/content";

/** The conversation `conversationId` (an SQL expression) is in the share of the rollout row `ro` (null: none). */
export const inShareSql = (ro: string, conversationId: string): string =>
  `(${ro}.rollout_id is not null and ${conversationId} is not null
    and ${rolloutBucketSql(`${ro}.rollout_id`, conversationId)} < ${ro}.share_basis_points)`;

/**
 * The agent `instanceId` is in no conversation outside the share of `ro`: the candidate would show there. Joined
 * and leaving rows (it answers there until it has left), found by `agent_conversations_one`, whose predicate is
 * this one. An agent with no row (being claimed: the completion writes its home row) passes.
 */
const everyConversationInShareSql = (ro: string, instanceId: string): string =>
  `not exists (select 1 from agent_conversations ac
    where ac.instance_id = ${instanceId} and ac.state in ('joined', 'leaving')
      and ${rolloutBucketSql(`${ro}.rollout_id`, "ac.conversation_id")} >= ${ro}.share_basis_points)`;

/**
 * The agent is in the share of `ro`: its conversation `conversationId` and, given `instanceId` (SQL expressions),
 * every conversation it is in. Without `instanceId`, its conversation alone (a claim's completion, whose agent has
 * only that one).
 */
export const agentInShareSql = (ro: string, conversationId: string, instanceId?: string): string =>
  instanceId === undefined
    ? inShareSql(ro, conversationId)
    : `(${inShareSql(ro, conversationId)} and ${everyConversationInShareSql(ro, instanceId)})`;

/**
 * The target key given the held release row `r` and the rollout row `ro`
 * (aliases; either may be null, as from left joins) and the instance's
 * conversation, applied key and id (SQL expressions; the id as
 * agentInShareSql). The share's test comes last: the conversations' rows are
 * read only for an agent whose own conversation is in it.
 */
export const followedKeySql = (
  r: string,
  ro: string,
  conversationId: string,
  appliedKey: string,
  instanceId?: string,
): string =>
  `greatest(${r}.release_key, case when ${appliedKey} >= ${ro}.release_key
     or (not ${ro}.paused and ${agentInShareSql(ro, conversationId, instanceId)}) then ${ro}.release_key end)`;

/** The target key of an instance of template `templateId`, read by a subquery of its own (SQL expressions). */
export const targetKeySql = (i: {
  templateId: string;
  conversationId: string;
  appliedKey: string;
  instanceId?: string;
}): string =>
  `(select ${followedKeySql("tr", "tro", i.conversationId, i.appliedKey, i.instanceId)}
    from (values (1)) as one (x)
      left join template_releases tr on tr.template_id = ${i.templateId}
      left join template_rollouts tro on tro.template_id = ${i.templateId})`;

/** targetKeySql of the row `alias` of `instances` as it stands. */
export const targetOf = (alias: string): string =>
  targetKeySql({
    templateId: `${alias}.template_id`,
    conversationId: `${alias}.conversation_id`,
    appliedKey: `${alias}.applied_key`,
    instanceId: `${alias}.id`,
  });

/** The instance row `alias` is below its target (false without one). */
export const behindSql = (alias: string): string => `coalesce(${targetOf(alias)} > ${alias}.applied_key, false)`;
