/**
 * The queries of instruction sync (docs/claims.md, "Instruction sync").
 * An instance's delivery state lives on its row: `applied_key` (where the
 * release it has applied stands: its template's version, then its bases'),
 * `template_version` (the first of those), `pinned`, `sync_error`,
 * `sync_attempts` and `sync_next_at` (set while it may be behind its target:
 * due when in the past). Its target is the template's held release, or its
 * rollout's candidate inside the share (db/targets.ts; docs/claims.md,
 * "Staged rollouts"). Keys are integer arrays, which PostgreSQL compares in
 * order, as the agents do (kit compareReleaseKeys). The fan-out scans the
 * partial index `instances_sync_due`.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { behindSql, inShareSql, targetOf } from "../db/targets.js";

/** A release key as a PostgreSQL array literal, for a `?::int[]` parameter. */
export const sqlKey = (key: readonly number[]): string => `{${key.map((v) => Math.floor(v)).join(",")}}`;
const parseKey = (v: number[] | string): number[] =>
  Array.isArray(v) ? v.map(Number) : v.replace(/[{}]/g, "").split(",").filter(Boolean).map(Number);

interface RunResult {
  affectedRows?: number;
}

/** The instance is below its target: the condition every "make it due" shares. */
const BEHIND = behindSql("instances");

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
  // The row this query inserted or kept.
  const [heldVersion, ...heldBases] = row ? parseKey(row.release_key) : [];
  if (heldVersion === undefined) throw new Error(`template ${r.templateId}: no release held after storing one`);
  return { held: [heldVersion, ...heldBases], stored: res.affectedRows === 1 };
}

/**
 * Makes the template's live (claimed, or crashed and delivered once back),
 * unpinned instances below their target due now, with a fresh backoff; with
 * `inShare`, only those whose conversation is in its rollout's share.
 * Returns how many.
 */
export async function markTemplateDue(
  tx: EntityManager,
  templateId: string,
  opts: { inShare?: boolean } = {},
): Promise<number> {
  const res = await tx.execute<RunResult>(
    `update instances set sync_next_at = now(), sync_attempts = 0, sync_error = null
     where ${LIVE_OF_TEMPLATE} and ${BEHIND} ${opts.inShare ? `and ${IN_SHARE}` : ""}`,
    [templateId],
    "run",
  );
  return res.affectedRows ?? 0;
}

/** How many live, unpinned instances of the template are below their target (a push that changed nothing); `inShare` as markTemplateDue. */
export async function countBehind(
  em: EntityManager,
  templateId: string,
  opts: { inShare?: boolean } = {},
): Promise<number> {
  const [row] = await em.execute<{ n: number }[]>(
    `select count(*)::int as n from instances
     where ${LIVE_OF_TEMPLATE} and ${BEHIND} ${opts.inShare ? `and ${IN_SHARE}` : ""}`,
    [templateId],
  );
  return Number(row?.n ?? 0);
}

const LIVE_OF_TEMPLATE = `template_id = ? and state in ('claimed', 'crashed') and not pinned`;
// By the home's place alone: BEHIND asks for the agent's other conversations (db/targets.ts).
const IN_SHARE = `exists (select 1 from template_rollouts ro
  where ro.template_id = instances.template_id and ${inShareSql("ro", "instances.conversation_id")})`;

/** The held release's key, its row locked against claims completing (claim/sql.ts completeClaims) until the transaction ends. */
export async function lockHeld(tx: EntityManager, templateId: string): Promise<number[] | undefined> {
  const [row] = await tx.execute<{ release_key: number[] | string }[]>(
    `select release_key from template_releases where template_id = ? for no key update`,
    [templateId],
  );
  return row && parseKey(row.release_key);
}

/** A rollout as a push carries it (docs/claims.md, "Staged rollouts"), with its candidate release. */
export interface RolloutRow {
  templateId: string;
  rolloutId: string;
  key: number[];
  release: Uint8Array;
  bases: Uint8Array[];
  defaultModel: string;
  baselineVersion: number;
  shareBasisPoints: number;
  paused: boolean;
  step: number;
  action: number;
  boundsHash: string;
  stepSignature: { signature: string; issuedAt: string; nonce: string };
}

/**
 * Keeps a template's rollout: a new one (no row, or another rollout with an
 * older candidate), or a later step of the one kept (its share, pause and
 * signature; its candidate only if newer: a base's new version). A step
 * lower than the one kept (late), the same step again (repeated) and an
 * older rollout's change nothing. The caller refuses a candidate not newer
 * than the held release first. Whether it changed the row.
 */
export async function storeRollout(tx: EntityManager, r: RolloutRow): Promise<boolean> {
  const [version] = r.key;
  if (version === undefined) throw new Error(`template ${r.templateId}: a release key starts with its version`);
  const newer = `excluded.release_key > template_rollouts.release_key`;
  const keep = (column: string) =>
    `${column} = case when ${newer} then excluded.${column} else template_rollouts.${column} end`;
  const res = await tx.execute<RunResult>(
    `insert into template_rollouts (template_id, rollout_id, version, release, bases, release_key, default_model,
         baseline_version, share_basis_points, paused, step, action, bounds_hash, step_signature)
       values (?, ?, ?, ?, array[${r.bases.map(() => "?::bytea").join(", ")}]::bytea[], ?::int[], ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (template_id) do update set
         rollout_id = excluded.rollout_id, ${keep("version")}, ${keep("release")}, ${keep("bases")},
         ${keep("default_model")}, ${keep("release_key")},
         baseline_version = excluded.baseline_version, share_basis_points = excluded.share_basis_points,
         paused = excluded.paused, step = excluded.step, action = excluded.action, bounds_hash = excluded.bounds_hash,
         step_signature = excluded.step_signature, updated_at = now()
       where (template_rollouts.rollout_id = excluded.rollout_id
           and (excluded.step > template_rollouts.step or (excluded.step = template_rollouts.step and ${newer})))
         or (template_rollouts.rollout_id <> excluded.rollout_id and ${newer})`,
    [
      r.templateId,
      r.rolloutId,
      version,
      Buffer.from(r.release),
      ...r.bases.map((b) => Buffer.from(b)),
      sqlKey(r.key),
      r.defaultModel,
      r.baselineVersion,
      r.shareBasisPoints,
      r.paused,
      r.step,
      r.action,
      r.boundsHash,
      JSON.stringify(r.stepSignature),
    ],
    "run",
  );
  return res.affectedRows === 1;
}

/** Ends the template's rollout if its candidate is at most `version` (a promotion, a roll back, a later update). Whether one ended. */
export async function endRollout(tx: EntityManager, templateId: string, version: number): Promise<boolean> {
  const res = await tx.execute<RunResult>(
    `delete from template_rollouts where template_id = ? and version <= ?`,
    [templateId, version],
    "run",
  );
  return (res.affectedRows ?? 0) > 0;
}

/** The rollout kept for a template: its candidate's version and key. */
export async function rolloutOf(
  em: EntityManager,
  templateId: string,
): Promise<{ version: number; key: number[] } | undefined> {
  const [row] = await em.execute<{ version: number; release_key: number[] | string }[]>(
    `select version, release_key from template_rollouts where template_id = ?`,
    [templateId],
  );
  return row && { version: Number(row.version), key: parseKey(row.release_key) };
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

/** The candidate of a template's rollout, as received, with its bases'. */
export async function loadRolloutRelease(
  em: EntityManager,
  templateId: string,
): Promise<{ release: Uint8Array; bases: Uint8Array[] } | undefined> {
  const [row] = await em.execute<{ release: Uint8Array; bases: Uint8Array[] }[]>(
    `select release, bases from template_rollouts where template_id = ?`,
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
  /** The key of its target: the release it is due for. */
  releaseKey: number[];
  /** Its target is its template's rollout's candidate, not the held release. */
  rollout: boolean;
  /** How many provisioned tools it has (none: no tool rows to read or release). */
  tools: number;
}

/** How long a delivery taken by a scan stays with its replica before it is due again (docs/scaling.md). */
export const DUE_LEASE_SECONDS = 15;

/**
 * Due work, oldest first: claimed, unpinned instances whose `sync_next_at`
 * has passed and that are below their target, leaving out `busy`
 * (deliveries in progress), taken for DUE_LEASE_SECONDS so that two
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
      rollout: boolean;
      tools: number;
    }[]
  >(
    // Taken, not only read: `sync_next_at` moves DUE_LEASE_SECONDS ahead, so another replica's scan
    // (skipping rows locked meanwhile) takes other rows, and one killed mid-delivery leaves its rows due again then.
    `update instances i set sync_next_at = now() + make_interval(secs => ${DUE_LEASE_SECONDS})
     from (select i.id, t.key from instances i, lateral (select ${targetOf("i")} as key) t
       where i.sync_next_at is not null and i.sync_next_at <= now() and i.state = 'claimed' and not i.pinned
         and t.key > i.applied_key ${busy.length > 0 ? "and i.id not in (?)" : ""}
       order by i.sync_next_at limit ? for update of i skip locked) due
     where i.id = due.id
     returning i.id, i.host_url, i.inbox_id, i.template_id, i.applied_key, i.model_overridden, due.key as release_key,
       due.key is distinct from (select r.release_key from template_releases r where r.template_id = i.template_id) as rollout,
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
    rollout: r.rollout,
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
 * recorded), in one query for many. At the delivered release's key the
 * model is the instance's answer, else the release's default unless the
 * owner overrode it. Done when not behind its target any more; a release
 * (or a rollout's step) that arrived meanwhile keeps it due.
 */
export async function recordApplied(em: EntityManager, done: Applied[]): Promise<void> {
  if (done.length === 0) return;
  // Keys travel as array literals: unnest would flatten an array of arrays.
  const applied = `greatest(i.applied_key, v.applied::int[])`;
  // Its target as the row stood before this query.
  const current = `coalesce(${targetOf("i")}, '{}') <= ${applied}`;
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

/** Failed deliveries, as recordFailure, each with its own reason and backoff, in one query for many. */
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
 * key (or its rollout's candidate's), an instance the owner did not
 * override runs its default model.
 */
export async function recordHostVersions(
  em: EntityManager,
  reported: { instanceId: string; applied: number[] }[],
): Promise<number> {
  const newer = reported.filter((r) => (r.applied[0] ?? 0) > 0);
  if (newer.length === 0) return 0;
  const res = await em.execute<RunResult>(
    `update instances i set template_version = v.applied[1], applied_key = v.applied, attest_next_at = null, updated_at = now(),
       model = case when i.model_overridden then i.model when r.release_key = v.applied then r.default_model
         else coalesce((select ro.default_model from template_rollouts ro
           where ro.template_id = i.template_id and ro.release_key = v.applied), i.model) end
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
