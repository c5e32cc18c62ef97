import { Migration } from "@mikro-orm/migrations";

/**
 * An agent's conversations in the lineage feed (docs/signals.md, "An agent
 * in several conversations"): `conversation_joined` when a row of
 * `agent_conversations` becomes `joined`, or becomes the home while joined
 * (the old home left: lineage moves the agent's home), and
 * `conversation_left` when a joined or leaving row becomes `left`; payload
 * `{conversationId, home}`. Written by a trigger in the transaction of
 * whatever changed the row, as the instances trigger of 0005 writes its
 * kinds, so the flows that add and remove need not know of the outbox.
 *
 * Left out, each already told by the instance's own event:
 * - the home row the claim's completion inserts: its `claimed` event names
 *   the home (lineage opens it there), and a second row per claim would be
 *   written on the claim's hot path for nothing;
 * - the rows an agent's end marks left (0030): its `ended` event closes
 *   every conversation in lineage.
 * A row without a conversation id writes nothing: lineage refuses such an
 * event, and one would hold the whole feed back.
 *
 * A conversation left may bring the agent into a rollout's share, where
 * every conversation it is in must be (db/targets.ts): the agent is made due,
 * and the fan-out's scan drops it again if it is not behind.
 */
export class LineageConversations extends Migration {
  override up(): void {
    this.addSql(`alter table lineage_outbox drop constraint lineage_outbox_kind_check`);
    this.addSql(`alter table lineage_outbox add constraint lineage_outbox_kind_check check (kind in
      ('claimed', 'ended', 'owner_changed', 'version_changed', 'conversation_joined', 'conversation_left'))`);
    this.addSql(`create function agent_conversations_lineage() returns trigger language plpgsql as $fn$
      begin
        if new.state = 'joined' then
          insert into lineage_outbox (kind, instance_id, payload) values ('conversation_joined', new.instance_id,
            jsonb_build_object('conversationId', new.conversation_id, 'home', new.home));
        elsif exists (select 1 from instances where id = new.instance_id and state in ('claimed', 'crashed')) then
          insert into lineage_outbox (kind, instance_id, payload) values ('conversation_left', new.instance_id,
            jsonb_build_object('conversationId', new.conversation_id, 'home', old.home));
          update instances set sync_next_at = now()
            where id = new.instance_id and state = 'claimed' and not pinned and sync_next_at is null;
        end if;
        return null;
      end $fn$`);
    this.addSql(`create trigger agent_conversations_lineage_added after insert on agent_conversations for each row
      when (new.state = 'joined' and not new.home and new.conversation_id <> '')
      execute function agent_conversations_lineage()`);
    this.addSql(`create trigger agent_conversations_lineage after update of state, home on agent_conversations
      for each row
      when (new.conversation_id <> '' and (
        (new.state = 'joined' and (old.state <> 'joined' or (new.home and not old.home)))
        or (new.state = 'left' and old.state in ('joined', 'leaving'))))
      execute function agent_conversations_lineage()`);
  }
}
