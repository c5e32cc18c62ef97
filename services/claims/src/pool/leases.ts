/**
 * Leases for the claims service's singleton work (docs/scaling.md): one row
 * per name in `pool_leases`, held by one replica until `expires_at`. The
 * holder renews it while it works; a replica killed mid-work stops renewing
 * and the lease lapses, so another takes over without anyone noticing the
 * death. A lease is a time bound, not a fence: a holder that stalls past
 * its expiry can overlap the next one, so the work it guards keeps every
 * write guarded as well (the pool manager's `where state in (...)`).
 *
 * `memo` is what one holder leaves the next (the pool manager: the hosts
 * that did not answer its pass), so a pass on another replica carries on.
 */
import type { EntityManager } from "@mikro-orm/postgresql";

export interface Held {
  /** What the previous holder left (`{}` at first). */
  memo: Record<string, unknown>;
}

/** Takes `name` for `holder` if free, lapsed or already its own; undefined when another replica holds it. */
export async function acquireLease(
  em: EntityManager,
  name: string,
  holder: string,
  seconds: number,
): Promise<Held | undefined> {
  const rows = await em.execute<{ memo: Record<string, unknown> | string }[]>(
    `insert into pool_leases (name, holder, expires_at) values (?, ?, now() + make_interval(secs => ?))
     on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
       where pool_leases.holder is null or pool_leases.holder = excluded.holder or pool_leases.expires_at < now()
     returning memo`,
    [name, holder, seconds],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { memo: typeof r.memo === "string" ? (JSON.parse(r.memo) as Record<string, unknown>) : r.memo };
}

/** Extends the holder's lease; false when it is no longer the holder (it lapsed and another took it). */
export async function renewLease(em: EntityManager, name: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await em.execute<{ name: string }[]>(
    `update pool_leases set expires_at = now() + make_interval(secs => ?) where name = ? and holder = ? returning name`,
    [seconds, name, holder],
  );
  return rows.length === 1;
}

/** Gives the lease up at once, leaving `memo` for the next holder (only if still held). */
export async function releaseLease(
  em: EntityManager,
  name: string,
  holder: string,
  memo: Record<string, unknown>,
): Promise<void> {
  await em.execute(
    `update pool_leases set holder = null, expires_at = now(), memo = ?::jsonb where name = ? and holder = ?`,
    [JSON.stringify(memo), name, holder],
  );
}
