import { Migration } from "@mikro-orm/migrations";
import type { MigrationEntry } from "@convos-pool/kit";

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
    this.addSql(`create index lineage_agents_parent on lineage_agents (parent_instance_id) where parent_instance_id is not null`);
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
 * Each sequence remembered on its own (events.ts). The outbox's sequence is
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

export const migrations: MigrationEntry[] = [
  { name: "0001_lineage", class: CreateLineage },
  { name: "0002_applied_sequences", class: AppliedSequences },
];
