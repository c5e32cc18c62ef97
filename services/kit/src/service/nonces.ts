/**
 * Single-use signature nonces, persisted in the verifying service's own database
 * (table `signature_nonces`). Any service that verifies signed requests adds the
 * migration to its list and calls `consumeNonce` in the same transaction as the
 * mutation the signature authorizes: if the mutation rolls back, so does the
 * nonce, and the client may retry with the same signed request.
 */
import { Migration } from "@mikro-orm/migrations";
import type { SqlEntityManager } from "@mikro-orm/postgresql";
import type { MigrationEntry } from "./db.js";

export class CreateSignatureNonces extends Migration {
  override up(): void {
    this.addSql(`create table if not exists signature_nonces (
      nonce text primary key,
      inbox_id text not null,
      purpose text not null,
      used_at timestamptz not null default now()
    )`);
    // For pruneNonces.
    this.addSql(`create index if not exists signature_nonces_used_at_idx on signature_nonces (used_at)`);
  }

  override down(): void {
    this.addSql(`drop table if exists signature_nonces`);
  }
}

/** Ready-made entry for `DatabaseOptions.migrations`. */
export const signatureNoncesMigration: MigrationEntry = {
  name: "kit_0001_signature_nonces",
  class: CreateSignatureNonces,
};

export interface NonceUse {
  nonce: string;
  /** The inbox that signed. */
  inboxId: string;
  /** The signed operation (EIP-712 primary type or similar). */
  purpose: string;
}

interface RunResult {
  affectedRows?: number;
}

/**
 * Records the nonce as used. Returns true the first time, false when it was
 * already used (a replay). Runs in `em`'s transaction when there is one.
 */
export async function consumeNonce(em: SqlEntityManager, use: NonceUse): Promise<boolean> {
  if (!use.nonce) throw new Error("consumeNonce: empty nonce");
  const res = await em.execute<RunResult>(
    "insert into signature_nonces (nonce, inbox_id, purpose) values (?, ?, ?) on conflict (nonce) do nothing",
    [use.nonce, use.inboxId, use.purpose],
    "run",
  );
  return (res.affectedRows ?? 0) === 1;
}

/**
 * Deletes nonces used before `olderThan`; returns how many. Only prune past the
 * window in which signed messages are accepted (`issuedAt`), or replays of old
 * messages would pass the nonce check.
 */
export async function pruneNonces(em: SqlEntityManager, olderThan: Date): Promise<number> {
  const res = await em.execute<RunResult>("delete from signature_nonces where used_at < ?", [olderThan], "run");
  return res.affectedRows ?? 0;
}
