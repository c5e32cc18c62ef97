import { Migration } from "@mikro-orm/migrations";

/**
 * The devnode's tables. Everything a client sends is stored as the bytes it
 * sent (ciphertext, key packages, signed identity updates); the only columns
 * derived by the node are ids, timestamps, the group id and commit flag read
 * from a message's MLS framing, the installation key read from a key package,
 * and the address map derived from identity update actions.
 */
export class CreateDevnodeTables extends Migration {
  override async up(): Promise<void> {
    // Identity updates, exactly as received. sequence_id is global and
    // increasing, so it is also increasing per inbox (the client's cursor).
    this.addSql(`create table identity_updates (
      sequence_id bigserial primary key,
      inbox_id text not null,
      server_timestamp_ns bigint not null,
      update_bytes bytea not null
    )`);
    this.addSql(`create index identity_updates_inbox on identity_updates (inbox_id, sequence_id)`);

    // Which inbox an address belongs to, as identity updates associate and
    // revoke it. An address resolves to the inbox of its latest association
    // that is not revoked.
    this.addSql(`create table address_log (
      id bigserial primary key,
      address text not null,
      inbox_id text not null,
      association_sequence_id bigint not null references identity_updates (sequence_id),
      revocation_sequence_id bigint references identity_updates (sequence_id)
    )`);
    this.addSql(`create index address_log_active on address_log (address, association_sequence_id desc)
      where revocation_sequence_id is null`);
    this.addSql(`create index address_log_address_inbox on address_log (address, inbox_id)`);

    // The latest key package of each installation.
    this.addSql(`create table key_packages (
      installation_key bytea primary key,
      key_package bytea not null,
      created_ns bigint not null,
      updated_ns bigint not null
    )`);

    // MLS group messages (ciphertext). The hash of group id and data makes a
    // retried send idempotent, as on the production node.
    this.addSql(`create table group_messages (
      id bigserial primary key,
      created_ns bigint not null,
      group_id bytea not null,
      data bytea not null,
      sender_hmac bytea not null,
      should_push boolean not null,
      is_commit boolean not null,
      group_id_data_hash bytea not null unique
    )`);
    this.addSql(`create index group_messages_group on group_messages (group_id, id)`);

    // Welcome messages (encrypted to the installation's HPKE key), and welcome
    // pointers (message_type 1).
    this.addSql(`create table welcome_messages (
      id bigserial primary key,
      created_ns bigint not null,
      installation_key bytea not null,
      message_type smallint not null check (message_type in (0, 1)),
      data bytea not null,
      hpke_public_key bytea not null,
      wrapper_algorithm integer not null,
      welcome_metadata bytea not null,
      installation_key_data_hash bytea not null unique
    )`);
    this.addSql(`create index welcome_messages_installation on welcome_messages (installation_key, id)`);

    // The commit log of each group: entries and their signatures as sent.
    this.addSql(`create table commit_log (
      id bigserial primary key,
      created_ns bigint not null,
      group_id bytea not null,
      serialized_entry bytea not null,
      serialized_signature bytea not null
    )`);
    this.addSql(`create index commit_log_group on commit_log (group_id, id)`);
  }
}

export const migrations = [{ name: "0001_devnode", class: CreateDevnodeTables }];
