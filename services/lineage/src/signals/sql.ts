// The agents' daily counts per version (docs/signals.md): one row per agent,
// day and version, replaced by a later report; counts only. And what a
// rollout's watch reads of the claims feed beside them (rollout.ts).
import type { EntityManager } from "@mikro-orm/postgresql";
import type { PersonSignalCounts, VersionSignalCounts } from "@convos-pool/kit/signing";
import type { AgentDay } from "./figures.js";
import { REMOVED_BY_OWNER } from "./lifecycle.js";
import type { VersionHistory } from "./policy.js";
import type { AgentOnDay } from "./rollout.js";

/** One day of one agent's counts, as stored. */
export interface StoredSignals {
  instanceId: string;
  day: string;
  templateId: string;
  version: string;
  counts: VersionSignalCounts;
  /** The day per person (pseudonyms of the day, never an inbox); absent: none. */
  persons?: readonly PersonSignalCounts[] | undefined;
}

/** Stores a report, replacing one of the same agent, day and version; true when it replaced one. */
export async function upsertSignals(tx: EntityManager, s: StoredSignals): Promise<boolean> {
  const c = s.counts;
  const rows = await tx.execute<{ replaced: boolean }[]>(
    `insert into version_signals (instance_id, day, template_id, version, answers, people, thumbs_up, thumbs_down,
       corrections, forget_requests, approvals_asked, approvals_declined, tool_calls_failed, pauses, stop_requests,
       persons)
     values (?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (instance_id, day, version) do update set
       answers = excluded.answers, people = excluded.people, thumbs_up = excluded.thumbs_up,
       thumbs_down = excluded.thumbs_down, corrections = excluded.corrections,
       forget_requests = excluded.forget_requests, approvals_asked = excluded.approvals_asked,
       approvals_declined = excluded.approvals_declined, tool_calls_failed = excluded.tool_calls_failed,
       pauses = excluded.pauses, stop_requests = excluded.stop_requests, persons = excluded.persons,
       reported_at = now()
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
      c.pauses,
      c.stopRequests,
      JSON.stringify(s.persons ?? []),
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

/** What lineage knows of the versions an agent ran (policy.ts ranVersion judges a report by it). */
export async function versionHistory(em: EntityManager, instanceId: string): Promise<VersionHistory> {
  const [agent] = await em.execute<{ versions_known_from: Date | string | null }[]>(
    `select versions_known_from from lineage_agents where instance_id = ?`,
    [instanceId],
  );
  const stretches = await em.execute<{ version: string; from_at: Date | string; to_at: Date | string | null }[]>(
    `select version, from_at, to_at from lineage_agent_versions where instance_id = ? order by from_at`,
    [instanceId],
  );
  // Raw rows: timestamps may come as text.
  const date = (v: Date | string | null | undefined) => (v === null || v === undefined ? undefined : new Date(v));
  return {
    knownFrom: date(agent?.versions_known_from),
    stretches: stretches.map((r) => ({ version: r.version, from: new Date(r.from_at), to: date(r.to_at) })),
  };
}

/** Where a stored day (`s.day`) begins, in UTC whatever the session's time zone. */
const DAY_START = `(s.day::timestamp at time zone 'UTC')`;

/** The conversations an agent (`instance`, a column) was in at some moment of the day beginning at `start`. */
const conversationsOnDay = (instance: string, start: string) =>
  `array(select distinct k.conversation_id from lineage_agent_conversations k where k.instance_id = ${instance}
     and k.from_at < ${start} + interval '1 day' and (k.to_at is null or k.to_at > ${start}) order by 1)`;

/** An agent on a day as the two day queries below read it: its owner now, its home and the day's conversations, its version. */
interface AgentDayRow {
  instance_id: string;
  owner_id: string;
  conversation_id: string;
  conversation_ids: string[];
  version: string;
  day: string;
}

/**
 * The stored days of a template's agents from `fromDay` to `toDay` (both
 * included), each with its agent's owner now, its home conversation and
 * every conversation it was in that day (figures.ts counts each once), and
 * whether it was pinned (docs/signals.md, "The pin").
 */
export async function templateDays(
  em: EntityManager,
  templateId: string,
  fromDay: string,
  toDay: string,
): Promise<AgentDay[]> {
  const rows = await em.execute<
    (AgentDayRow & {
      answers: number;
      people: number;
      thumbs_up: number;
      thumbs_down: number;
      corrections: number;
      forget_requests: number;
      approvals_asked: number;
      approvals_declined: number;
      tool_calls_failed: number;
      pauses: number;
      stop_requests: number;
      pinned: boolean;
      persons: PersonSignalCounts[] | string;
    })[]
  >(
    `select s.instance_id, a.owner_id, a.conversation_id, ${conversationsOnDay("s.instance_id", DAY_START)} as conversation_ids,
       s.version, to_char(s.day, 'YYYY-MM-DD') as day, s.answers, s.people, s.thumbs_up,
       s.thumbs_down, s.corrections, s.forget_requests, s.approvals_asked, s.approvals_declined, s.tool_calls_failed,
       s.pauses, s.stop_requests, s.persons,
       -- the pool's record, never the agent's word: pinned at some time that day while it ran that version
       exists (select 1 from lineage_agent_versions v where v.instance_id = s.instance_id and v.version = s.version and v.pinned
         and v.from_at < ${DAY_START} + interval '1 day' and (v.to_at is null or v.to_at > ${DAY_START})) as pinned
     from version_signals s join lineage_agents a on a.instance_id = s.instance_id
     where s.template_id = ? and s.day between ?::date and ?::date`,
    [templateId, fromDay, toDay],
  );
  return rows.map((r) => ({
    instanceId: r.instance_id,
    ownerId: r.owner_id,
    conversationId: r.conversation_id,
    conversationIds: r.conversation_ids,
    version: r.version,
    day: r.day,
    counts: {
      answers: r.answers,
      people: r.people,
      thumbsUp: r.thumbs_up,
      thumbsDown: r.thumbs_down,
      corrections: r.corrections,
      forgetRequests: r.forget_requests,
      approvalsAsked: r.approvals_asked,
      approvalsDeclined: r.approvals_declined,
      toolCallsFailed: r.tool_calls_failed,
      pauses: r.pauses,
      stopRequests: r.stop_requests,
      pinned: r.pinned,
    },
    // jsonb comes parsed from PostgreSQL, as text from some drivers.
    persons: typeof r.persons === "string" ? (JSON.parse(r.persons) as PersonSignalCounts[]) : r.persons,
  }));
}

/** Whether `ownerId` owns a live agent of `templateId` now (as the claims feed said): who, besides its creator, may compare its versions. */
export async function ownsLiveAgentOf(em: EntityManager, templateId: string, ownerId: string): Promise<boolean> {
  const rows = await em.execute<{ one: number }[]>(
    `select 1 as one from lineage_agents where template_id = ? and owner_id = ? and ended_at is null limit 1`,
    [templateId, ownerId],
  );
  return rows.length > 0;
}

/**
 * The agents of `templateId` on each UTC day from `fromDay` to `toDay`, with
 * the version each ran last that day by the claims feed's stretches (the
 * last one begun by the day's end and not ended before it began), when one
 * of `versions`: a rollout's removals are counted against them, each agent
 * once a day (rollout.ts), and its conversations that day counted on each
 * side. A removal is the version it ran last too.
 */
export async function agentsThatRan(
  em: EntityManager,
  templateId: string,
  versions: readonly string[],
  fromDay: string,
  toDay: string,
): Promise<AgentOnDay[]> {
  const rows = await em.execute<AgentDayRow[]>(
    `select * from (
       select distinct on (a.instance_id, d) a.instance_id, a.owner_id, a.conversation_id,
         ${conversationsOnDay("a.instance_id", "(d at time zone 'UTC')")} as conversation_ids,
         v.version, to_char(d, 'YYYY-MM-DD') as day
       from generate_series(?::timestamp, ?::timestamp, interval '1 day') d
         join lineage_agent_versions v on v.from_at < (d + interval '1 day') at time zone 'UTC'
           and (v.to_at is null or v.to_at > d at time zone 'UTC')
         join lineage_agents a on a.instance_id = v.instance_id
       where a.template_id = ?
       order by a.instance_id, d, v.from_at desc
     ) last where version in (?)`,
    [fromDay, toDay, templateId, versions],
  );
  return rows.map(agentOnDayOf);
}

/**
 * The agents of `templateId` their owner removed within 24 hours of their
 * claim, from `fromDay` on: the UTC day of the removal and the version they
 * ran then (the feed's last stretch begun by it), one of `versions`. An agent
 * the pool lost is not counted, as in lifecycle.ts.
 */
export async function removedSoon(
  em: EntityManager,
  templateId: string,
  versions: readonly string[],
  fromDay: string,
): Promise<AgentOnDay[]> {
  const rows = await em.execute<
    { instance_id: string; owner_id: string; conversation_id: string; version: string; day: string }[]
  >(
    `select a.instance_id, a.owner_id, a.conversation_id, v.version, to_char(a.ended_at at time zone 'UTC', 'YYYY-MM-DD') as day
     from lineage_agents a
       join lateral (select version from lineage_agent_versions v where v.instance_id = a.instance_id
         and v.from_at <= a.ended_at order by v.from_at desc limit 1) v on true
     where a.template_id = ? and a.end_reason = ? and a.ended_at <= a.claimed_at + interval '1 day'
       and a.ended_at >= ?::timestamp at time zone 'UTC' and v.version in (?)`,
    [templateId, REMOVED_BY_OWNER, fromDay, versions],
  );
  return rows.map(agentOnDayOf);
}

/** An agent on a day as its row selects it; its conversations that day when the query counted them. */
function agentOnDayOf(r: {
  instance_id: string;
  owner_id: string;
  conversation_id: string;
  conversation_ids?: string[];
  version: string;
  day: string;
}): AgentOnDay {
  return {
    instanceId: r.instance_id,
    ownerId: r.owner_id,
    conversationId: r.conversation_id,
    ...(r.conversation_ids === undefined ? {} : { conversationIds: r.conversation_ids }),
    version: r.version,
    day: r.day,
  };
}
