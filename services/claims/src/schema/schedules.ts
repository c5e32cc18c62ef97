import { Migration } from "@mikro-orm/migrations";

/**
 * Agents' reminders, routines and scheduled acts (docs/schedules.md): a row
 * per item. `next_at` is the occurrence its timer waits for (null once none
 * is left); the timers themselves are pg-boss jobs in the `schedule_timers`
 * schema, which pg-boss makes and migrates itself (schedules/timers.ts).
 *
 * A release or a transfer pauses every item of the agent still to come, by a
 * trigger on `owner_id` in the transaction that changes it, so no path that
 * changes an owner (a release, a removal, a transfer's acceptance, the sweep)
 * can forget it; only the owner then may resume one.
 */
export class Schedules extends Migration {
  override up(): void {
    this.addSql(`create table schedule_items (
      id text primary key,
      instance_id text not null references instances (id),
      conversation_id text not null,
      asked_by text not null,
      asked_by_role text not null check (asked_by_role in ('owner', 'member')),
      kind text not null check (kind in ('reminder', 'routine', 'act')),
      text text not null,
      starts_at timestamptz(3) not null,
      -- an RFC 5545 RRULE value; '' once
      rrule text not null default '',
      time_zone text not null,
      next_at timestamptz(3),
      pause text check (pause in ('asked', 'released', 'transferred', 'left')),
      payload bytea not null default '',
      last_firing_id text,
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    )`);
    this.addSql(`create index schedule_items_conversation on schedule_items (instance_id, conversation_id)`);
    this.addSql(
      `create index schedule_items_due on schedule_items (next_at) where pause is null and next_at is not null`,
    );
    this.addSql(`create function schedule_items_pause_on_owner() returns trigger language plpgsql as $fn$
      begin
        if old.owner_id is not null and new.owner_id is distinct from old.owner_id then
          update schedule_items
             set pause = case when new.owner_id is null then 'released' else 'transferred' end, updated_at = now()
           where instance_id = new.id and next_at is not null;
        end if;
        return new;
      end $fn$`);
    this.addSql(`create trigger schedule_items_pause_on_owner after update of owner_id on instances
      for each row execute function schedule_items_pause_on_owner()`);
  }
}

/**
 * An agent's end pauses its items too: a removal or a lost host's dead agent
 * keeps its `owner_id` (the lineage's record) and changes only its state, so
 * the trigger watches `state` as well, and an end is a release (`released`).
 */
export class SchedulesAtAnEnd extends Migration {
  override up(): void {
    this.addSql(`create or replace function schedule_items_pause_on_owner() returns trigger language plpgsql as $fn$
      begin
        if old.owner_id is not null and new.owner_id is distinct from old.owner_id then
          update schedule_items
             set pause = case when new.owner_id is null then 'released' else 'transferred' end, updated_at = now()
           where instance_id = new.id and next_at is not null;
        elsif new.state = 'dead' and old.state is distinct from 'dead' then
          update schedule_items set pause = 'released', updated_at = now()
           where instance_id = new.id and next_at is not null;
        end if;
        return new;
      end $fn$`);
    this.addSql(`drop trigger schedule_items_pause_on_owner on instances`);
    this.addSql(`create trigger schedule_items_pause_on_owner after update of owner_id, state on instances
      for each row execute function schedule_items_pause_on_owner()`);
  }
}
