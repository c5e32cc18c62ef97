import { Migration } from "@mikro-orm/migrations";
import { signatureNoncesMigration, type MigrationEntry } from "@convos-pool/kit/service";

/**
 * The lineage service's tables (docs/lineage.md): every agent ever claimed,
 * with its parent (the edge of a clone), kept when it ends; and how far the
 * claims service's event feed has been applied.
 */
export class CreateLineage extends Migration {
  override up(): void {
    this.addSql(`create table lineage_agents (
      instance_id text primary key,
      template_id text not null,
      owner_id text not null,
      -- the agent it was cloned from; no foreign key: an edge outlives nothing, and stays when the parent ends
      parent_instance_id text,
      conversation_id text not null default '',
      -- memory kinds it inherited, comma-joined ('' when not a clone)
      carry text not null default '',
      -- clone generations above it
      depth integer not null default 0 check (depth >= 0),
      claimed_at timestamptz(3) not null,
      ended_at timestamptz(3),
      end_reason text
    )`);
    this.addSql(
      `create index lineage_agents_parent on lineage_agents (parent_instance_id) where parent_instance_id is not null`,
    );
    this.addSql(`create index lineage_agents_template on lineage_agents (template_id)`);
    this.addSql(`create index lineage_agents_owner on lineage_agents (owner_id, claimed_at desc, instance_id desc)`);
    // The claims service's outbox sequence applied so far: events arrive in order, each applied once.
    this.addSql(`create table lineage_feed (
      one boolean primary key default true check (one),
      applied_sequence bigint not null
    )`);
    this.addSql(`insert into lineage_feed (applied_sequence) values (0)`);
  }
}

/**
 * Each sequence remembered on its own (lineage/events.ts). The outbox's sequence is
 * taken when a claims transaction writes its row, not when it commits, so a
 * lower sequence can arrive after a higher one: a single high-water mark
 * would drop it. `lineage_feed.applied_sequence` stays as the floor: at or
 * below it everything is settled (the earlier high-water mark, then what was
 * pruned from lineage_applied).
 */
export class AppliedSequences extends Migration {
  override up(): void {
    this.addSql(`create table lineage_applied (
      sequence bigint primary key,
      applied_at timestamptz(3) not null default now()
    )`);
    this.addSql(`create index lineage_applied_at on lineage_applied (applied_at)`);
  }
}

/**
 * The pool of learned patterns (docs/patterns.md): one row per lesson (its
 * normalized text's hash unique, so the same lesson offered again is the same
 * row), the agents that offered and adopted each, and refused offers counted
 * by template and reason. Offers and adoptions go with their pattern when the
 * sweep deletes it.
 */
export class PatternPool extends Migration {
  override up(): void {
    this.addSql(`create table patterns (
      pattern_id text primary key,
      text text not null,
      text_hash text not null unique,
      template_id text not null,
      interests text[] not null,
      created_at timestamptz(3) not null,
      expires_at timestamptz(3) not null
    )`);
    this.addSql(`create index patterns_interests on patterns using gin (interests)`);
    this.addSql(`create index patterns_expires on patterns (expires_at)`);
    this.addSql(`create table pattern_offers (
      pattern_id text not null references patterns (pattern_id) on delete cascade,
      instance_id text not null,
      template_id text not null,
      offered_at timestamptz(3) not null,
      primary key (pattern_id, instance_id)
    )`);
    this.addSql(`create index pattern_offers_template on pattern_offers (template_id, pattern_id)`);
    this.addSql(`create index pattern_offers_instance on pattern_offers (instance_id)`);
    this.addSql(`create table pattern_adoptions (
      pattern_id text not null references patterns (pattern_id) on delete cascade,
      instance_id text not null,
      adopted_at timestamptz(3) not null,
      primary key (pattern_id, instance_id)
    )`);
    this.addSql(`create table pattern_refusals (
      template_id text not null,
      reason text not null,
      count bigint not null,
      primary key (template_id, reason)
    )`);
  }
}

/**
 * The pattern pool's quorum and its creators' hold (docs/patterns.md): each
 * offer keeps the owner of the offering agent when it offered, each pattern
 * how many distinct owners and templates offered it (kept in the offer's
 * transaction); a template's creator's signed hold; and the creator's
 * decisions, by lesson (its text's hash), so a rejected lesson stays
 * rejected when it is offered again after it expired.
 */
export class PatternQuorum extends Migration {
  override up(): void {
    this.addSql(`alter table pattern_offers add column owner_id text not null default ''`);
    this.addSql(
      `update pattern_offers o set owner_id = a.owner_id from lineage_agents a where a.instance_id = o.instance_id`,
    );
    this.addSql(`alter table patterns add column owner_count integer not null default 0,
      add column template_count integer not null default 0`);
    this.addSql(`update patterns p set
      owner_count = (select count(distinct o.owner_id) from pattern_offers o where o.pattern_id = p.pattern_id),
      template_count = (select count(distinct o.template_id) from pattern_offers o where o.pattern_id = p.pattern_id)`);
    this.addSql(`create table pattern_holds (
      template_id text primary key,
      hold boolean not null,
      -- the creator's signed SetPatternHold, kept so it can be checked again
      creator_id text not null,
      signature jsonb not null,
      set_at timestamptz(3) not null
    )`);
    this.addSql(`create table pattern_reviews (
      template_id text not null,
      text_hash text not null,
      -- the pattern it was decided on (a lesson offered again after it expired is a new pattern, the same decision)
      pattern_id text not null,
      decision text not null check (decision in ('approved', 'rejected')),
      creator_id text not null,
      signature jsonb not null,
      decided_at timestamptz(3) not null,
      primary key (template_id, text_hash)
    )`);
  }
}

/**
 * A quorum that costs something (docs/patterns.md, "The quorum"): each offer
 * keeps its template's creator, and each agent the days it was in use (a
 * lesson offered), seeded from the offers kept so far. The counts are no
 * longer kept on the pattern: they depend on the agents' age, so they are
 * counted when asked.
 */
export class PatternQuorumCost extends Migration {
  override up(): void {
    // Offers from before this have no creator ('') and count toward none until offered again.
    this.addSql(`alter table pattern_offers add column creator_id text not null default ''`);
    this.addSql(`create table agent_active_days (
      instance_id text not null,
      day date not null,
      primary key (instance_id, day)
    )`);
    this.addSql(`insert into agent_active_days (instance_id, day)
      select distinct instance_id, (offered_at at time zone 'UTC')::date from pattern_offers on conflict do nothing`);
    this.addSql(`alter table patterns drop column owner_count, drop column template_count`);
  }
}

/**
 * Agents' daily counts per version (docs/signals.md), and each agent's inbox
 * (whose wallet signs them). One row per agent, day and version: a report
 * again replaces it. Counts only: the table has no column for a text, a
 * member or a conversation.
 */
export class VersionSignals extends Migration {
  override up(): void {
    this.addSql(`alter table lineage_agents add column inbox_id text not null default ''`);
    this.addSql(`create table version_signals (
      instance_id text not null references lineage_agents (instance_id),
      day date not null,
      template_id text not null,
      version text not null,
      answers integer not null,
      people integer not null,
      thumbs_up integer not null,
      thumbs_down integer not null,
      corrections integer not null,
      forget_requests integer not null,
      approvals_asked integer not null,
      approvals_declined integer not null,
      tool_calls_failed integer not null,
      pinned boolean not null,
      reported_at timestamptz(3) not null default now(),
      primary key (instance_id, day, version)
    )`);
    this.addSql(`create index version_signals_template on version_signals (template_id, day)`);
  }
}

/**
 * Which version each agent ran, and when (docs/signals.md, "The version"):
 * from the claims feed, one row per stretch of one version and pin, the
 * open one with no end. `claimed_version` is the version an agent was
 * claimed on; `versions_known_from` is when lineage began to know the
 * versions of an agent claimed before the feed carried them (null for one
 * whose claim said it). The pin is taken from here, not from the agent's
 * report: its column goes.
 */
export class AgentVersions extends Migration {
  override up(): void {
    this.addSql(`alter table lineage_agents add column claimed_version text,
      add column versions_known_from timestamptz(3)`);
    this.addSql(`create table lineage_agent_versions (
      instance_id text not null references lineage_agents (instance_id),
      version text not null,
      pinned boolean not null,
      from_at timestamptz(3) not null,
      -- null while it runs it
      to_at timestamptz(3),
      primary key (instance_id, from_at)
    )`);
    this.addSql(
      `create unique index lineage_agent_versions_open on lineage_agent_versions (instance_id) where to_at is null`,
    );
    this.addSql(`alter table version_signals drop column pinned`);
  }
}

/**
 * Each agent's high-water mark (docs/scaling.md, "Only the newest state"):
 * the sequence of the newest state its vault kept, as the agent signed it
 * (the signature kept whole, for the restoring host to check itself). Only
 * ever raised.
 */
export class AgentStateMarks extends Migration {
  override up(): void {
    this.addSql(`create table agent_state_marks (
      instance_id text primary key references lineage_agents (instance_id),
      inbox_id text not null,
      sequence bigint not null check (sequence > 0),
      signature text not null,
      issued_at bigint not null,
      nonce text not null,
      marked_at timestamptz(3) not null default now()
    )`);
  }
}

/**
 * Days with others (docs/signals.md, "Days with others"): whose each agent's
 * days are. `owner_days_from` is the first UTC day whose counts are its
 * present owner's: its claim's day, or the day after its transfer to them
 * (lineage/events.ts keeps it from the claims feed). Agents transferred
 * before this count from their claim: lineage did not keep when. The
 * pattern quorum counts an agent's days with others from its signed counts
 * now, not the days it offered a lesson: `agent_active_days` goes.
 */
export class OwnerDays extends Migration {
  override up(): void {
    this.addSql(`alter table lineage_agents add column owner_days_from date`);
    this.addSql(`update lineage_agents set owner_days_from = (claimed_at at time zone 'UTC')::date`);
    this.addSql(`alter table lineage_agents alter column owner_days_from set not null`);
    this.addSql(`drop table agent_active_days`);
  }
}

/**
 * Two more of an agent's daily counts (docs/signals.md, "What an agent
 * counts"): its owner paused it, someone stopped it while it thought. Days
 * reported before were counted without them: zero.
 */
export class PausesAndStops extends Migration {
  override up(): void {
    this.addSql(`alter table version_signals add column pauses integer not null default 0,
      add column stop_requests integer not null default 0`);
  }
}

/**
 * An agent's conversations (docs/signals.md, "An agent in several
 * conversations"): one row per stretch of an agent in one conversation, the
 * open one with no end. Kept from the claims feed in the transaction of the
 * event (lineage/conversations.ts); figures count the union of a day's
 * agents' conversations, each once. Backfilled from `lineage_agents`: each
 * agent in its conversation from its claim until it ended. An agent whose
 * conversation the feed never said ('') has no row: it counts as one of its
 * own, as before.
 */
export class AgentConversations extends Migration {
  override up(): void {
    this.addSql(`create table lineage_agent_conversations (
      instance_id text not null references lineage_agents (instance_id),
      conversation_id text not null check (conversation_id <> ''),
      from_at timestamptz(3) not null,
      -- null while it is in it
      to_at timestamptz(3),
      primary key (instance_id, conversation_id, from_at)
    )`);
    // One open stretch per agent and conversation: a join told twice opens none; what an agent is in now, by instance.
    this.addSql(`create unique index lineage_agent_conversations_open on lineage_agent_conversations (instance_id, conversation_id)
      where to_at is null`);
    this.addSql(`insert into lineage_agent_conversations (instance_id, conversation_id, from_at, to_at)
      select instance_id, conversation_id, claimed_at, case when ended_at is null then null else greatest(claimed_at, ended_at) end
      from lineage_agents where conversation_id <> ''`);
  }
}

/**
 * An agent's day per person (docs/signals.md, "Per person"): each person's
 * pseudonym of the day and their answers, 👎 and corrections, as the agent
 * signed them, for a rollout's watch to count a person once a side and day
 * across conversations. Days reported before have none: their conversation
 * counts, as before.
 */
export class PersonCounts extends Migration {
  override up(): void {
    this.addSql(`alter table version_signals add column persons jsonb not null default '[]'`);
  }
}

export const migrations: MigrationEntry[] = [
  { name: "0001_lineage", class: CreateLineage },
  { name: "0002_applied_sequences", class: AppliedSequences },
  { name: "0003_pattern_pool", class: PatternPool },
  signatureNoncesMigration,
  { name: "0004_pattern_quorum", class: PatternQuorum },
  { name: "0005_pattern_quorum_cost", class: PatternQuorumCost },
  { name: "0006_version_signals", class: VersionSignals },
  { name: "0007_agent_versions", class: AgentVersions },
  { name: "0008_agent_state_marks", class: AgentStateMarks },
  { name: "0009_owner_days", class: OwnerDays },
  { name: "0010_pauses_and_stops", class: PausesAndStops },
  { name: "0011_agent_conversations", class: AgentConversations },
  { name: "0012_person_counts", class: PersonCounts },
];
