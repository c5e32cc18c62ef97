/**
 * Bringing instances into the pool: a row in `starting` (its wallet index
 * drawn from the sequence), then `idle` once its host started it and it
 * knows its XMTP inbox. Used by the pool manager.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { randomId } from "@convos-pool/kit";
import type { InstanceStateName } from "./entities.js";

export async function registerInstance(em: EntityManager, hostUrl: string): Promise<{ id: string; walletIndex: number }> {
  const rows = await em.execute<{ id: string; wallet_index: number }[]>(
    `insert into instances (id, state, host_url) values (?, 'starting', ?) returning id, wallet_index`,
    [randomId("inst"), hostUrl],
  );
  const r = rows[0]!;
  return { id: r.id, walletIndex: Number(r.wallet_index) };
}

interface RunResult {
  affectedRows?: number;
}

/** starting -> idle, with the inbox the host reported. */
export async function markIdle(em: EntityManager, id: string, inboxId: string): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set state = 'idle', inbox_id = ?, updated_at = now() where id = ? and state = 'starting'`,
    [inboxId, id],
    "run",
  );
  return res.affectedRows === 1;
}

/** Moves an instance from one of `from` to `to` (health checks, replacement). */
export async function setState(em: EntityManager, id: string, from: InstanceStateName[], to: InstanceStateName): Promise<boolean> {
  const res = await em.execute<RunResult>(
    `update instances set state = ?, updated_at = now() where id = ? and state in (?)`,
    [to, id, from],
    "run",
  );
  return res.affectedRows === 1;
}
