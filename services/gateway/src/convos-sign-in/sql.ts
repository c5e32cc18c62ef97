// Sign in with Convos: its table and queries. A row per started sign-in,
// keyed by its code; the browser's secret is kept only as its SHA-256.
import { Migration } from "@mikro-orm/migrations";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { MigrationEntry } from "@convos-pool/kit/service";
import type { PendingSignIn } from "./policy.js";

export class CreateConvosSignIns extends Migration {
  override up(): void {
    this.addSql(`create table if not exists convos_sign_ins (
      code text primary key,
      secret_sha256 bytea not null,
      origin text not null,
      expires_at timestamptz not null,
      sender_inbox_id text,
      sent_at timestamptz,
      collected_at timestamptz
    )`);
    this.addSql(`create index if not exists convos_sign_ins_expires_at on convos_sign_ins (expires_at)`);
  }
}

export const convosSignInsMigration: MigrationEntry = {
  name: "gateway_0003_convos_sign_ins",
  class: CreateConvosSignIns,
};

/** The name the sender's join request gave (policy.ts readJoinRequest): the page calls them by it. */
export class ConvosSignInNames extends Migration {
  override up(): void {
    this.addSql(`alter table convos_sign_ins add column if not exists sender_name text`);
  }
}

export const convosSignInNamesMigration: MigrationEntry = {
  name: "gateway_0004_convos_sign_in_names",
  class: ConvosSignInNames,
};

interface Row {
  secret_sha256: Buffer;
  origin: string;
  expires_at: Date | string;
  sender_inbox_id: string | null;
  sender_name: string | null;
  sent_at: Date | string | null;
  collected_at: Date | string | null;
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));

/** A started sign-in and its secret's hash, or undefined. */
export async function readSignIn(
  em: EntityManager,
  code: string,
): Promise<(PendingSignIn & { secretSha256: Buffer; senderName: string }) | undefined> {
  const [r] = await em.fork().execute<Row[]>(`select * from convos_sign_ins where code = ?`, [code]);
  if (!r) return undefined;
  return {
    secretSha256: Buffer.from(r.secret_sha256),
    origin: r.origin,
    expiresAt: date(r.expires_at),
    senderInboxId: r.sender_inbox_id,
    senderName: r.sender_name ?? "",
    sentAt: r.sent_at === null ? null : date(r.sent_at),
    collectedAt: r.collected_at === null ? null : date(r.collected_at),
  };
}

/** Stores a new sign-in; false when the code is already taken (a collision: draw again). */
export async function insertSignIn(
  em: EntityManager,
  s: { code: string; secretSha256: Buffer; origin: string; expiresAt: Date },
): Promise<boolean> {
  const rows = await em
    .fork()
    .execute<unknown[]>(
      `insert into convos_sign_ins (code, secret_sha256, origin, expires_at) values (?, ?, ?, ?) on conflict (code) do nothing returning code`,
      [s.code, s.secretSha256, s.origin, s.expiresAt],
    );
  return rows.length === 1;
}

/**
 * Records who sent a live code, with the name their join request gave ("" for
 * none), if nobody did before; false when someone did or it expired meanwhile.
 */
export async function claimSignIn(
  em: EntityManager,
  code: string,
  sender: string,
  name: string,
  now: Date,
): Promise<boolean> {
  const rows = await em
    .fork()
    .execute<unknown[]>(
      `update convos_sign_ins set sender_inbox_id = ?, sender_name = ?, sent_at = ? where code = ? and sender_inbox_id is null and expires_at > ? returning code`,
      [sender, name || null, now, code, now],
    );
  return rows.length === 1;
}

/** The name a later message of the code's own sender gives (its join request after its typed slug), kept until collected. */
export async function nameSignIn(em: EntityManager, code: string, sender: string, name: string): Promise<void> {
  await em
    .fork()
    .execute(
      `update convos_sign_ins set sender_name = ? where code = ? and sender_inbox_id = ? and collected_at is null`,
      [name, code, sender],
      "run",
    );
}

/** Marks a sent code collected, once: false when another collect came first. */
export async function collectSignIn(em: EntityManager, code: string, sender: string, now: Date): Promise<boolean> {
  const rows = await em
    .fork()
    .execute<unknown[]>(
      `update convos_sign_ins set collected_at = ? where code = ? and sender_inbox_id = ? and collected_at is null returning code`,
      [now, code, sender],
    );
  return rows.length === 1;
}

/** Forgets sign-ins an hour past their expiry (a used code stays refused meanwhile, and codes are random anyway). */
export async function pruneSignIns(em: EntityManager): Promise<void> {
  await em.fork().execute(`delete from convos_sign_ins where expires_at < now() - interval '1 hour'`, [], "run");
}
