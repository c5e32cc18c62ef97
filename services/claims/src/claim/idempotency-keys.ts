// A claim's outcome is never lost (docs/claims.md, "Retrying a claim"). A
// claim with an idempotency key records, by requester and key, the request
// it names and then its outcome: the agent it gave, or the failure with its
// Connect code. A client that lost the answer (a reset connection, a
// timeout, a claims process that died) sends the same request with the same
// key and gets that outcome; while the first is still running, the retry
// waits for it. Never a second agent. Keys are kept 24 hours.
import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";

/** How long a key names its claim. */
export const CLAIM_KEY_HOURS = 24;
const KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The key as given, checked; undefined when there is none. */
export function checkIdempotencyKey(key: string): string | undefined {
  if (key === "") return undefined;
  if (!KEY.test(key)) throw invalidArgument("idempotency_key", "1 to 128 characters of letters, digits and -_.:");
  return key;
}

/** What a key names: every field of the request that shapes the claim, in a fixed order. */
export function requestHash(req: ClaimRequest): string {
  const config = Object.entries(req.userConfig).sort(([a], [b]) => a.localeCompare(b));
  const named = [
    req.templateId,
    req.conversationInvite,
    req.model,
    config,
    req.cloneFrom,
    req.contextPrompt,
    [...req.carry].sort(),
  ];
  return createHash("sha256").update(JSON.stringify(named)).digest("hex");
}

/** The first claim's outcome, as a retry gives it back. */
export type KeyedOutcome =
  | { state: "done"; instanceId: string }
  | { state: "failed"; code: Code; message: string }
  | { state: "pending" };

interface KeyRow {
  request_hash: string;
  state: "pending" | "done" | "failed";
  instance_id: string | null;
  code: number | null;
  message: string | null;
}

/**
 * Takes the key for this claim (`claimId`, whose lease then covers the key
 * too), or reads what it already names. Undefined: the key is ours, go on
 * and claim. An outcome: the key's first claim got there first (pending: it
 * is still running).
 */
export async function takeKey(
  em: EntityManager,
  p: { requester: string; key: string; hash: string; claimId: string },
): Promise<KeyedOutcome | undefined> {
  const taken = await em.execute<{ key: string }[]>(
    `insert into claim_keys (requester, key, request_hash, claim_id) values (?, ?, ?, ?)
     on conflict (requester, key) do update set request_hash = excluded.request_hash, claim_id = excluded.claim_id, state = 'pending',
       instance_id = null, code = null, message = null, created_at = now(), renewed_at = null, settled_at = null,
       stage = 'reserving', cancel_requested_at = null
       where claim_keys.created_at < now() - make_interval(hours => ?)
     returning key`,
    [p.requester, p.key, p.hash, p.claimId, CLAIM_KEY_HOURS],
  );
  if (taken.length === 1) return undefined;
  const row = await readKey(em, p.requester, p.key);
  if (!row) return undefined; // pruned meanwhile: as if new (cannot happen within a day)
  if (row.request_hash !== p.hash) {
    throw invalidArgument(
      "idempotency_key",
      "already names another claim of yours (another template, conversation or setting); use a new key for a new claim",
    );
  }
  return outcomeOf(row);
}

async function readKey(em: EntityManager, requester: string, key: string): Promise<KeyRow | undefined> {
  const [row] = await em.execute<KeyRow[]>(
    `select request_hash, state, instance_id, code, message from claim_keys where requester = ? and key = ?`,
    [requester, key],
  );
  return row;
}

function outcomeOf(row: KeyRow): KeyedOutcome {
  if (row.state === "done") {
    if (row.instance_id === null) throw new Error("claim_keys: a key done without its instance");
    return { state: "done", instanceId: row.instance_id };
  }
  if (row.state === "failed")
    return { state: "failed", code: (row.code ?? Code.Unknown) as Code, message: row.message ?? "" };
  return { state: "pending" };
}

/** Records a claim's outcome on its key (by the claim's id); later retries get it. In the claim's completing transaction when it succeeded. */
export async function settleKey(
  em: EntityManager,
  claimId: string,
  outcome: Exclude<KeyedOutcome, { state: "pending" }>,
): Promise<void> {
  await em.execute(
    `update claim_keys set state = ?, instance_id = ?, code = ?, message = ?, settled_at = now() where claim_id = ? and state = 'pending'`,
    [
      outcome.state,
      outcome.state === "done" ? outcome.instanceId : null,
      outcome.state === "failed" ? outcome.code : null,
      outcome.state === "failed" ? outcome.message : null,
      claimId,
    ],
    "run",
  );
}

/** The keys of claims that completed together (one query): each names the agent its claim gave. */
export async function settleKeysDone(
  em: EntityManager,
  done: { claimId: string; instanceId: string }[],
): Promise<void> {
  if (done.length === 0) return;
  await em.execute(
    `update claim_keys k set state = 'done', instance_id = v.instance_id, code = null, message = null, settled_at = now()
     from unnest(array[?]::text[], array[?]::text[]) as v(claim_id, instance_id)
     where k.claim_id = v.claim_id and k.state = 'pending'`,
    [done.map((d) => d.claimId), done.map((d) => d.instanceId)],
    "run",
  );
}

/** Renews the lease of the keys of claims this process has in flight. */
export async function renewKeys(em: EntityManager, claimIds: readonly string[]): Promise<void> {
  if (claimIds.length === 0) return;
  await em.execute(
    `update claim_keys set renewed_at = now() where claim_id in (?) and state = 'pending'`,
    [claimIds],
    "run",
  );
}

/**
 * Keys whose claim's lease ran out (its process died, before or after it
 * took an instance): failed, so that a retry learns to start over instead
 * of waiting. What the claim took is given back by the sweep. A key whose
 * instance is still `claiming` waits for the sweep to take that instance
 * first (the two leases are renewed apart): a retry told "taken back" finds
 * it so.
 */
export async function failStaleKeys(em: EntityManager, leaseSeconds: number, message: string): Promise<number> {
  const res = await em.execute<{ affectedRows?: number }>(
    `update claim_keys set state = 'failed', code = ?, message = ?, settled_at = now()
     where state = 'pending' and coalesce(renewed_at, created_at) < now() - make_interval(secs => ?)
       and not exists (select 1 from instances i where i.claim_id = claim_keys.claim_id and i.state = 'claiming')`,
    [Code.Aborted, message, leaseSeconds],
    "run",
  );
  return res.affectedRows ?? 0;
}

/** Keys older than a day name nothing any more. */
export async function pruneKeys(em: EntityManager): Promise<void> {
  await em.execute(
    `delete from claim_keys where created_at < now() - make_interval(hours => ?)`,
    [CLAIM_KEY_HOURS],
    "run",
  );
}

/** Waits for the key's first claim to finish, polling; still pending after `ms`: UNAVAILABLE, try again. */
export async function awaitKey(
  em: EntityManager,
  requester: string,
  key: string,
  ms: number,
): Promise<Exclude<KeyedOutcome, { state: "pending" }>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const row = await readKey(em.fork(), requester, key);
    const outcome: KeyedOutcome = row
      ? outcomeOf(row)
      : { state: "failed", code: Code.Aborted, message: "the first claim with this key was lost; use a new key" };
    if (outcome.state !== "pending") return outcome;
    if (Date.now() > deadline) {
      throw new ConnectError(
        "the first claim with this idempotency key is still running; try again in a few seconds with the same key",
        Code.Unavailable,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Frees the key of a claim that failed before it took anything: a retry with it is a new claim. */
export async function releaseKey(em: EntityManager, requester: string, key: string, claimId: string): Promise<void> {
  await em.execute(
    `delete from claim_keys where requester = ? and key = ? and claim_id = ? and state = 'pending'`,
    [requester, key, claimId],
    "run",
  );
}
