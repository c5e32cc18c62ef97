// The agents' daily counts per version (docs/signals.md): one row per agent,
// day and version, replaced by a later report; counts only.
import type { EntityManager } from "@mikro-orm/postgresql";

/** One day of one agent's counts, as stored. */
export interface StoredSignals {
  instanceId: string;
  day: string;
  templateId: string;
  version: string;
  counts: {
    answers: number;
    people: number;
    thumbsUp: number;
    thumbsDown: number;
    corrections: number;
    forgetRequests: number;
    approvalsAsked: number;
    approvalsDeclined: number;
    toolCallsFailed: number;
    pinned: boolean;
  };
}

/** Stores a report, replacing one of the same agent, day and version; true when it replaced one. */
export async function upsertSignals(tx: EntityManager, s: StoredSignals): Promise<boolean> {
  const c = s.counts;
  const rows = await tx.execute<{ replaced: boolean }[]>(
    `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
       corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed, pinned)
     values (?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (instance_id, day, version) do update set
       answers = excluded.answers, people = excluded.people, thumbs_up = excluded.thumbs_up,
       thumbs_down = excluded.thumbs_down, corrections = excluded.corrections,
       forget_requests = excluded.forget_requests, approvals_asked = excluded.approvals_asked,
       approvals_declined = excluded.approvals_declined, tool_calls_failed = excluded.tool_calls_failed,
       pinned = excluded.pinned, reported_at = now()
     returning (xmax <> 0) as replaced`,
    [
      s.instanceId,
      s.day,
      s.templateId,
      s.version,
      c.answers,
      c.people,
      c.thumbsUp,
      c.thumbsDown,
      c.corrections,
      c.forgetRequests,
      c.approvalsAsked,
      c.approvalsDeclined,
      c.toolCallsFailed,
      c.pinned,
    ],
  );
  return rows[0]?.replaced === true;
}

/** The agent as a report is checked against: its template, inbox and whether it is live. */
export async function reportingAgent(
  em: EntityManager,
  instanceId: string,
): Promise<{ templateId: string; inboxId: string; live: boolean } | undefined> {
  const [row] = await em.execute<{ template_id: string; inbox_id: string; ended_at: Date | null }[]>(
    `select template_id, inbox_id, ended_at from lineage_agents where instance_id = ?`,
    [instanceId],
  );
  return row && { templateId: row.template_id, inboxId: row.inbox_id, live: row.ended_at === null };
}
