import { Migration } from "@mikro-orm/migrations";
import { CreateSignatureNonces } from "@convos-pool/kit";

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

export const migrations = [
  { name: "0001_signature_nonces", class: CreateSignatureNonces },
  { name: "0002_templates", class: CreateTemplates },
];
