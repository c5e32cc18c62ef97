import { Migration } from "@mikro-orm/migrations";
import { CreateSignatureNonces, rateCountersMigration, type MigrationEntry } from "@convos-pool/kit/service";
import { createClaimBatch, createClaimWithinCaps } from "../claim/holdings.js";
import { AgentConversations } from "./agent-conversations.js";
import { ConfirmedLimits } from "./confirmed-limits.js";
import { ConversationStatements } from "./conversation-statements.js";
import { LineageConversations } from "./lineage-conversations.js";
import { Schedules, SchedulesAtAnEnd } from "./schedules.js";

/**
 * The claims service's tables (docs/claims.md). Instances, the tools the pool
 * provisioned for them, and the local SMS provider's number range.
 */
export class CreateInstances extends Migration {
  override async up(): Promise<void> {
    // Wallet indexes are never reused: an identity that was ever claimed may
    // still be a member of someone's conversation.
    this.addSql(`create sequence instance_wallet_index as integer minvalue 0 start with 0`);
    this.addSql(`create table instances (
      id text primary key,
      state text not null check (state in ('starting', 'idle', 'claiming', 'claimed', 'crashed', 'dead')),
      host_url text not null,
      wallet_index integer not null unique default nextval('instance_wallet_index'),
      inbox_id text not null default '',
      -- the claim attempt that holds the instance while it is 'claiming', and since when
      claim_id text,
      claim_started_at timestamptz(3),
      template_id text,
      template_version integer,
      agent_name text not null default '',
      owner_id text,
      parent_instance_id text references instances (id),
      conversation_id text,
      model text,
      model_overridden boolean not null default false,
      user_config jsonb not null default '{}',
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      claimed_at timestamptz(3),
      check (state <> 'claiming' or (claim_id is not null and claim_started_at is not null)),
      check (state <> 'claimed' or (owner_id is not null and template_id is not null and claimed_at is not null))
    )`);
    this.addSql(`alter sequence instance_wallet_index owned by instances.wallet_index`);
    // The claim walks this partial index: only idle rows, oldest wallet first.
    this.addSql(`create index instances_idle on instances (wallet_index) where state = 'idle'`);
    this.addSql(
      `create index instances_owner_live on instances (owner_id, claimed_at desc, id desc) where state = 'claimed'`,
    );
    this.addSql(
      `create index instances_template on instances (template_id, claimed_at desc, id desc) where claimed_at is not null`,
    );
    this.addSql(`create index instances_claiming on instances (claim_started_at) where state = 'claiming'`);
    this.addSql(`create unique index instances_inbox on instances (inbox_id) where inbox_id <> ''`);

    this.addSql(`create table provisioned_tools (
      instance_id text not null references instances (id),
      tool_id text not null,
      provider text not null,
      handle text not null,
      -- AES-256-GCM sealed JSON of the secrets (secrets.ts); null when the tool has none
      secret bytea,
      state text not null default 'active' check (state in ('active', 'release_failed')),
      created_at timestamptz(3) not null default now(),
      primary key (instance_id, tool_id)
    )`);
    this.addSql(`create unique index provisioned_tools_handle on provisioned_tools (provider, handle)`);
    this.addSql(
      `create index provisioned_tools_release_failed on provisioned_tools (created_at) where state = 'release_failed'`,
    );

    // The local SMS provider's numbers: a row per number of the configured
    // range; instance_id null means free.
    this.addSql(`create table sms_numbers (
      number text primary key,
      instance_id text,
      allocated_at timestamptz(3),
      released_at timestamptz(3)
    )`);
    // Free numbers, longest free (and never used) first.
    this.addSql(
      `create index sms_numbers_free on sms_numbers (released_at nulls first, number) where instance_id is null`,
    );
  }
}

/**
 * Instruction sync (docs/claims.md, "Instruction sync"): the newest signed
 * release of each template, and each instance's delivery state.
 */
export class CreateInstructionSync extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table template_releases (
      template_id text primary key,
      version integer not null check (version >= 1),
      -- the SignedTemplate as received (protobuf binary): passed on to instances unchanged
      release bytea not null,
      -- the release's default model, for instances that did not override it
      default_model text not null,
      received_at timestamptz(3) not null default now()
    )`);
    // template_version stays the version the instance has applied (set at claim).
    this.addSql(`alter table instances
      add column pinned boolean not null default false,
      add column sync_error text,
      add column sync_attempts integer not null default 0,
      add column sync_next_at timestamptz(3)`);
    // The fan-out's due scan walks only the rows it could deliver to.
    this.addSql(`create index instances_sync_due on instances (sync_next_at)
      where sync_next_at is not null and state = 'claimed' and not pinned`);
  }
}

/**
 * What an owner holds, for the caps on live agents and tools (docs/limits.md),
 * counted by the claim itself (`claim_within_caps`, holdings.ts): claimed
 * agents through `instances_owner_live`, claims in progress through
 * `instances_claiming` (by owner since 0010), crashed ones through this
 * small index. An index over every live state would be written by every
 * claim (measured: a fifth of the claims service's rate). A claim in
 * progress counts the tools it is about to provision.
 */
export class OwnerHoldings extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column tools_reserved integer not null default 0`);
    this.addSql(`create index instances_owner_crashed on instances (owner_id) where state = 'crashed'`);
    this.addSql(createClaimWithinCaps());
  }
}

/**
 * Clone with context and lineage (docs/claims.md, "Clone with context";
 * docs/lineage.md). A clone's inheritance (whether its parent sent the
 * summary, never the summary), an ownership transfer on offer, and the
 * lineage outbox: what happens to agents, for the lineage service.
 *
 * The outbox is written by a trigger, so that every path that claims, ends
 * or hands over an agent (the claim flow, RemoveAgent, the pool manager,
 * a transfer) records it in its own transaction, and none can forget to.
 * The trigger's WHEN clause keeps it off every other update (claim
 * queries, sync bookkeeping).
 */
export class CloneAndLineage extends Migration {
  override up(): void {
    this.addSql(`alter table instances
      add column inheritance_state text check (inheritance_state in ('pending', 'sent', 'failed')),
      -- kinds of memory that carry, comma-joined in canonical order ('' when not a clone)
      add column inheritance_carry text not null default '',
      add column inheritance_error text,
      -- why a claimed agent ended, for its lineage
      add column end_reason text,
      -- {"newOwnerId", "signature": {signature, issuedAt, nonce}}: an offer not yet accepted
      add column pending_transfer jsonb`);
    this.addSql(`create index instances_parent on instances (parent_instance_id) where parent_instance_id is not null`);
    this.addSql(
      `create index instances_inheritance_pending on instances (claimed_at) where inheritance_state = 'pending'`,
    );
    this.addSql(`create table lineage_outbox (
      sequence bigserial primary key,
      kind text not null check (kind in ('claimed', 'ended', 'owner_changed')),
      instance_id text not null,
      payload jsonb not null,
      at timestamptz(3) not null default now()
    )`);
    this.addSql(`create function lineage_outbox_event() returns trigger language plpgsql as $fn$
      begin
        if new.state = 'claimed' and old.state = 'claiming' then
          insert into lineage_outbox (kind, instance_id, payload) values ('claimed', new.id, jsonb_build_object(
            'templateId', new.template_id, 'ownerId', new.owner_id, 'parentInstanceId', coalesce(new.parent_instance_id, ''),
            'conversationId', coalesce(new.conversation_id, ''), 'carry', new.inheritance_carry));
        elsif new.state = 'dead' then
          insert into lineage_outbox (kind, instance_id, payload)
            values ('ended', new.id, jsonb_build_object('reason', coalesce(new.end_reason, '')));
        else
          insert into lineage_outbox (kind, instance_id, payload)
            values ('owner_changed', new.id, jsonb_build_object('ownerId', new.owner_id));
        end if;
        return null;
      end $fn$`);
    this.addSql(`create trigger instances_lineage after update on instances for each row
      when ((old.state = 'claiming' and new.state = 'claimed')
        or (old.state in ('claimed', 'crashed') and new.state = 'dead')
        or (old.state in ('claimed', 'crashed') and new.state in ('claimed', 'crashed') and new.owner_id is distinct from old.owner_id))
      execute function lineage_outbox_event()`);
    // Agents already claimed when lineage began: recorded as fresh agents.
    this.addSql(`insert into lineage_outbox (kind, instance_id, payload, at)
      select 'claimed', id, jsonb_build_object('templateId', template_id, 'ownerId', owner_id, 'parentInstanceId', coalesce(parent_instance_id, ''),
          'conversationId', coalesce(conversation_id, ''), 'carry', ''), claimed_at
        from instances where state in ('claimed', 'crashed') and owner_id is not null
        order by claimed_at, id`);
  }
}

/**
 * Trust levels: what the owner last set, as the agent confirmed it (the
 * agent enforces it). trust_level is convos.pool.v1.TrustLevel, 1 to 4, or 0
 * for agents claimed before trust levels; daily_spend_limit_wei is L4's
 * limit as a decimal string, empty below L4.
 */
export class TrustLevels extends Migration {
  override up(): void {
    this.addSql(`alter table instances
      add column trust_level smallint not null default 0,
      add column daily_spend_limit_wei text not null default ''`);
  }
}

/**
 * A claim's outcome is never lost: claims with an idempotency key keep their
 * outcome by requester and key (claim/idempotency-keys.ts), and a claim in flight holds
 * a lease its process renews (instances.claim_renewed_at, and its key's
 * renewed_at), so a claim whose process died is resolved by whichever
 * replica's sweep sees the lease run out.
 */
export class ClaimOutcomes extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column claim_renewed_at timestamptz(3)`);
    this.addSql(`create table claim_keys (
      requester text not null,
      key text not null,
      request_hash text not null,
      state text not null default 'pending' check (state in ('pending', 'done', 'failed')),
      claim_id text,
      instance_id text,
      code smallint,
      message text,
      created_at timestamptz(3) not null default now(),
      renewed_at timestamptz(3),
      settled_at timestamptz(3),
      primary key (requester, key)
    )`);
    this.addSql(`create index claim_keys_pending on claim_keys (claim_id) where state = 'pending'`);
    this.addSql(`create index claim_keys_created on claim_keys (created_at)`);
  }
}

/**
 * Base templates (docs/claims.md, "Instruction sync"): a release comes with
 * its bases' releases, and where a release stands is its key, the
 * template's version then its bases' (arrays compare in that order). The
 * held release's key and each claimed instance's applied key replace the
 * version comparisons; template_version stays the template's own version.
 */
export class TemplateBases extends Migration {
  override up(): void {
    this.addSql(
      `alter table template_releases add column bases bytea[] not null default '{}', add column release_key integer[]`,
    );
    this.addSql(`update template_releases set release_key = array[version]`);
    this.addSql(`alter table template_releases alter column release_key set not null`);
    this.addSql(`alter table instances add column applied_key integer[]`);
    this.addSql(`update instances set applied_key = array[template_version] where template_version is not null`);
  }
}

/**
 * More than one claims replica on one database (docs/scaling.md): a lease
 * row per singleton worker (the warm pool's manager takes it for a pass; a
 * replica killed mid-pass lets it lapse at `expires_at`), with what one pass
 * leaves the next (`memo`), whichever replica runs it; and the instance
 * hosts an operator drained (no new instances placed there).
 */
export class Replicas extends Migration {
  override up(): void {
    this.addSql(`create table pool_leases (
      name text primary key,
      holder text,
      expires_at timestamptz(3) not null default now(),
      memo jsonb not null default '{}'
    )`);
    this.addSql(`create table instance_hosts (
      url text primary key,
      draining boolean not null default false,
      updated_at timestamptz(3) not null default now()
    )`);
  }
}

/**
 * A claim under the caps counts what its owner holds without visiting
 * anyone else's rows (docs/performance/claims.md: a claim's cost grew with every claim
 * in flight and with each of the owner's agents):
 * - claims in progress by owner: `instances_claiming` becomes
 *   `(owner_id) where state = 'claiming'`, one partial index as before (the
 *   sweep and the in-flight gauge read every claiming row through it);
 * - `claim_within_caps` counts the owner's tools only for a claim that
 *   reserves some under a tool cap, otherwise its agents alone, from the
 *   indexes (holdings.ts). Recreated from today's text.
 */
export class ClaimCapsByOwner extends Migration {
  override up(): void {
    this.addSql(`drop index instances_claiming`);
    this.addSql(`create index instances_claiming on instances (owner_id) where state = 'claiming'`);
    this.addSql(createClaimWithinCaps());
  }
}

/** Claims in flight together take their instances in one call (holdings.ts, `claim_batch`). */
export class ClaimBatch extends Migration {
  override up(): void {
    this.addSql(createClaimBatch());
  }
}

/**
 * Whose requests an agent acts on (docs/trust.md, "Who may ask"), as its
 * owner last set them and the agent took them: convos.pool.v1.Permissions'
 * fields by name, numbers as the proto has them; null for the defaults.
 */
export class AgentPermissions extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column permissions jsonb`);
  }
}

/**
 * When an agent speaks (docs/instance.md, "Participation"), as its owner
 * last set it and the agent took it: convos.pool.v1.Participation's fields
 * by name; null for the default (by the conversation's size, no cooldown).
 */
export class AgentParticipation extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column participation jsonb`);
  }
}

/**
 * When a claimed agent's next attestation is due (badge/attestations.ts);
 * null: now. The scan reads the claimed ones through the partial index.
 */
export class Attestations extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column attest_next_at timestamptz(3)`);
    this.addSql(`create index instances_attest_due on instances (attest_next_at) where state = 'claimed'`);
  }
}

/**
 * What the pool pays for (docs/limits.md, budget/sql.ts): the spend of
 * each day (UTC) in all, and with each agent the grant it counts against and
 * how many tools it holds under it (its quota counts the live ones).
 */
export class PoolBudget extends Migration {
  override up(): void {
    this.addSql(`create table pool_budget_days (
      day date primary key,
      funds_wei numeric(78, 0) not null default 0,
      tools integer not null default 0
    )`);
    this.addSql(`alter table instances add column grant_subject text`);
    this.addSql(`alter table instances add column granted_tools integer not null default 0`);
    this.addSql(
      `create index instances_grant_live on instances (grant_subject) where grant_subject is not null and state in ('claiming', 'claimed', 'crashed')`,
    );
  }
}

/**
 * The key that signed each agent's last attestation (docs/claims.md, "The
 * verified badge"): when the operator drops a key (one that leaked), the
 * agents it attested are attested again at once instead of at their next
 * renewal, up to 12 hours with a badge no client accepts.
 */
export class AttestationKid extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column attest_kid text`);
  }
}

/**
 * What each instance's host runs (docs/openclaw.md): "pool" or "openclaw",
 * from the host's ListInstances when the instance was started; a claim
 * takes an idle instance of its template's runtime only (claim_within_caps
 * gains the runtime, claim_batch passes it).
 */
export class AgentRuntime extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column runtime text not null default 'pool'`);
    // A claim walks the idle rows of its runtime only, oldest wallet first.
    this.addSql(`drop index instances_idle`);
    this.addSql(`create index instances_idle on instances (runtime, wallet_index) where state = 'idle'`);
    this.addSql(
      `drop function if exists claim_within_caps(text, text, integer, text, integer, text, text, boolean, jsonb, integer, integer)`,
    );
    this.addSql(createClaimWithinCaps());
    this.addSql(createClaimBatch());
  }
}

/**
 * Whose money an agent's wallet holds (docs/tools.md, "Whose money a wallet
 * holds"): the wei the faucet granted each wallet (the pool's share is at
 * most that), the owner's payout address (the wallet that signed the claim,
 * or the new owner's acceptance), and wallets `held` for their owner: released
 * with the owner's money in them and nowhere known to send it.
 */
export class WalletFunds extends Migration {
  override up(): void {
    this.addSql(`alter table provisioned_tools add column granted_wei numeric(78, 0) not null default 0`);
    this.addSql(`alter table provisioned_tools drop constraint provisioned_tools_state_check`);
    this.addSql(
      `alter table provisioned_tools add constraint provisioned_tools_state_check check (state in ('active', 'release_failed', 'held'))`,
    );
    this.addSql(`alter table instances add column payout_address text`);
  }
}

/**
 * A claimed agent's event carries its XMTP inbox: the lineage service checks
 * the agent's own signature on its daily counts against it (docs/signals.md).
 */
export class LineageInbox extends Migration {
  override up(): void {
    this.addSql(`create or replace function lineage_outbox_event() returns trigger language plpgsql as $fn$
      begin
        if new.state = 'claimed' and old.state = 'claiming' then
          insert into lineage_outbox (kind, instance_id, payload) values ('claimed', new.id, jsonb_build_object(
            'templateId', new.template_id, 'ownerId', new.owner_id, 'parentInstanceId', coalesce(new.parent_instance_id, ''),
            'conversationId', coalesce(new.conversation_id, ''), 'carry', new.inheritance_carry, 'inboxId', new.inbox_id));
        elsif new.state = 'dead' then
          insert into lineage_outbox (kind, instance_id, payload)
            values ('ended', new.id, jsonb_build_object('reason', coalesce(new.end_reason, '')));
        else
          insert into lineage_outbox (kind, instance_id, payload)
            values ('owner_changed', new.id, jsonb_build_object('ownerId', new.owner_id));
        end if;
        return null;
      end $fn$`);
  }
}

/**
 * The lineage feed carries versions (docs/signals.md, "The version"): a
 * claimed agent's event names the template version it was claimed on, and
 * a new kind, `version_changed`, is written whenever a live agent's
 * `template_version` or `pinned` changes (an update or a rollback
 * delivered, an owner's pin or unpin), by the same trigger, so every path
 * that records one writes it in its own transaction. An update that moves
 * only a base (the same template version) writes nothing. Every live agent
 * gets one now, so lineage learns what each runs from here on.
 */
export class LineageVersions extends Migration {
  override up(): void {
    this.addSql(`alter table lineage_outbox drop constraint lineage_outbox_kind_check`);
    this.addSql(
      `alter table lineage_outbox add constraint lineage_outbox_kind_check check (kind in ('claimed', 'ended', 'owner_changed', 'version_changed'))`,
    );
    this.addSql(`create or replace function lineage_outbox_event() returns trigger language plpgsql as $fn$
      begin
        if new.state = 'claimed' and old.state = 'claiming' then
          insert into lineage_outbox (kind, instance_id, payload) values ('claimed', new.id, jsonb_build_object(
            'templateId', new.template_id, 'ownerId', new.owner_id, 'parentInstanceId', coalesce(new.parent_instance_id, ''),
            'conversationId', coalesce(new.conversation_id, ''), 'carry', new.inheritance_carry, 'inboxId', new.inbox_id,
            'version', coalesce(new.template_version::text, '')));
        elsif new.state = 'dead' then
          insert into lineage_outbox (kind, instance_id, payload)
            values ('ended', new.id, jsonb_build_object('reason', coalesce(new.end_reason, '')));
        else
          if new.owner_id is distinct from old.owner_id then
            insert into lineage_outbox (kind, instance_id, payload)
              values ('owner_changed', new.id, jsonb_build_object('ownerId', new.owner_id));
          end if;
          if new.template_version is distinct from old.template_version or new.pinned is distinct from old.pinned then
            insert into lineage_outbox (kind, instance_id, payload) values ('version_changed', new.id,
              jsonb_build_object('version', coalesce(new.template_version::text, ''), 'pinned', new.pinned));
          end if;
        end if;
        return null;
      end $fn$`);
    this.addSql(`drop trigger instances_lineage on instances`);
    this.addSql(`create trigger instances_lineage after update on instances for each row
      when ((old.state = 'claiming' and new.state = 'claimed')
        or (old.state in ('claimed', 'crashed') and new.state = 'dead')
        or (old.state in ('claimed', 'crashed') and new.state in ('claimed', 'crashed')
          and (new.owner_id is distinct from old.owner_id or new.template_version is distinct from old.template_version
            or new.pinned is distinct from old.pinned)))
      execute function lineage_outbox_event()`);
    this.addSql(`insert into lineage_outbox (kind, instance_id, payload)
      select 'version_changed', id, jsonb_build_object('version', template_version::text, 'pinned', pinned)
        from instances where state in ('claimed', 'crashed') and owner_id is not null and template_version is not null
        order by claimed_at, id`);
  }
}

/**
 * Since when an agent's owner has held it (docs/store.md, "Ratings"): set
 * by the database whenever `owner_id` changes (a claim, a transfer's
 * acceptance, a return to the pool), so no path that changes an owner can
 * forget it. Agents already claimed count from their claim.
 */
export class OwnerSince extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column owner_since timestamptz(3)`);
    this.addSql(`update instances set owner_since = claimed_at where owner_id is not null`);
    this.addSql(`create function instances_owner_since() returns trigger language plpgsql as $fn$
      begin
        if tg_op = 'INSERT' or new.owner_id is distinct from old.owner_id then
          new.owner_since := case when new.owner_id is null then null else now() end;
        end if;
        return new;
      end $fn$`);
    this.addSql(`create trigger instances_owner_since before insert or update of owner_id on instances
      for each row execute function instances_owner_since()`);
  }
}

/**
 * A host lost for good loses no agent (docs/scaling.md, "A host lost for
 * good"): each claimed agent's newest sealed state, kept off its host
 * (AgentVaultService), which the claims service cannot read; when a host was
 * last seen answering and since when it is lost; and each agent's move off a
 * lost host, retried with backoff.
 */
export class AgentVault extends Migration {
  override up(): void {
    this.addSql(`create table agent_states (
      instance_id text primary key references instances (id),
      sequence bigint not null check (sequence > 0),
      sealed bytea not null,
      updated_at timestamptz(3) not null default now()
    )`);
    // A state is an agent's for as long as it is someone's: released to the pool, rolled back or ended, it goes.
    this.addSql(`create function agent_states_forget() returns trigger language plpgsql as $fn$
      begin
        delete from agent_states where instance_id = new.id;
        return null;
      end $fn$`);
    this.addSql(`create trigger instances_agent_state after update of state on instances for each row
      when (new.state in ('idle', 'starting', 'dead') and old.state is distinct from new.state)
      execute function agent_states_forget()`);
    this.addSql(`alter table instance_hosts
      add column last_seen_at timestamptz(3) not null default now(),
      add column lost_at timestamptz(3),
      add column lost_reason text`);
    this.addSql(`alter table instances
      add column move_attempts integer not null default 0,
      add column move_next_at timestamptz(3),
      add column move_error text`);
  }
}

/**
 * Each claimed agent's conversation as its invite names it (the creator's
 * inbox and the conversation's tag): a later claim into the same
 * conversation asks that agent how many members it has, and is refused at
 * XMTP's group limit before it takes anything (docs/claims.md, "A full
 * conversation").
 */
export class ConversationKey extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column conversation_key text`);
    this.addSql(`create index instances_conversation_key on instances (conversation_key) where state = 'claimed'`);
  }
}

/** A keyed claim's stage while it runs, and its requester's cancel (docs/claims.md, "Waiting and cancelling"). */
export class ClaimProgress extends Migration {
  override up(): void {
    this.addSql(`alter table claim_keys add column stage text not null default 'reserving'`);
    this.addSql(`alter table claim_keys add column cancel_requested_at timestamptz(3)`);
  }
}

/**
 * Each agent's conversation name, from its group's metadata as the agent
 * reports it to the pool (ListInstances), so that an owner's agents are told
 * apart by where they are (docs/claims.md, "Conversation names").
 */
export class ConversationName extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column conversation_name text`);
  }
}

/**
 * The host a move restores an agent on, while the move is under way: the
 * keys service releases the agent's key to it only then, and only from a
 * lost host (placement/; docs/security.md, "Agents' keys").
 */
export class MovingTo extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column moving_to text`);
  }
}

/**
 * The payment signer's ledger (signer/; docs/security.md, "Agents' money"):
 * every payment signature given for an agent's wallet, kept whatever becomes
 * of the agent, and never changed or deleted (a trigger refuses both), so that
 * neither a host nor a later bug can make a day's spending look smaller.
 */
export class PaymentLedger extends Migration {
  override up(): void {
    this.addSql(`create table signed_payments (
      sequence bigserial primary key,
      instance_id text not null,
      wallet text not null,
      chain_id bigint not null,
      to_address text not null,
      value_wei numeric(78, 0) not null check (value_wei > 0),
      max_fee_wei numeric(78, 0) not null check (max_fee_wei >= 0),
      nonce bigint not null,
      transaction_hash text not null,
      host_url text not null,
      signed_at timestamptz(3) not null default now()
    )`);
    this.addSql(`create index signed_payments_by_agent on signed_payments (instance_id, signed_at desc)`);
    this.addSql(`create function signed_payments_append_only() returns trigger language plpgsql as $fn$
      begin
        raise exception 'signed_payments is append-only';
      end $fn$`);
    this.addSql(`create trigger signed_payments_append_only before update or delete on signed_payments
      for each row execute function signed_payments_append_only()`);
  }
}

/**
 * The last statement of what an agent may do that its agent took
 * (badge/statement.ts, docs/statement.md): the compact JWS, the next one
 * names its hash. Emptied with the claim.
 */
export class AgentStatements extends Migration {
  override up(): void {
    this.addSql(`alter table instances add column statement text`);
  }
}

/**
 * A template's staged rollout as its push carries it (sync/service.ts,
 * docs/claims.md, "Staged rollouts"): the candidate release as received
 * (kept beside the held one, which the others stay on), the share and the
 * creator's signature of the step that set it, with what that signature is
 * over (`action`, `bounds_hash`). One row per template; a push that ends
 * the rollout deletes it.
 */
export class TemplateRollouts extends Migration {
  override up(): void {
    this.addSql(`create table template_rollouts (
      template_id text primary key,
      rollout_id text not null,
      version integer not null check (version >= 1),
      release bytea not null,
      bases bytea[] not null default '{}',
      release_key integer[] not null,
      default_model text not null,
      baseline_version integer not null,
      share_basis_points integer not null check (share_basis_points between 0 and 10000),
      paused boolean not null,
      step bigint not null,
      action smallint not null,
      bounds_hash text not null,
      -- the creator's RolloutStep: {signature, issuedAt, nonce}
      step_signature jsonb not null,
      updated_at timestamptz(3) not null default now()
    )`);
  }
}

export const migrations: MigrationEntry[] = [
  { name: "0001_instances", class: CreateInstances },
  { name: "0002_instruction_sync", class: CreateInstructionSync },
  // Owners' signatures (pin, remove, signed claims): single-use nonces.
  { name: "0003_signature_nonces", class: CreateSignatureNonces },
  { name: "0004_owner_holdings", class: OwnerHoldings },
  { name: "0005_clone_and_lineage", class: CloneAndLineage },
  { name: "0006_trust_levels", class: TrustLevels },
  { name: "0007_claim_outcomes", class: ClaimOutcomes },
  { name: "0008_template_bases", class: TemplateBases },
  { name: "0009_replicas", class: Replicas },
  { name: "0010_claim_caps_by_owner", class: ClaimCapsByOwner },
  { name: "0011_claim_batch", class: ClaimBatch },
  { name: "0012_agent_permissions", class: AgentPermissions },
  { name: "0013_agent_participation", class: AgentParticipation },
  { name: "0014_attestations", class: Attestations },
  // Claims per caller, counted where every replica sees them (docs/limits.md).
  rateCountersMigration,
  { name: "0015_pool_budget", class: PoolBudget },
  { name: "0016_agent_runtime", class: AgentRuntime },
  { name: "0017_attestation_kid", class: AttestationKid },
  { name: "0018_wallet_funds", class: WalletFunds },
  { name: "0019_lineage_inbox", class: LineageInbox },
  { name: "0020_lineage_versions", class: LineageVersions },
  { name: "0021_owner_since", class: OwnerSince },
  { name: "0022_agent_vault", class: AgentVault },
  { name: "0023_conversation_key", class: ConversationKey },
  { name: "0024_claim_progress", class: ClaimProgress },
  { name: "0025_conversation_name", class: ConversationName },
  { name: "0026_moving_to", class: MovingTo },
  { name: "0027_payment_ledger", class: PaymentLedger },
  { name: "0028_agent_statements", class: AgentStatements },
  { name: "0029_template_rollouts", class: TemplateRollouts },
  { name: "0030_agent_conversations", class: AgentConversations },
  { name: "0031_lineage_conversations", class: LineageConversations },
  { name: "0032_conversation_statements", class: ConversationStatements },
  { name: "0033_confirmed_limits", class: ConfirmedLimits },
  { name: "0034_schedules", class: Schedules },
  { name: "0035_schedules_at_an_end", class: SchedulesAtAnEnd },
];
