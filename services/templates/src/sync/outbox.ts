import type { EntityManager } from "@mikro-orm/postgresql";

/**
 * The transactional outbox of instruction sync: one row per template whose
 * newest content version the claims service has not acknowledged yet.
 * Written in the transaction of the change itself, so a committed content
 * version is never lost; read and cleared by the relay (relay.ts).
 */

export interface OutboxRow {
  templateId: string;
  version: number;
  /** Raised by every enqueue: a row enqueued again at the same version (its base changed) is a new push. */
  revision: string;
  attempts: number;
}

/**
 * Inside the change's transaction: a newer version supersedes an older one
 * still waiting; the same version again (a base of the template changed)
 * gets a new revision, so a push in flight of the old state does not clear it.
 */
export async function enqueueTemplateSync(tx: EntityManager, templateId: string, version: number): Promise<void> {
  await tx.execute(
    `insert into template_sync_outbox (template_id, version) values (?, ?)
     on conflict (template_id) do update set
       version = greatest(template_sync_outbox.version, excluded.version), revision = excluded.revision,
       attempts = 0, next_attempt_at = now(), last_error = null, updated_at = now()`,
    [templateId, version],
  );
}

/**
 * How long a row taken by a relay stays its own: more than a push takes
 * (the relay's call timeout, 10 s by default), so no other replica sends it
 * meanwhile; a relay killed mid-push leaves its row due again after it.
 */
export const OUTBOX_LEASE_SECONDS = 20;

/**
 * Takes up to `limit` rows whose next attempt is due, oldest due first,
 * leaving out `busy` templates (pushes in flight here): each is leased to
 * this relay for OUTBOX_LEASE_SECONDS. Rows another relay is taking at the
 * same moment are skipped, so competing relays (templates replicas) each
 * take different rows.
 */
export async function takeDueOutboxRows(em: EntityManager, limit: number, busy: string[] = []): Promise<OutboxRow[]> {
  if (limit <= 0) return [];
  const rows = await em.execute<{ template_id: string; version: number; revision: string; attempts: number }[]>(
    `update template_sync_outbox o set next_attempt_at = now() + make_interval(secs => ${OUTBOX_LEASE_SECONDS})
     from (select template_id from template_sync_outbox
       where next_attempt_at <= now() ${busy.length > 0 ? "and template_id not in (?)" : ""}
       order by next_attempt_at, template_id limit ${Math.floor(limit)} for update skip locked) due
     where o.template_id = due.template_id
     returning o.template_id, o.version, o.revision::text as revision, o.attempts`,
    busy.length > 0 ? [busy] : [],
  );
  return rows.map((r) => ({
    templateId: r.template_id,
    version: r.version,
    revision: r.revision,
    attempts: r.attempts,
  }));
}

/** A taken row given back unsent (the relay stops): due again at once, for whichever relay looks next. */
export async function returnOutboxRow(em: EntityManager, row: OutboxRow): Promise<void> {
  await em.execute(`update template_sync_outbox set next_attempt_at = now() where template_id = ? and revision = ?`, [
    row.templateId,
    row.revision,
  ]);
}

/** Acknowledged: gone, unless it was enqueued again meanwhile (that state is still to send). */
export async function acknowledgeOutboxRow(em: EntityManager, row: OutboxRow): Promise<void> {
  await em.execute(`delete from template_sync_outbox where template_id = ? and revision = ?`, [
    row.templateId,
    row.revision,
  ]);
}

/**
 * Failed: the next attempt after `initialMs` doubling per failure, at most
 * `maxMs`. A row enqueued again meanwhile is left due at once.
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
     where template_id = ? and revision = ?`,
    [error, backoff.maxMs, backoff.initialMs, row.templateId, row.revision],
  );
}
