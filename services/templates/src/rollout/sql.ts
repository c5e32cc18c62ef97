// The rollouts table (migration 0017_rollouts): a rollout written at its
// start, read locked for a step, its state and steps written after each,
// read back as the contract's Rollout. The one live rollout of a template is
// read where every feature reads it (catalog/rollout.ts).
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import {
  RolloutBoundsSchema,
  RolloutSchema,
  RolloutStepSchema,
  RolloutWatchSchema,
  type Rollout,
  type RolloutBounds,
  type RolloutWatch,
} from "@convos-pool/gen/convos/pool/v1/rollout_service_pb.js";
import { randomId } from "@convos-pool/kit/content";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import { type RolloutBoundsJson, rolloutBoundsFields } from "@convos-pool/kit/signing";
import { signatureOf, type FallbackJson, type RolloutStateName, type StepJson } from "../catalog/rollout.js";
import { actionNumber, stateNumber } from "./policy.js";

/**
 * What the pool makes of a rollout so far: RolloutWatch as lineage answered
 * it, in the contract's JSON with its field names (`halted_on`,
 * `days_counted`, …; a field at its default left out); on a halt,
 * `halted_on` is the reason the creator reads, on a pause `paused_on`.
 */
export interface WatchJson {
  days_counted?: number;
  threshold?: number;
  signals?: {
    signal?: string;
    candidate_events?: number;
    candidate_exposure?: number;
    baseline_events?: number;
    baseline_exposure?: number;
    evidence?: number;
  }[];
  checked_at?: string;
  halted_on?: string;
  candidate_conversations?: number;
  baseline_conversations?: number;
  /** Set while the pool's watch pauses the rollout: why, in the creator's words, and which check (`pause_check`). */
  paused_on?: string;
  pause_check?: string;
  candidate_sample?: number;
  baseline_sample?: number;
  min_sample?: number;
}

export const watchJson = (w: RolloutWatch): WatchJson =>
  toJson(RolloutWatchSchema, w, { useProtoFieldName: true }) as WatchJson;

const watchOf = (w: WatchJson): RolloutWatch =>
  fromJson(RolloutWatchSchema, w as JsonValue, { ignoreUnknownFields: true });

export interface RolloutRow {
  id: string;
  template_id: string;
  baseline_version: number;
  candidate_version: number;
  fallback: FallbackJson;
  state: RolloutStateName;
  share_basis_points: number;
  bounds: RolloutBoundsJson;
  steps: StepJson[];
  watch: WatchJson | null;
  started_at: Date | string;
  updated_at: Date | string;
}

/** A new rollout's id: `ro_` and 16 letters or digits. */
export const newRolloutId = () => randomId("ro");

export async function insertRollout(
  tx: EntityManager,
  r: Omit<RolloutRow, "watch" | "updated_at" | "started_at"> & { started_at: Date },
): Promise<void> {
  await tx.execute(
    `insert into rollouts (id, template_id, baseline_version, candidate_version, fallback, state, share_basis_points,
       bounds, steps, started_at, updated_at)
     values (?, ?, ?, ?, ?::jsonb, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
    [
      r.id,
      r.template_id,
      r.baseline_version,
      r.candidate_version,
      JSON.stringify(r.fallback),
      r.state,
      r.share_basis_points,
      JSON.stringify(r.bounds),
      JSON.stringify(r.steps),
      r.started_at,
      r.started_at,
    ],
  );
}

/** A template's rollout; `lock` takes it for a step (under the template row's lock). */
export async function rolloutOf(
  em: EntityManager,
  templateId: string,
  rolloutId: string,
  lock = false,
): Promise<RolloutRow | undefined> {
  const [r] = await em.execute<RolloutRow[]>(
    `select * from rollouts where id = ? and template_id = ?${lock ? " for update" : ""}`,
    [rolloutId, templateId],
  );
  return r;
}

/** A step done: the state and share after it, the step appended, and the pool's watch when it halted. */
export async function recordStep(
  tx: EntityManager,
  id: string,
  after: { state: RolloutStateName; share: number; step: StepJson; watch?: WatchJson },
): Promise<void> {
  await tx.execute(
    `update rollouts set state = ?, share_basis_points = ?, steps = steps || ?::jsonb,
       watch = coalesce(?::jsonb, watch), updated_at = ? where id = ?`,
    [
      after.state,
      after.share,
      JSON.stringify([after.step]),
      after.watch ? JSON.stringify(after.watch) : null,
      after.step.at,
      id,
    ],
  );
}

/**
 * The next live rollout after `afterId` (by id) that no other transaction
 * holds, locked until `tx` ends: one replica's watch takes it, another's
 * skips it (watch.ts).
 */
export async function nextLiveRolloutLocked(tx: EntityManager, afterId: string): Promise<RolloutRow | undefined> {
  const [r] = await tx.execute<RolloutRow[]>(
    `select * from rollouts where state in ('running', 'paused') and id > ? order by id limit 1 for update skip locked`,
    [afterId],
  );
  return r;
}

/** What the pool makes of the rollout now, replacing what it made before; its state and steps stay. */
export async function recordWatch(tx: EntityManager, id: string, watch: WatchJson): Promise<void> {
  await tx.execute(`update rollouts set watch = ?::jsonb where id = ?`, [JSON.stringify(watch), id]);
}

/** A template's rollouts, newest first; the page token names the (started_at, id) the next page starts below. */
export async function rolloutsPage(
  em: EntityManager,
  templateId: string,
  limit: number,
  pageToken: string,
): Promise<{ rows: RolloutRow[]; nextPageToken: string }> {
  const cursor = decodePageToken(pageToken, 2, "page_token", isDateAndId);
  const rows = await em.execute<RolloutRow[]>(
    `select * from rollouts where template_id = ?
     ${cursor ? "and (started_at, id) < (?::timestamptz, ?)" : ""}
     order by started_at desc, id desc limit ?`,
    [templateId, ...(cursor ?? []), limit + 1],
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextPageToken:
      rows.length > limit && last ? encodePageToken([new Date(last.started_at).toISOString(), last.id]) : "",
  };
}

const ts = (d: Date | string) => timestampFromDate(new Date(d));

/** The bounds as kept (defaults filled in), as the contract has them. */
export const boundsToProto = (b: RolloutBoundsJson): RolloutBounds =>
  create(RolloutBoundsSchema, rolloutBoundsFields(b));

/**
 * A rollout as the contract has it. `conversations` and `conversations_in`
 * are the latest watch's count (lineage's record of the agents that ran
 * each version that day): 0 until the watch first looks.
 */
export function rolloutToProto(r: RolloutRow): Rollout {
  return create(RolloutSchema, {
    rolloutId: r.id,
    templateId: r.template_id,
    baselineVersion: BigInt(r.baseline_version),
    candidateVersion: BigInt(r.candidate_version),
    fallbackVersion: BigInt(r.candidate_version + 1),
    state: stateNumber(r.state),
    shareBasisPoints: r.share_basis_points,
    bounds: boundsToProto(r.bounds),
    steps: r.steps.map((s) =>
      create(RolloutStepSchema, {
        action: actionNumber(s.action),
        shareBasisPoints: s.share_basis_points,
        at: ts(s.at),
        ...(s.signature ? { signature: signatureOf(s.signature) } : {}),
      }),
    ),
    ...(r.watch ? { watch: watchOf(r.watch) } : {}),
    conversations: (r.watch?.candidate_conversations ?? 0) + (r.watch?.baseline_conversations ?? 0),
    conversationsIn: r.watch?.candidate_conversations ?? 0,
    startedAt: ts(r.started_at),
    updatedAt: ts(r.updated_at),
  });
}
