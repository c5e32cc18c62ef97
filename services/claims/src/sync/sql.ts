/**
 * The statements of instruction sync (docs/claims.md, "Instruction sync").
 * An instance's delivery state lives on its row: `applied_key` (where the
 * release it has applied stands: its template's version, then its bases'),
 * `template_version` (the first of those), `pinned`, `sync_error`,
 * `sync_attempts` and `sync_next_at` (set while it may be behind the held
 * release: due when in the past). Keys are integer arrays, which PostgreSQL
 * compares in order, as the agents do (kit compareReleaseKeys). The fan-out
 * scans the partial index `instances_sync_due`.
 */
import type { EntityManager } from "@mikro-orm/postgresql";

/** A release key as a PostgreSQL array literal, for a `?::int[]` parameter. */
export const sqlKey = (key: readonly number[]): string => `{${key.map((v) => Math.floor(v)).join(",")}}`;
const parseKey = (v: number[] | string): number[] =>
  Array.isArray(v) ? v.map(Number) : v.replace(/[{}]/g, "").split(",").filter(Boolean).map(Number);

interface RunResult {
  affectedRows?: number;
}

/** A newer release than the instance's version exists: the condition every "make it due" shares. */
const BEHIND = `exists (select 1 from template_releases r
  where r.template_id = instances.template_id and r.release_key > instances.applied_key)`;

/**
 * Stores a template's release with its bases unless the one held is as new
 * or newer (pushes arrive more than once and out of order: keys only move
 * forward). Returns the key held afterwards and whether this one was stored.
 */
export async function storeRelease(
  tx: EntityManager,
  r: { templateId: string; key: number[]; release: Uint8Array; bases: Uint8Array[]; defaultModel: string },
): Promise<{ held: [number, ...number[]]; stored: boolean }> {
  const [version] = r.key;
  if (version === undefined) throw new Error(`template ${r.templateId}: a release key starts with its version`);
  const res = await tx.execute<RunResult>(
    `insert into template_releases (template_id, version, release_key, release, bases, default_model)
       values (?, ?, ?::int[], ?, array[${r.bases.map(() => "?::bytea").join(", ")}]::bytea[], ?)
     on conflict (template_id) do update set
         version = excluded.version, release_key = excluded.release_key, release = excluded.release, bases = excluded.bases,
         default_model = excluded.default_model, received_at = now()
       where template_releases.release_key < excluded.release_key`,
    [
      r.templateId,
      version,
      sqlKey(r.key),
      Buffer.from(r.release),
      ...r.bases.map((b) => Buffer.from(b)),
      r.defaultModel,
    ],
    "run",
  );
  const [row] = await tx.execute<{ release_key: number[] | string }[]>(
    `select release_key from template_releases where template_id = ?`,
    [r.templateId],
  );
  // The row this statement inserted or kept.
  const [heldVersion, ...heldBases] = row ? parseKey(row.release_key) : [];
  if (heldVersion === undefined) throw new Error(`template ${r.templateId}: no release held after storing one`);
  return { held: [heldVersion, ...heldBases], stored: res.affectedRows === 1 };
}

/**
 * Makes the template's live (claimed, or crashed and delivered once back),
 * unpinned instances below `key` due now, with a fresh backoff. Returns how many.
 */
export async function markTemplateDue(tx: EntityManager, templateId: string, key: number[]): Promise<number> {
  const res = await tx.execute<RunResult>(
    `update instances set sync_next_at = now(), sync_attempts = 0, sync_error = null
     where template_id = ? and state in ('claimed', 'crashed') and not pinned and applied_key < ?::int[]`,
    [templateId, sqlKey(key)],
    "run",
  );
  return res.affectedRows ?? 0;
}

/** How many live, unpinned instances of the template are below `key` (a push that changed nothing). */
export async function countBehind(em: EntityManager, templateId: string, key: number[]): Promise<number> {
  const [row] = await em.execute<{ n: number }[]>(
    `select count(*)::int as n from instances
     where template_id = ? and state in ('claimed', 'crashed') and not pinned and applied_key < ?::int[]`,
    [templateId, sqlKey(key)],
  );
  return Number(row?.n ?? 0);
}

/** The held release of a template: the SignedTemplate and its bases' as received. */
export async function loadRelease(
  em: EntityManager,
  templateId: string,
): Promise<{ release: Uint8Array; bases: Uint8Array[] } | undefined> {
  const [row] = await em.execute<{ release: Uint8Array; bases: Uint8Array[] }[]>(
    `select release, bases from template_releases where template_id = ?`,
    [templateId],
  );
  return row && { release: row.release, bases: row.bases ?? [] };
}

export interface DueInstance {
  id: string;
  hostUrl: string;
  inboxId: string;
  templateId: string;
  appliedKey: number[];
  modelOverridden: boolean;
  releaseKey: number[];
  /** How many provisioned tools it has (none: no tool rows to read or release). */
  tools: number;
}

/** How long a delivery taken by a scan stays with its replica before it is due again (docs/scaling.md). */
export const DUE_LEASE_SECONDS = 15;

/**
 * Due work, oldest first: claimed, unpinned instances whose `sync_next_at`
 * has passed and that are below their template's held release, leaving out
 * `busy` (deliveries in progress), taken for DUE_LEASE_SECONDS so that two
 * replicas never deliver the same one. Due rows that are not behind (any
 * more) are cleared on the way.
 */
export async function dueInstances(em: EntityManager, limit: number, busy: string[]): Promise<DueInstance[]> {
  await em.execute(
    `update instances set sync_next_at = null, sync_error = null, sync_attempts = 0
     where id in (select id from instances
         where sync_next_at is not null and sync_next_at <= now() and state = 'claimed' and not pinned
         order by sync_next_at limit ?)
       and not ${BEHIND}`,
    [limit],
    "run",
  );
  const rows = await em.execute<
    {
      id: string;
      host_url: string;
      inbox_id: string;
      template_id: string;
      applied_key: number[] | string;
      model_overridden: boolean;
      release_key: number[] | string;
      tools: number;
    }[]
  >(
    // Taken, not only read: `sync_next_at` moves DUE_LEASE_SECONDS ahead, so another replica's scan
    // (skipping rows locked meanwhile) takes other rows, and one killed mid-delivery leaves its rows due again then.
    `update instances i set sync_next_at = now() + make_interval(secs => ${DUE_LEASE_SECONDS})
     from (select i.id from instances i join template_releases r on r.template_id = i.template_id
       where i.sync_next_at is not null and i.sync_next_at <= now() and i.state = 'claimed' and not i.pinned
         and r.release_key > i.applied_key ${busy.length > 0 ? "and i.id not in (?)" : ""}
       order by i.sync_next_at limit ? for update of i skip locked) due, template_releases r
     where i.id = due.id and r.template_id = i.template_id
     returning i.id, i.host_url, i.inbox_id, i.template_id, i.applied_key, i.model_overridden, r.release_key,
       (select count(*)::int from provisioned_tools t where t.instance_id = i.id) as tools`,
    busy.length > 0 ? [busy, limit] : [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    hostUrl: r.host_url,
    inboxId: r.inbox_id,
    templateId: r.template_id,
    appliedKey: parseKey(r.applied_key),
    modelOverridden: r.model_overridden,
    releaseKey: parseKey(r.release_key),
    tools: Number(r.tools),
  }));
}

/** Deliveries taken but not begun (a worker stopping): due again at once, for any replica. */
export async function returnDue(em: EntityManager, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  await em.execute(
    `update instances set sync_next_at = now() where id in (?) and sync_next_at > now()`,
    [instanceIds],
    "run",
  );
}

export interface Applied {
  instanceId: string;
  /** The key of the release it has applied. */
  applied: number[];
  /** The instance's answer; empty when it did not say (a version read from Health). */
  model: string;
  releaseKey: number[];
  defaultModel: string;
  /** Its trust level after the update (a lowered highest clamps it); 0 when it did not say. */
  trustLevel: number;
}

/**
 * Records the releases instances have applied (never lower than the one
 * recorded), in one statement for many. At the held release's key the
 * model is the instance's answer, else the release's default unless the
 * owner overrode it. Done when not behind any more; a release that arrived
 * meanwhile keeps it due.
 */
export async function recordApplied(em: EntityManager, done: Applied[]): Promise<void> {
  if (done.length === 0) return;
  // Keys travel as array literals: unnest would flatten an array of arrays.
  const applied = `greatest(i.applied_key, v.applied::int[])`;
  const current = `coalesce((select r.release_key from template_releases r where r.template_id = i.template_id), '{}') <= ${applied}`;
  await em.execute(
    `update instances i set
       model = case when v.applied::int[] = v.release_key::int[]
         then (case when v.model <> '' then v.model when i.model_overridden then i.model else v.default_model end) else i.model end,
       sync_error = case when ${current} then null else i.sync_error end,
       sync_attempts = case when ${current} then 0 else i.sync_attempts end,
       sync_next_at = case when ${current} then null else i.sync_next_at end,
       -- a new version is said in a new statement (badge/statement.ts): its attestation is due now
       attest_next_at = case when i.template_version is distinct from (${applied})[1] then null else i.attest_next_at end,
       template_version = (${applied})[1],
       applied_key = ${applied},
       trust_level = case when v.trust_level > 0 then v.trust_level else i.trust_level end,
       updated_at = now()
     from unnest(array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::text[], array[?]::int[])
       as v(id, applied, model, release_key, default_model, trust_level)
     where i.id = v.id`,
    [
      done.map((d) => d.instanceId),
      done.map((d) => sqlKey(d.applied)),
      done.map((d) => d.model),
      done.map((d) => sqlKey(d.releaseKey)),
      done.map((d) => d.defaultModel),
      done.map((d) => d.trustLevel),
    ],
    "run",
  );
}

/**
 * A failed delivery: the reason (for the owner and the creator to read), one
 * more attempt, the next one after 1 s doubling with each attempt, at most 5 minutes.
 */
export async function recordFailure(em: EntityManager, instanceId: string, reason: string): Promise<void> {
  await recordFailures(em, [{ instanceId, reason }]);
}

/** Failed deliveries, as recordFailure, each with its own reason and backoff, in one statement for many. */
export async function recordFailures(
  em: EntityManager,
  failed: { instanceId: string; reason: string }[],
): Promise<void> {
  if (failed.length === 0) return;
  await em.execute(
    `update instances i set sync_error = v.reason, sync_attempts = i.sync_attempts + 1,
       sync_next_at = now() + make_interval(secs => least(300, power(2, i.sync_attempts)))
     from unnest(array[?]::text[], array[?]::text[]) as v(id, reason)
     where i.id = v.id and i.sync_next_at is not null`,
    [failed.map((f) => f.instanceId), failed.map((f) => f.reason)],
    "run",
  );
}

/** Makes the given instances' pending sync due now (they are reachable again). */
export async function makeDue(em: EntityManager, instanceIds: string[]): Promise<number> {
  if (instanceIds.length === 0) return 0;
  const res = await em.execute<RunResult>(
    `update instances set sync_next_at = now() where id in (?) and state = 'claimed' and ${BEHIND}`,
    [instanceIds],
    "run",
  );
  return res.affectedRows ?? 0;
}

/**
 * Releases instance hosts report (ListInstances) recorded where newer than
 * ours: an update applied whose answer was lost. At the held release's
 * key, an instance the owner did not override runs its default model.
 */
export async function recordHostVersions(
  em: EntityManager,
  reported: { instanceId: string; applied: number[] }[],
): Promise<number> {
  const newer = reported.filter((r) => (r.applied[0] ?? 0) > 0);
  if (newer.length === 0) return 0;
  const res = await em.execute<RunResult>(
    `update instances i set template_version = v.applied[1], applied_key = v.applied, attest_next_at = null, updated_at = now(),
       model = case when not i.model_overridden and r.release_key = v.applied then r.default_model else i.model end
     from (select id, key::int[] as applied from unnest(array[?]::text[], array[?]::text[]) as u(id, key)) v, template_releases r
     where i.id = v.id and r.template_id = i.template_id and i.state in ('claimed', 'crashed') and i.applied_key < v.applied`,
    [newer.map((r) => r.instanceId), newer.map((r) => sqlKey(r.applied))],
    "run",
  );
  return res.affectedRows ?? 0;
}

/**
 * Pins or unpins an owned instance. Unpinning makes it due now if it is
 * behind, with a fresh backoff. False when there is no such owned instance.
 */
export async function setPinned(tx: EntityManager, instanceId: string, pinned: boolean): Promise<boolean> {
  const res = await tx.execute<RunResult>(
    pinned
      ? `update instances set pinned = true, updated_at = now() where id = ? and owner_id is not null`
      : `update instances set pinned = false, updated_at = now(), sync_attempts = 0, sync_error = null,
           sync_next_at = case when ${BEHIND} then now() end
         where id = ? and owner_id is not null`,
    [instanceId],
    "run",
  );
  return res.affectedRows === 1;
}
