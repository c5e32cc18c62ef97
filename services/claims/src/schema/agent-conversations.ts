import { Migration } from "@mikro-orm/migrations";

/**
 * An agent's conversations (docs/design/one-agent-many-conversations.md, 3.1;
 * docs/claims.md, "An agent's conversations"): a row per conversation an
 * agent is in, was in or is joining. `instances` keeps the home
 * (`conversation_id`, `conversation_key`, `conversation_name`), so its readers
 * keep working; the home's row says the same.
 *
 * - Written by the claim's completion (claim/sql.ts `COMPLETE_CLAIMS_SQL`),
 *   in its query: no agent is claimed without its home row.
 * - Every agent claimed or crashed before this migration gets its home row
 *   here (`add_id` 'home-' || its id: its claim's id is gone). A crashed row
 *   without an owner is a warm instance set aside (pool/sql.ts `parkIdle`),
 *   in no conversation.
 * - An agent that stops being live (dead, whoever marks it) leaves every
 *   conversation, by a trigger, so removal, the pool manager and the sweeps
 *   need not know of this table.
 * - The home row follows the name and participation `instances` records for
 *   the home (pool/sql.ts `recordConversationNames`, claim/sql.ts
 *   `setAgentSetting`), by a trigger, for the same reason.
 */
export class AgentConversations extends Migration {
  override up(): void {
    this.addSql(`create table agent_conversations (
      instance_id text not null references instances (id),
      -- the XMTP group id; '' while joining
      conversation_id text not null default '',
      -- the add attempt, the row's key while joining: a claim's id for a home written at completion
      add_id text not null,
      -- "creator inbox/tag" from the invite (claim/full-conversation.ts)
      conversation_key text,
      -- as the agent last reported it (ListInstances)
      conversation_name text,
      home boolean not null default false,
      state text not null check (state in ('joining', 'joined', 'leaving', 'left')),
      -- as the agent took it: convos.pool.v1.Participation's fields by name, null for the default
      participation jsonb,
      -- convos.pool.v1.ConversationTools: 1 shared, 2 none
      tools smallint not null default 1,
      -- the lease of a join in flight (as instances.claim_renewed_at)
      add_renewed_at timestamptz(3),
      joined_at timestamptz(3),
      left_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      primary key (instance_id, add_id)
    )`);
    this.addSql(`create unique index agent_conversations_one on agent_conversations (instance_id, conversation_id)
      where state in ('joined', 'leaving')`);
    // Two adds of one invite at once: the second is refused.
    this.addSql(`create unique index agent_conversations_once on agent_conversations (instance_id, conversation_key)
      where state <> 'left'`);
    this.addSql(
      `create unique index agent_conversations_home on agent_conversations (instance_id) where home and state = 'joined'`,
    );
    this.addSql(
      `create index agent_conversations_key on agent_conversations (conversation_key) where state = 'joined'`,
    );
    this.addSql(
      `create index agent_conversations_joining on agent_conversations (add_renewed_at) where state = 'joining'`,
    );

    this.addSql(`insert into agent_conversations (instance_id, conversation_id, add_id, conversation_key, conversation_name,
        home, state, participation, joined_at)
      select id, coalesce(conversation_id, ''), 'home-' || id, conversation_key, conversation_name,
        true, 'joined', participation, claimed_at
      from instances where state in ('claimed', 'crashed') and owner_id is not null`);

    // Rows exist only for claimed and crashed agents: leaving those states is leaving every conversation.
    this.addSql(`create function agent_conversations_leave_all() returns trigger language plpgsql as $fn$
      begin
        update agent_conversations set state = 'left', left_at = now(), updated_at = now()
          where instance_id = new.id and state <> 'left';
        return null;
      end $fn$`);
    this.addSql(`create trigger instances_conversations_left after update of state on instances for each row
      when (old.state in ('claimed', 'crashed') and new.state not in ('claimed', 'crashed'))
      execute function agent_conversations_leave_all()`);

    // Only the home row naming the instance's conversation: a later change of home (the old row left, another
    // made home, then instances moved) never writes one conversation's name into another's row.
    this.addSql(`create function agent_conversations_home_follows() returns trigger language plpgsql as $fn$
      begin
        update agent_conversations set conversation_name = new.conversation_name, participation = new.participation,
            updated_at = now()
          where instance_id = new.id and home and state = 'joined' and conversation_id = new.conversation_id;
        return null;
      end $fn$`);
    this.addSql(`create trigger instances_home_conversation after update of conversation_name, participation on instances
      for each row
      when (old.state in ('claimed', 'crashed') and new.state in ('claimed', 'crashed')
        and (new.conversation_name is distinct from old.conversation_name
          or new.participation is distinct from old.participation))
      execute function agent_conversations_home_follows()`);
  }
}
