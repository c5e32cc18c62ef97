import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * The transactional outbox of instruction sync: one row per template whose
 * newest content version the claims service has not acknowledged yet.
 * Written in the transaction of the change itself, so a committed content
 * version is never lost; read and cleared by the relay (sync-relay.ts).
 */

export interface OutboxRow {
  templateId: string;
  version: number;
  attempts: number;
}

/** Inside the change's transaction: a newer version supersedes an older one still waiting. */
export async function enqueueTemplateSync(tx: EntityManager, templateId: string, version: number): Promise<void> {
  await tx.execute(
    `insert into template_sync_outbox (template_id, version) values (?, ?)
     on conflict (template_id) do update set
       version = greatest(template_sync_outbox.version, excluded.version),
       attempts = 0, next_attempt_at = now(), last_error = null, updated_at = now()`,
    [templateId, version],
  );
}

/** Rows whose next attempt is due, oldest due first. */
export async function dueOutboxRows(em: EntityManager, limit: number): Promise<OutboxRow[]> {
  const rows = await em.execute<{ template_id: string; version: number; attempts: number }[]>(
    `select template_id, version, attempts from template_sync_outbox where next_attempt_at <= now()
     order by next_attempt_at, template_id limit ${Math.floor(limit)}`,
  );
  return rows.map((r) => ({ templateId: r.template_id, version: r.version, attempts: r.attempts }));
}

/** Acknowledged: gone, unless a newer version arrived meanwhile (that one is still to send). */
export async function acknowledgeOutboxRow(em: EntityManager, row: OutboxRow): Promise<void> {
  await em.execute(`delete from template_sync_outbox where template_id = ? and version = ?`, [row.templateId, row.version]);
}

/**
 * Failed: the next attempt after `initialMs` doubling per failure, at most
 * `maxMs`. A newer version that arrived meanwhile is left due at once.
 */
export async function deferOutboxRow(
  em: EntityManager,
  row: OutboxRow,
  error: string,
  backoff: { initialMs: number; maxMs: number },
): Promise<void> {
  await em.execute(
    `update template_sync_outbox set attempts = attempts + 1, last_error = ?, updated_at = now(),
       next_attempt_at = now() + least(?::float8, ?::float8 * power(2, least(attempts, 30))) * interval '1 millisecond'
     where template_id = ? and version = ?`,
    [error, backoff.maxMs, backoff.initialMs, row.templateId, row.version],
  );
}
