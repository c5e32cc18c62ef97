import { Migration } from "@mikro-orm/migrations";
import { CreateSignatureNonces, rateCountersMigration } from "@convos-pool/kit/service";

export class CreateTemplates extends Migration {
  override async up(): Promise<void> {
    // array_to_string is only STABLE; tags are plain text, so this wrapper may
    // honestly be IMMUTABLE and feed the generated search column.
    this.addSql(`create function template_tags_text(text[]) returns text
      language sql immutable parallel safe as $$ select array_to_string($1, ' ') $$`);
    this.addSql(`create table templates (
      id text primary key,
      creator_id text not null,
      agent_name text not null,
      instructions text not null,
      model jsonb not null,
      tools jsonb not null default '[]',
      description text not null default '',
      category text not null default '',
      tags text[] not null default '{}',
      visibility text not null default 'private' check (visibility in ('private', 'public')),
      status text not null default 'active' check (status in ('active', 'archived')),
      version integer not null check (version > 0),
      usage_count bigint not null default 0,
      -- millisecond precision, like the JavaScript dates that page tokens carry
      created_at timestamptz(3) not null,
      updated_at timestamptz(3) not null,
      search tsvector generated always as (
        setweight(to_tsvector('english', agent_name), 'A') ||
        setweight(to_tsvector('english', template_tags_text(tags)), 'B') ||
        setweight(to_tsvector('english', description), 'C')
      ) stored
    )`);
    // The store only ever reads public, active templates: partial indexes keep
    // each sort order an index walk.
    const store = `where visibility = 'public' and status = 'active'`;
    this.addSql(`create index templates_store_newest on templates (created_at desc, id desc) ${store}`);
    this.addSql(`create index templates_store_most_used on templates (usage_count desc, id desc) ${store}`);
    this.addSql(`create index templates_store_category on templates (category, created_at desc, id desc) ${store}`);
    this.addSql(`create index templates_store_search on templates using gin (search) ${store}`);
    this.addSql(`create index templates_creator on templates (creator_id, created_at desc, id desc)`);
    this.addSql(`create table template_versions (
      template_id text not null references templates (id) on delete cascade,
      version integer not null,
      snapshot jsonb not null,
      changed_by text not null,
      changed_at timestamptz(3) not null,
      change_summary text not null,
      primary key (template_id, version)
    )`);
  }
}

/** Summaries of the changes that set content (the others: publish, unpublish, archive). */
const CONTENT_CHANGE = `(change_summary in ('create', 'update') or change_summary like 'patch %' or change_summary like 'rollback to v%')`;

/**
 * Instruction sync: content versions, the creator's signed change kept with
 * each content version (so it can be passed on to instances unchanged), and
 * the outbox of versions still to hand to the claims service.
 */
export class AddInstructionSync extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table template_versions
      add column content_version integer,
      add column change_kind text check (change_kind in ('create', 'update', 'patch', 'rollback')),
      add column signature text,
      add column signature_issued_at bigint,
      add column signature_nonce text,
      add column patch_hash text,
      add column rollback_target integer,
      add constraint template_versions_signed_change check (
        (change_kind is null) = (signature is null)
        and (signature is null) = (signature_issued_at is null)
        and (signature is null) = (signature_nonce is null)
        and coalesce(change_kind = 'patch', false) = (patch_hash is not null)
        and coalesce(change_kind = 'rollback', false) = (rollback_target is not null))`);
    // Existing history: the change summaries tell exactly which versions set
    // content, so each version's content version is the newest such one up to it.
    // Their signatures were not kept: those versions are served but never relayed.
    this.addSql(`update template_versions v set content_version = coalesce(w.cv, v.version) from (
        select template_id, version,
          max(case when ${CONTENT_CHANGE} then version end) over (partition by template_id order by version) as cv
        from template_versions
      ) w where v.template_id = w.template_id and v.version = w.version`);
    this.addSql(`alter table template_versions alter column content_version set not null,
      add constraint template_versions_content_version check (content_version between 1 and version)`);
    this.addSql(`alter table templates add column content_version integer`);
    this.addSql(`update templates t set content_version = v.content_version
      from template_versions v where v.template_id = t.id and v.version = t.version`);
    this.addSql(`update templates set content_version = version where content_version is null`);
    this.addSql(`alter table templates alter column content_version set not null,
      add constraint templates_content_version check (content_version between 1 and version)`);
    // One row per template with content versions not yet acknowledged by the
    // claims service: the newest one only, since a newer version supersedes.
    this.addSql(`create table template_sync_outbox (
      template_id text primary key references templates (id) on delete cascade,
      version integer not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz(3) not null default now(),
      last_error text,
      updated_at timestamptz(3) not null default now()
    )`);
    this.addSql(`create index template_sync_outbox_due on template_sync_outbox (next_attempt_at)`);
  }
}

/** The creator's default directive for a clone with context (docs/templates.md); '' for none. */
export class AddCloneDirective extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column clone_directive text not null default ''`);
  }
}

/** The highest trust level of the template's agents (docs/templates.md): TrustLevel's number, 0 for unspecified (L2). */
export class AddMaxTrustLevel extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column max_trust_level smallint not null default 0`);
  }
}

/**
 * A store people can trust (docs/store.md): distinct owners per template and
 * day ("most used"), reports, delistings with their requests for review, the
 * featured list, the signed curation log, and release notes per version.
 */
export class AddStoreCuration extends Migration {
  override up(): void {
    this.addSql(`create table template_uses (
      template_id text not null references templates (id) on delete cascade,
      day date not null,
      owner_id text not null,
      primary key (template_id, day, owner_id)
    )`);
    this.addSql(`create index template_uses_day on template_uses (day)`);
    this.addSql(`alter table templates add column recent_owners integer not null default 0`);
    this.addSql(`create index templates_store_recent_owners on templates (recent_owners desc, id desc)
      where visibility = 'public' and status = 'active'`);
    this.addSql(`create table template_reports (
      template_id text not null references templates (id) on delete cascade,
      reporter_id text not null,
      reason text not null,
      state text not null default 'open' check (state in ('open', 'upheld', 'dismissed')),
      reported_at timestamptz(3) not null,
      resolved_by text,
      resolved_at timestamptz(3),
      primary key (template_id, reporter_id)
    )`);
    this.addSql(
      `create index template_reports_newest on template_reports (reported_at desc, template_id, reporter_id)`,
    );
    this.addSql(`create table template_delistings (
      template_id text primary key references templates (id) on delete cascade,
      reason text not null,
      operator_id text not null,
      delisted_at timestamptz(3) not null,
      review_state smallint not null default 0,
      review_message text not null default '',
      review_version integer not null default 0,
      review_requested_at timestamptz(3),
      review_note text not null default ''
    )`);
    this.addSql(`create table template_featured (
      template_id text primary key references templates (id) on delete cascade,
      operator_id text not null,
      featured_at timestamptz(3) not null
    )`);
    // No foreign key: the log outlives a template deleted for good.
    this.addSql(`create table curation_log (
      id bigserial primary key,
      at timestamptz(3) not null,
      actor_id text not null,
      action text not null,
      template_id text not null,
      fields jsonb not null,
      signature text not null,
      signature_issued_at bigint not null,
      signature_nonce text not null
    )`);
    this.addSql(`create index curation_log_template on curation_log (template_id, id desc)`);
    this.addSql(`alter table template_versions add column release_notes text not null default ''`);
  }
}

/**
 * Base templates (docs/templates.md): the base a template's content names,
 * its id as a generated column for finding the templates that build on one,
 * a model that may be left to the base, and a revision per outbox row, so a
 * template pushed again at the same version (its base changed) is not lost
 * to the acknowledgement of an earlier push.
 */
export class AddTemplateBases extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column base jsonb, alter column model drop not null,
      add column base_template_id text generated always as (base ->> 'template_id') stored`);
    this.addSql(`create index templates_base on templates (base_template_id) where base_template_id is not null`);
    this.addSql(`create sequence template_sync_revision`);
    this.addSql(
      `alter table template_sync_outbox add column revision bigint not null default nextval('template_sync_revision')`,
    );
  }
}

/** A template's SOUL (docs/templates.md, "SOUL"): its canonical JSON, null for none. */
export class AddSoul extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column soul jsonb`);
  }
}

/** A template's avatar (an emoji or an https URL): the agent's face in its Convos profile; "" for none. */
export class AddAvatar extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column avatar text not null default ''`);
  }
}

/** What a template's agents run on (docs/openclaw.md): "openclaw", "pool", or "" when the creator did not say (the pool's own). */
export class AddRuntime extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column runtime text not null default ''`);
  }
}

/**
 * The operators' tool grants (docs/limits.md, "What the pool pays for"): one
 * per template or creator (`subject` is "template:<id>" or "creator:<inbox>"),
 * each signed and logged in the curation log; a grant to a creator is logged
 * with no template.
 */
export class AddToolGrants extends Migration {
  override up(): void {
    this.addSql(`create table tool_grants (
      subject text primary key,
      template_id text not null default '',
      creator_id text not null default '',
      tools text[] not null,
      fund_wei numeric(78, 0) not null default 0,
      max_live_tools integer not null default 0,
      operator_id text not null,
      granted_at timestamptz(3) not null
    )`);
    this.addSql(`create index tool_grants_granted on tool_grants (granted_at desc, subject desc)`);
  }
}

/**
 * Whether the creator's signed change acknowledged that it takes the pool's
 * wallet away from agents (docs/templates.md, "A version without the
 * wallet"): a release carries it, as its signature covers it.
 */
export class AddWalletRemovalAcknowledgment extends Migration {
  override up(): void {
    this.addSql(`alter table template_versions add column acknowledged_wallet_removal boolean not null default false`);
  }
}

/**
 * Ratings in the store (docs/store.md, "Ratings"): one rating per owner and
 * template with its review and the creator's answer, reports of reviews, and
 * on each template the count and sum of its stars with the "top rated" score
 * they make, kept in the rating's own transaction so that the store sorts by
 * an index.
 */
export class AddRatings extends Migration {
  // The stars (1 to 5) and the prior's mean (3) as ratings/policy.ts had them
  // when this ran: a migration is history, and the schema imports no feature.
  override up(): void {
    this.addSql(`create table template_ratings (
      template_id text not null references templates (id) on delete cascade,
      reviewer_id text not null,
      stars smallint not null check (stars between 1 and 5),
      review text not null default '',
      created_at timestamptz(3) not null,
      updated_at timestamptz(3) not null,
      answer text not null default '',
      answered_at timestamptz(3),
      -- an operator took its words out; its stars still count
      removed_at timestamptz(3),
      removed_by text,
      primary key (template_id, reviewer_id)
    )`);
    // What anyone reads: reviews with words, not removed, newest first.
    this.addSql(`create index template_ratings_shown on template_ratings (template_id, updated_at desc, reviewer_id desc)
      where review <> '' and removed_at is null`);
    this.addSql(`create table template_review_reports (
      template_id text not null,
      reviewer_id text not null,
      reporter_id text not null,
      reason text not null,
      reported_at timestamptz(3) not null,
      primary key (template_id, reviewer_id, reporter_id),
      foreign key (template_id, reviewer_id) references template_ratings (template_id, reviewer_id) on delete cascade
    )`);
    this.addSql(`alter table templates
      add column rating_count integer not null default 0,
      add column rating_sum integer not null default 0,
      add column rating_score double precision not null default 3`);
    this.addSql(`create index templates_store_top_rated on templates (rating_score desc, id desc)
      where visibility = 'public' and status = 'active'`);
  }
}

/** A template's conversation starters (docs/templates.md, "Avatar and conversation starters"); none by default. */
export class AddConversationStarters extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column conversation_starters text[] not null default '{}'`);
  }
}

/** The phone connections a template's agents use (docs/templates.md, "Phone connections"); none by default. */
export class AddConnections extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column connections jsonb not null default '[]'`);
  }
}

/**
 * The pool's own entries in the curation log (docs/store.md, "Look-alike
 * templates"): a template held at publish is the pool's act, not a person's,
 * and has no signature. Only the pool's ("pool", curation/look-alike.ts's
 * POOL_ACTOR as it was when this ran) may lack one.
 */
export class AddPoolCurationEntries extends Migration {
  override up(): void {
    this.addSql(`alter table curation_log
      alter column signature drop not null,
      alter column signature_issued_at drop not null,
      alter column signature_nonce drop not null,
      add constraint curation_log_signed check (
        (signature is null) = (actor_id = 'pool')
        and (signature is null) = (signature_issued_at is null)
        and (signature is null) = (signature_nonce is null))`);
  }
}

/**
 * Staged rollouts (docs/rollouts.md): a template's new version that reaches a
 * share of its conversations first. Each keeps the creator's pre-signed
 * fallback (a RollbackTemplate to the baseline, with the content it restores),
 * the bounds the pool watches with (defaults filled in), and every step with
 * its signature. At most one running or paused per template.
 */
export class AddRollouts extends Migration {
  override up(): void {
    this.addSql(`create table rollouts (
      id text primary key,
      template_id text not null references templates (id) on delete cascade,
      baseline_version integer not null check (baseline_version > 0),
      candidate_version integer not null check (candidate_version = baseline_version + 1),
      fallback jsonb not null,
      state text not null check (state in ('running', 'paused', 'promoted', 'rolled_back', 'halted')),
      share_basis_points integer not null check (share_basis_points between 1 and 9999),
      bounds jsonb not null,
      steps jsonb not null default '[]',
      watch jsonb,
      started_at timestamptz(3) not null,
      updated_at timestamptz(3) not null
    )`);
    this.addSql(`create unique index rollouts_live on rollouts (template_id) where state in ('running', 'paused')`);
    this.addSql(`create index rollouts_newest on rollouts (template_id, started_at desc, id desc)`);
  }
}

/** The routines a template's agents keep (docs/templates.md, "Routines"); none by default. */
export class AddRoutines extends Migration {
  override up(): void {
    this.addSql(`alter table templates add column routines jsonb not null default '[]'`);
  }
}

export const migrations = [
  { name: "0001_signature_nonces", class: CreateSignatureNonces },
  { name: "0002_templates", class: CreateTemplates },
  { name: "0003_instruction_sync", class: AddInstructionSync },
  { name: "0004_clone_directive", class: AddCloneDirective },
  { name: "0005_max_trust_level", class: AddMaxTrustLevel },
  { name: "0006_store_curation", class: AddStoreCuration },
  { name: "0007_template_bases", class: AddTemplateBases },
  { name: "0008_soul", class: AddSoul },
  { name: "0009_avatar", class: AddAvatar },
  // Rates per creator, counted where every replica sees them (docs/limits.md).
  rateCountersMigration,
  { name: "0010_tool_grants", class: AddToolGrants },
  { name: "0011_runtime", class: AddRuntime },
  { name: "0012_wallet_removal_acknowledgment", class: AddWalletRemovalAcknowledgment },
  { name: "0013_ratings", class: AddRatings },
  { name: "0014_conversation_starters", class: AddConversationStarters },
  { name: "0015_pool_curation_entries", class: AddPoolCurationEntries },
  { name: "0016_connections", class: AddConnections },
  { name: "0017_rollouts", class: AddRollouts },
  { name: "0018_routines", class: AddRoutines },
];
