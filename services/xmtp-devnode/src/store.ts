/**
 * The devnode's storage: PostgreSQL (or embedded PGlite) opened through the
 * kit, which runs the migrations; queries go straight to the `pg` pool that
 * backs MikroORM's connection.
 *
 * Why the `pg` pool and not `em.execute`: almost every value here is bytes.
 * MikroORM formats `?` parameters into the SQL text on the client, so each
 * ciphertext would travel as an escaped hex literal inside the query
 * (twice its size, plus formatting and parsing). `pg` sends Buffers as binary
 * bind parameters of a real parameterized query. Using the ORM's own pool
 * (`getNativeClient()`) rather than a second pool keeps one set of connection
 * settings and, on embedded PGlite, the single connection PGlite allows.
 * A transaction holds one pool client and issues every query on it.
 */
import { createHash } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import type { AddressChange } from "./identity.js";
import { MAX_INBOX_LOG_ENTRIES } from "./identity.js";
import { migrations } from "./migrations.js";
import { pageClause, type Page } from "./paging.js";
import { RpcError, Status } from "./rpc-error.js";

export interface GroupMessageRow {
  id: bigint;
  createdNs: bigint;
  groupId: Buffer;
  data: Buffer;
  senderHmac: Buffer;
  shouldPush: boolean;
  isCommit: boolean;
}

export interface WelcomeMessageRow {
  id: bigint;
  createdNs: bigint;
  installationKey: Buffer;
  /** 0: a welcome (V1), 1: a welcome pointer. */
  messageType: 0 | 1;
  data: Buffer;
  hpkePublicKey: Buffer;
  wrapperAlgorithm: number;
  welcomeMetadata: Buffer;
}

export interface IdentityUpdateRow {
  sequenceId: bigint;
  inboxId: string;
  serverTimestampNs: bigint;
  updateBytes: Buffer;
}

export interface CommitLogRow {
  id: bigint;
  serializedEntry: Buffer;
  serializedSignature: Buffer;
}

export interface StoreOptions {
  databaseUrl?: string | undefined;
  embeddedDir?: string | undefined;
}

/** A nanosecond clock that never returns the same value twice in this process. */
export class MonotonicClock {
  private last = 0n;
  nowNs(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }
}

/** A Buffer view of the bytes (no copy): what `pg` sends as a binary parameter. */
function bytes(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

// int8 columns arrive as strings (pg's default parser), made bigints below.
const GROUP_COLUMNS = "id, created_ns, group_id, data, sender_hmac, should_push, is_commit";
const WELCOME_COLUMNS =
  "id, created_ns, installation_key, message_type, data, hpke_public_key, wrapper_algorithm, welcome_metadata";

/** A group_messages row as pg answers it (migrations.ts): bigint columns as text, bytea as Buffer. */
interface GroupMessageDbRow {
  id: string;
  created_ns: string;
  group_id: Buffer;
  data: Buffer;
  sender_hmac: Buffer;
  should_push: boolean;
  is_commit: boolean;
}

/** A welcome_messages row as pg answers it (migrations.ts). */
interface WelcomeMessageDbRow {
  id: string;
  created_ns: string;
  installation_key: Buffer;
  message_type: number;
  data: Buffer;
  hpke_public_key: Buffer;
  wrapper_algorithm: number;
  welcome_metadata: Buffer;
}

function groupRow(r: GroupMessageDbRow): GroupMessageRow {
  return {
    id: BigInt(r.id),
    createdNs: BigInt(r.created_ns),
    groupId: r.group_id,
    data: r.data,
    senderHmac: r.sender_hmac,
    shouldPush: r.should_push,
    isCommit: r.is_commit,
  };
}

function welcomeRow(r: WelcomeMessageDbRow): WelcomeMessageRow {
  return {
    id: BigInt(r.id),
    createdNs: BigInt(r.created_ns),
    installationKey: r.installation_key,
    messageType: r.message_type === 1 ? 1 : 0,
    data: r.data,
    hpkePublicKey: r.hpke_public_key,
    wrapperAlgorithm: r.wrapper_algorithm,
    welcomeMetadata: r.welcome_metadata,
  };
}

export class Store {
  private constructor(
    private readonly db: Database,
    private readonly pool: Pool,
  ) {}

  static async open(opts: StoreOptions): Promise<Store> {
    const db = await openDatabase({
      name: "xmtp-devnode",
      ...(opts.databaseUrl !== undefined ? { url: opts.databaseUrl } : {}),
      ...(opts.embeddedDir !== undefined ? { embeddedDir: opts.embeddedDir } : {}),
      entities: [],
      migrations,
    });
    try {
      const pool = await db.em.getConnection().getNativeClient();
      return new Store(db, pool);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  get embedded(): boolean {
    return this.db.embedded;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("begin");
      const result = await fn(client);
      await client.query("commit");
      return result;
    } catch (err) {
      await client.query("rollback").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  // --- identity ------------------------------------------------------------

  /**
   * Appends an identity update to its inbox's log and applies its address map
   * changes, in one transaction. The inbox's log is locked for the duration
   * (an advisory lock, so it also works for an inbox without entries yet).
   */
  async appendIdentityUpdate(
    inboxId: string,
    updateBytes: Uint8Array,
    createsInbox: boolean,
    addressChanges: readonly AddressChange[],
    serverTimestampNs: bigint,
  ): Promise<bigint> {
    return this.transaction(async (c) => {
      await c.query("select pg_advisory_xact_lock(hashtext('xmtp-devnode inbox ' || $1))", [inboxId]);
      const { rows } = await c.query("select count(*)::int as n from identity_updates where inbox_id = $1", [inboxId]);
      const existing = (rows[0] as { n: number }).n;
      if (existing === 0 && !createsInbox) {
        throw new RpcError(
          Status.INVALID_ARGUMENT,
          `invalid identity update: inbox ${inboxId} does not exist and the update does not create it`,
        );
      }
      if (existing > 0 && createsInbox) {
        throw new RpcError(Status.INVALID_ARGUMENT, `invalid identity update: inbox ${inboxId} already exists`);
      }
      if (existing >= MAX_INBOX_LOG_ENTRIES) {
        throw new RpcError(Status.RESOURCE_EXHAUSTED, `inbox log is full (${MAX_INBOX_LOG_ENTRIES} updates)`);
      }
      const inserted = await c.query(
        `insert into identity_updates (inbox_id, server_timestamp_ns, update_bytes) values ($1, $2, $3)
         returning sequence_id`,
        [inboxId, serverTimestampNs.toString(), bytes(updateBytes)],
      );
      const sequenceId = (inserted.rows[0] as { sequence_id: string }).sequence_id;
      for (const change of addressChanges) {
        if (change.op === "associate") {
          await c.query("insert into address_log (address, inbox_id, association_sequence_id) values ($1, $2, $3)", [
            change.address,
            inboxId,
            sequenceId,
          ]);
        } else {
          await c.query(
            `update address_log set revocation_sequence_id = $3
             where id = (select id from address_log where address = $1 and inbox_id = $2
                         and revocation_sequence_id is null order by association_sequence_id desc limit 1)`,
            [change.address, inboxId, sequenceId],
          );
        }
      }
      return BigInt(sequenceId);
    });
  }

  /** Every update of the given inboxes with a sequence id above `after` (per inbox), ascending. */
  async identityUpdatesSince(inboxIds: readonly string[], after: bigint): Promise<IdentityUpdateRow[]> {
    if (inboxIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `select sequence_id, inbox_id, server_timestamp_ns, update_bytes from identity_updates
       where inbox_id = any($1::text[]) and sequence_id > $2 order by sequence_id asc`,
      [inboxIds, after.toString()],
    );
    return rows.map(
      (r: { sequence_id: string; inbox_id: string; server_timestamp_ns: string; update_bytes: Buffer }) => ({
        sequenceId: BigInt(r.sequence_id),
        inboxId: r.inbox_id,
        serverTimestampNs: BigInt(r.server_timestamp_ns),
        updateBytes: r.update_bytes,
      }),
    );
  }

  /** Address (normalized) to inbox id, for the addresses that resolve. */
  async inboxIdsOf(addresses: readonly string[]): Promise<Map<string, string>> {
    if (addresses.length === 0) return new Map();
    const { rows } = await this.pool.query(
      `select distinct on (address) address, inbox_id from address_log
       where address = any($1::text[]) and revocation_sequence_id is null
       order by address, association_sequence_id desc`,
      [addresses],
    );
    return new Map(rows.map((r: { address: string; inbox_id: string }) => [r.address, r.inbox_id]));
  }

  // --- key packages --------------------------------------------------------

  async putKeyPackage(installationKey: Uint8Array, keyPackage: Uint8Array, nowNs: bigint): Promise<void> {
    await this.pool.query(
      `insert into key_packages (installation_key, key_package, created_ns, updated_ns) values ($1, $2, $3, $3)
       on conflict (installation_key) do update set key_package = excluded.key_package, updated_ns = excluded.updated_ns`,
      [bytes(installationKey), bytes(keyPackage), nowNs.toString()],
    );
  }

  /** Installation key (hex) to its latest key package. */
  async keyPackagesOf(installationKeys: readonly Uint8Array[]): Promise<Map<string, Buffer>> {
    if (installationKeys.length === 0) return new Map();
    const { rows } = await this.pool.query(
      "select installation_key, key_package from key_packages where installation_key = any($1::bytea[])",
      [installationKeys.map((k) => bytes(k))],
    );
    return new Map(
      rows.map((r: { installation_key: Buffer; key_package: Buffer }) => [
        r.installation_key.toString("hex"),
        r.key_package,
      ]),
    );
  }

  // --- group messages ------------------------------------------------------

  /** Inserts a group message; null when the same data was already stored for the group (an idempotent retry). */
  async insertGroupMessage(m: Omit<GroupMessageRow, "id">): Promise<GroupMessageRow | null> {
    const { rows } = await this.pool.query<GroupMessageDbRow>(
      `insert into group_messages (created_ns, group_id, data, sender_hmac, should_push, is_commit, group_id_data_hash)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (group_id_data_hash) do nothing
       returning ${GROUP_COLUMNS}`,
      [m.createdNs.toString(), m.groupId, m.data, m.senderHmac, m.shouldPush, m.isCommit, sha256(m.groupId, m.data)],
    );
    const [row] = rows;
    return row ? groupRow(row) : null;
  }

  async queryGroupMessages(groupId: Uint8Array, page: Page): Promise<GroupMessageRow[]> {
    const tail = pageClause(page);
    const { rows } = await this.pool.query<GroupMessageDbRow>(
      `select ${GROUP_COLUMNS} from group_messages where group_id = $1 ${tail.sql}`,
      [bytes(groupId), ...tail.params],
    );
    return rows.map(groupRow);
  }

  /** The newest message of each group (hex group id to row). */
  async newestGroupMessages(groupIds: readonly Uint8Array[]): Promise<Map<string, GroupMessageRow>> {
    if (groupIds.length === 0) return new Map();
    const { rows } = await this.pool.query<GroupMessageDbRow>(
      `select distinct on (group_id) ${GROUP_COLUMNS} from group_messages
       where group_id = any($1::bytea[]) order by group_id, id desc`,
      [groupIds.map((g) => bytes(g))],
    );
    return new Map(rows.map((r) => [r.group_id.toString("hex"), groupRow(r)]));
  }

  // --- welcome messages ----------------------------------------------------

  async insertWelcomeMessage(m: Omit<WelcomeMessageRow, "id">): Promise<WelcomeMessageRow | null> {
    const { rows } = await this.pool.query<WelcomeMessageDbRow>(
      `insert into welcome_messages (created_ns, installation_key, message_type, data, hpke_public_key,
         wrapper_algorithm, welcome_metadata, installation_key_data_hash)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (installation_key_data_hash) do nothing
       returning ${WELCOME_COLUMNS}`,
      [
        m.createdNs.toString(),
        m.installationKey,
        m.messageType,
        m.data,
        m.hpkePublicKey,
        m.wrapperAlgorithm,
        m.welcomeMetadata,
        sha256(m.installationKey, m.data),
      ],
    );
    const [row] = rows;
    return row ? welcomeRow(row) : null;
  }

  async queryWelcomeMessages(installationKey: Uint8Array, page: Page): Promise<WelcomeMessageRow[]> {
    const tail = pageClause(page);
    const { rows } = await this.pool.query<WelcomeMessageDbRow>(
      `select ${WELCOME_COLUMNS} from welcome_messages where installation_key = $1 ${tail.sql}`,
      [bytes(installationKey), ...tail.params],
    );
    return rows.map(welcomeRow);
  }

  // --- commit log ----------------------------------------------------------

  async insertCommitLogEntry(
    groupId: Uint8Array,
    entry: Uint8Array,
    signature: Uint8Array,
    nowNs: bigint,
  ): Promise<bigint> {
    const { rows } = await this.pool.query(
      `insert into commit_log (created_ns, group_id, serialized_entry, serialized_signature) values ($1, $2, $3, $4)
       returning id`,
      [nowNs.toString(), bytes(groupId), bytes(entry), bytes(signature)],
    );
    return BigInt((rows[0] as { id: string }).id);
  }

  /** Commit log entries of a group with ids above `after`, ascending. */
  async queryCommitLog(groupId: Uint8Array, after: bigint, limit: number): Promise<CommitLogRow[]> {
    const { rows } = await this.pool.query(
      `select id, serialized_entry, serialized_signature from commit_log
       where group_id = $1 and id > $2 order by id asc limit $3`,
      [bytes(groupId), after.toString(), limit],
    );
    return rows.map((r: { id: string; serialized_entry: Buffer; serialized_signature: Buffer }) => ({
      id: BigInt(r.id),
      serializedEntry: r.serialized_entry,
      serializedSignature: r.serialized_signature,
    }));
  }
}
