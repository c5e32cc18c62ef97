/**
 * The release each instance follows, in SQL: its target (docs/claims.md,
 * "Staged rollouts"). Every "behind", "due" and "current" of instruction
 * sync compares an instance's `applied_key` with this key, so the fan-out,
 * a claim's completion and the lists agree on it.
 *
 * The template's held release (`template_releases`), unless the template has
 * a rollout (`template_rollouts`, a running or paused one), the instance's
 * conversation is in its share (kit `rolloutBucketSql`, the same place as
 * kit `rolloutBucket`), and the rollout is not paused or the instance has
 * applied its candidate already: then the candidate. An instance without a
 * conversation follows the held release. Never lower than the held release
 * (`greatest`), so no instance is sent back by a rollout.
 */
import { rolloutBucketSql } from "@convos-pool/kit/content";

/** The conversation `conversationId` (an SQL expression) is in the share of the rollout row `ro` (null: none). */
export const inShareSql = (ro: string, conversationId: string): string =>
  `(${ro}.rollout_id is not null and ${conversationId} is not null
    and ${rolloutBucketSql(`${ro}.rollout_id`, conversationId)} < ${ro}.share_basis_points)`;

/**
 * The target key given the held release row `r` and the rollout row `ro`
 * (aliases; either may be null, as from left joins) and the instance's
 * conversation and applied key (SQL expressions).
 */
export const followedKeySql = (r: string, ro: string, conversationId: string, appliedKey: string): string =>
  `greatest(${r}.release_key, case when ${inShareSql(ro, conversationId)}
     and (not ${ro}.paused or ${appliedKey} >= ${ro}.release_key) then ${ro}.release_key end)`;

/** The target key of an instance of template `templateId`, read by a subquery of its own (SQL expressions). */
export const targetKeySql = (i: { templateId: string; conversationId: string; appliedKey: string }): string =>
  `(select ${followedKeySql("tr", "tro", i.conversationId, i.appliedKey)}
    from (values (1)) as one (x)
      left join template_releases tr on tr.template_id = ${i.templateId}
      left join template_rollouts tro on tro.template_id = ${i.templateId})`;

/** targetKeySql of the row `alias` of `instances` as it stands. */
export const targetOf = (alias: string): string =>
  targetKeySql({
    templateId: `${alias}.template_id`,
    conversationId: `${alias}.conversation_id`,
    appliedKey: `${alias}.applied_key`,
  });

/** The instance row `alias` is below its target (false without one). */
export const behindSql = (alias: string): string => `coalesce(${targetOf(alias)} > ${alias}.applied_key, false)`;
