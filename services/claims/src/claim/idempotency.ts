/**
 * What a claim does with its idempotency key (docs/claims.md, "Retrying a
 * claim"; the keys themselves are idempotency-keys.ts): a retry of a claim that
 * took an agent gets that agent, or the failure it ended with; a retry of
 * one still running waits for it; a claim that failed before it took one,
 * or with a failure a client retries as it is, leaves its key free.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { type Logger, whileDatabaseAway } from "@convos-pool/kit/server";
import { awaitKey, releaseKey, requestHash, settleKey, settleKeysDone, takeKey } from "./idempotency-keys.js";
import { completeClaims, type Completion } from "./sql.js";

/** Failures a client retries with the same request (docs/claims.md, "Retrying a claim"). */
const RETRIED_AS_IS = [Code.Unavailable, Code.DeadlineExceeded];

/** A claim about to begin under `claimId`, with its key. */
export interface KeyedClaim {
  requester: string;
  key: string;
  claimId: string;
}

/**
 * Takes the key for this claim, or gives back the outcome of the key's
 * first claim: its agent, or its failure thrown as it was; a first claim
 * still running is waited for, `waitMs` at most. Undefined: the key is this
 * claim's, go on and claim.
 */
export async function firstClaimOutcome(
  em: EntityManager,
  req: ClaimRequest,
  claim: KeyedClaim,
  waitMs: number,
): Promise<{ instanceId: string } | undefined> {
  const first = await takeKey(em.fork(), { ...claim, hash: requestHash(req) });
  if (!first) return undefined;
  const outcome = first.state === "pending" ? await awaitKey(em, claim.requester, claim.key, waitMs) : first;
  if (outcome.state === "failed") throw new ConnectError(outcome.message, outcome.code);
  return { instanceId: outcome.instanceId };
}

/**
 * A keyed claim failed and was rolled back. Its failure is the key's
 * outcome once it had taken an instance (`took`), unless it is one that a
 * client retries as it is (a host or the network away: UNAVAILABLE,
 * DEADLINE_EXCEEDED): then, as before it took one, the key is freed, so
 * that the retry with the same key makes a new attempt. A database that
 * stays away leaves the key to the sweep.
 */
export async function settleFailedClaim(
  em: EntityManager,
  log: Logger,
  claim: KeyedClaim & { took: boolean },
  err: unknown,
): Promise<void> {
  const e = ConnectError.from(err);
  const settled = whileDatabaseAway(() =>
    claim.took && !RETRIED_AS_IS.includes(e.code)
      ? settleKey(em.fork(), claim.claimId, { state: "failed", code: e.code, message: e.rawMessage })
      : releaseKey(em.fork(), claim.requester, claim.key, claim.claimId),
  );
  await settled.catch((dbErr: unknown) =>
    log.error("a claim's idempotency key could not be settled; the sweep settles it", { err: dbErr }),
  );
}

/** A claim to complete, and whether it has a key. */
export interface KeyedCompletion {
  completion: Completion;
  keyed: boolean;
}

/**
 * Completes claims together (sql.ts completeClaims): for each, whether
 * its claim still held its instance. The key of a keyed claim that completed
 * names its agent in the same transaction, so a retry never finds one
 * without the other.
 */
export async function completeWithKeys(em: EntityManager, batch: KeyedCompletion[]): Promise<boolean[]> {
  const completeAll = async (tx: EntityManager) => {
    const done = await completeClaims(
      tx,
      batch.map((b) => b.completion),
    );
    await settleKeysDone(
      tx,
      batch
        .filter((b, i) => b.keyed && done[i])
        .map((b) => ({ claimId: b.completion.claimId, instanceId: b.completion.instanceId })),
    );
    return done;
  };
  return batch.some((b) => b.keyed) ? em.transactional(completeAll) : completeAll(em);
}
