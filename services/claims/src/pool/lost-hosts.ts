/**
 * Hosts lost for good (docs/scaling.md, "A host lost for good"), in the
 * claims database (`instance_hosts`): when each host last answered a pool
 * pass, and since when it is lost, marked by an operator (host-commands.ts
 * `lost`) or by the pool manager once it has not answered for
 * HOST_LOST_AFTER_SECONDS. A lost host gets no new instances and its idle
 * ones are replaced; its claimed agents are moved by the host mover
 * (host-mover.ts). It stays lost, whether it answers again or not, until an
 * operator says it is found.
 */
import type { EntityManager } from "@mikro-orm/postgresql";

/** HOST_LOST_AFTER_SECONDS' default: long enough for a machine's restart or a rescheduled pod with its volume. */
export const DEFAULT_HOST_LOST_AFTER_SECONDS = 30 * 60;

export interface HostMarks {
  draining: Set<string>;
  lost: Set<string>;
}

/** Hosts an operator drains, and hosts lost: the pool manager places nothing on either. */
export async function hostMarks(em: EntityManager): Promise<HostMarks> {
  const rows = await em.execute<{ url: string; draining: boolean; lost: boolean }[]>(
    `select url, draining, lost_at is not null as lost from instance_hosts where draining or lost_at is not null`,
  );
  return {
    draining: new Set(rows.filter((r) => r.draining).map((r) => r.url)),
    lost: new Set(rows.filter((r) => r.lost).map((r) => r.url)),
  };
}

/** The host answered a pass: its silence starts again from now. */
export async function hostSeen(em: EntityManager, url: string): Promise<void> {
  await em.execute(
    `insert into instance_hosts (url, last_seen_at) values (?, now())
     on conflict (url) do update set last_seen_at = now()`,
    [url],
  );
}

export interface Marked {
  /** Warm instances there, now dead (replaced elsewhere). */
  parked: number;
  /** Its claimed agents with no sealed state kept: they cannot be moved. */
  unmovable: string[];
}

/**
 * The host did not answer: lost once it has not answered for `afterSeconds`
 * (0: never by itself). A host first seen silent starts its clock now.
 * Undefined when it is not marked now (not long enough, or already lost).
 */
export async function markLostIfSilent(
  em: EntityManager,
  url: string,
  afterSeconds: number,
): Promise<Marked | undefined> {
  if (afterSeconds <= 0) return undefined;
  await em.execute(`insert into instance_hosts (url, last_seen_at) values (?, now()) on conflict (url) do nothing`, [
    url,
  ]);
  const rows = await em.execute<{ url: string }[]>(
    `update instance_hosts set lost_at = now(), lost_reason = ?, updated_at = now()
     where url = ? and lost_at is null and last_seen_at < now() - make_interval(secs => ?)
     returning url`,
    [`did not answer for ${afterSeconds} s (HOST_LOST_AFTER_SECONDS)`, url, afterSeconds],
  );
  if (rows.length === 0) return undefined;
  return afterMarking(em, url);
}

/** An operator marks the host lost (host-commands.ts); undefined when it already was. */
export async function markLost(em: EntityManager, url: string, reason: string): Promise<Marked | undefined> {
  const rows = await em.execute<{ url: string }[]>(
    `insert into instance_hosts (url, lost_at, lost_reason) values (?, now(), ?)
     on conflict (url) do update set lost_at = now(), lost_reason = excluded.lost_reason, updated_at = now()
       where instance_hosts.lost_at is null
     returning url`,
    [url, reason],
  );
  if (rows.length === 0) return undefined;
  return afterMarking(em, url);
}

/**
 * An operator says the host is found: it takes new instances again. Its
 * agents moved meanwhile stay where they went; those that could not be
 * moved are its own again, and the next pass sees whether it runs them.
 */
export async function markFound(em: EntityManager, url: string): Promise<boolean> {
  const rows = await em.execute<{ url: string }[]>(
    `update instance_hosts set lost_at = null, lost_reason = null, last_seen_at = now(), updated_at = now()
     where url = ? and lost_at is not null returning url`,
    [url],
  );
  await em.execute(
    `update instances set move_attempts = 0, move_next_at = null, move_error = null, moving_to = null
       where host_url = ? and (move_attempts > 0 or moving_to is not null)`,
    [url],
  );
  return rows.length === 1;
}

/**
 * Its warm instances are dead at once (claims stop taking them, the fill
 * replaces them; stopped there should it answer again); which of its agents
 * cannot be moved.
 */
async function afterMarking(em: EntityManager, url: string): Promise<Marked> {
  const rows = await em.execute<{ id: string }[]>(
    `update instances set state = 'dead', updated_at = now()
     where host_url = ? and owner_id is null and state in ('idle', 'starting', 'crashed') returning id`,
    [url],
  );
  return { parked: rows.length, unmovable: await unmovableAgents(em, url) };
}

/** Live agents on lost hosts with no sealed state kept: nothing to move them with. */
const UNMOVABLE = `from instances i join instance_hosts h on h.url = i.host_url and h.lost_at is not null
  where i.state in ('claimed', 'crashed') and i.owner_id is not null
    and not exists (select 1 from agent_states s where s.instance_id = i.id)`;

/** The unmovable agents (of the lost host `url`, or of every lost host). */
export async function unmovableAgents(em: EntityManager, url?: string): Promise<string[]> {
  const rows = await em.execute<{ id: string }[]>(
    `select i.id ${UNMOVABLE} ${url === undefined ? "" : "and i.host_url = ?"} order by i.id`,
    url === undefined ? [] : [url],
  );
  return rows.map((r) => r.id);
}

/** How many agents are unmovable (`pool_agents_unmovable`). */
export async function countUnmovable(em: EntityManager): Promise<number> {
  const [r] = await em.execute<{ n: number }[]>(`select count(*)::int as n ${UNMOVABLE}`);
  return Number(r?.n ?? 0);
}
