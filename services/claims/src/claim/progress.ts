/**
 * A keyed claim's progress and its requester's cancel (docs/claims.md,
 * "Waiting and cancelling"). The stage lives on the claim's key row
 * (idempotency-keys.ts), where every replica reads it: the process running
 * the claim writes each stage as it enters it; GetClaimProgress reads it by
 * requester and key. A cancel marks the row; the process running the claim
 * is told at once when it is this one (ClaimFlow.cancel), else at its next
 * lease renewal, and stops at its next step.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ClaimStage, type GetClaimProgressResponseSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { invalidArgument, unauthenticated } from "@convos-pool/kit/content";
import { codeLabel } from "@convos-pool/kit/server";
import { checkIdempotencyKey } from "./idempotency-keys.js";

/** The stages a running claim writes (its end is the key's state). */
export type RunningStage = "reserving" | "starting" | "joining";

export interface ProgressRow {
  claim_id: string | null;
  state: "pending" | "done" | "failed";
  stage: RunningStage;
  created_at: Date;
  cancel_requested_at: Date | null;
  instance_id: string | null;
  code: number | null;
  message: string | null;
}

const RUNNING: Record<RunningStage, ClaimStage> = {
  reserving: ClaimStage.RESERVING,
  starting: ClaimStage.STARTING,
  joining: ClaimStage.JOINING,
};

/** Where a claim stands, from its key row: running at its stage, or ended as its outcome says. */
export function stageOf(row: Pick<ProgressRow, "state" | "stage" | "code">): ClaimStage {
  if (row.state === "done") return ClaimStage.JOINED;
  if (row.state === "failed") return row.code === Code.Canceled ? ClaimStage.CANCELLED : ClaimStage.FAILED;
  return RUNNING[row.stage] ?? ClaimStage.UNSPECIFIED;
}

/** What the requester is told of a claim they cancelled. */
export function cancelled(): ConnectError {
  return new ConnectError("you cancelled the claim; nothing was claimed", Code.Canceled);
}

/** The claim enters `stage` (a claim already ended is left as it is). */
export async function setStage(em: EntityManager, claimId: string, stage: RunningStage): Promise<void> {
  await em.execute(`update claim_keys set stage = ? where claim_id = ? and state = 'pending'`, [stage, claimId], "run");
}

/** The requester's claim with `key`, as it stands; undefined when they have none with it. */
export async function readProgress(
  em: EntityManager,
  requester: string,
  key: string,
): Promise<ProgressRow | undefined> {
  const [row] = await em.execute<ProgressRow[]>(
    `select claim_id, state, stage, created_at, cancel_requested_at, instance_id, code, message
     from claim_keys where requester = ? and key = ?`,
    [requester, key],
  );
  return row;
}

/** Marks the requester's running claim with `key` cancelled: its id and stage, or undefined when none is running. */
export async function requestCancel(
  em: EntityManager,
  requester: string,
  key: string,
): Promise<{ claimId: string; stage: RunningStage } | undefined> {
  const [row] = await em.execute<{ claim_id: string; stage: RunningStage }[]>(
    `update claim_keys set cancel_requested_at = coalesce(cancel_requested_at, now())
     where requester = ? and key = ? and state = 'pending' and claim_id is not null
     returning claim_id, stage`,
    [requester, key],
  );
  return row ? { claimId: row.claim_id, stage: row.stage } : undefined;
}

/** Which of these running claims their requesters cancelled. */
export async function cancelledAmong(em: EntityManager, claimIds: readonly string[]): Promise<string[]> {
  if (claimIds.length === 0) return [];
  const rows = await em.execute<{ claim_id: string }[]>(
    `select claim_id from claim_keys where claim_id in (?) and state = 'pending' and cancel_requested_at is not null`,
    [claimIds],
  );
  return rows.map((r) => r.claim_id);
}

/** The signed-in caller and the key a progress read or a cancel names: a session only, a key as Claim takes it. */
export function progressTarget(caller: string | undefined, key: string): { caller: string; key: string } {
  if (caller === undefined) throw unauthenticated("sign in to follow or cancel your claim");
  if (key === "") throw invalidArgument("idempotency_key", "is required: the key your claim was sent with");
  const checked = checkIdempotencyKey(key);
  return { caller, key: checked ?? key };
}

/** GetClaimProgress's answer, from the key row. */
export function progressToProto(row: ProgressRow): MessageInitShape<typeof GetClaimProgressResponseSchema> {
  const stage = stageOf(row);
  return {
    stage,
    startedAt: timestampFromDate(new Date(row.created_at)),
    cancelRequested: row.cancel_requested_at !== null,
    instanceId: row.instance_id ?? "",
    errorCode: row.state === "failed" ? codeLabel(row.code ?? Code.Unknown) : "",
    errorMessage: row.state === "failed" ? (row.message ?? "") : "",
  };
}
