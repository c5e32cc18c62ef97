/**
 * The agents' sealed states in the claims database (`agent_states`): the
 * newest one of each claimed agent. A state is kept only for an agent placed
 * on the host that sends it and live (claiming, claimed or crashed), and only
 * when its sequence is above the one kept; a trigger deletes it when the agent
 * is released, rolled back or ended (migration 0022). A sequence moves
 * forward within a bound (policy.ts SEQUENCE_SLACK), never to any number.
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import { SEQUENCE_SLACK, type StateIn } from "./policy.js";

/** Agents whose states the pool keeps: live and someone's (or about to be). */
const LIVE = ["claiming", "claimed", "crashed"];

/** What a put did with each state of an agent placed on the host. */
export interface Placed {
  /** Now the one kept, or a newer one already was. */
  kept: Set<string>;
  /** Its sequence is further past the kept one than the bound (policy.ts SEQUENCE_SLACK): nothing changed. */
  tooFar: Map<string, bigint>;
}

/**
 * Puts the states of agents on `hostUrl`. The agent's row is locked (`for
 * share`) while its state is written, so an agent ended at the same moment
 * loses its state with it, whichever is first. A state whose sequence is past
 * the kept one (or, for the first, past 0) by more than SEQUENCE_SLACK and a
 * second a second since then is refused, and says the most it may be.
 */
export async function putStates(em: EntityManager, hostUrl: string, states: readonly StateIn[]): Promise<Placed> {
  if (states.length === 0) return { kept: new Set(), tooFar: new Map() };
  const input = JSON.stringify(
    states.map((s) => ({
      instance_id: s.instanceId,
      sequence: s.sequence.toString(),
      sealed: Buffer.from(s.sealed).toString("base64"),
    })),
  );
  const rows = await em.execute<{ id: string; allowed: boolean; most: string | number }[]>(
    `with input as (
       select * from jsonb_to_recordset(?::jsonb) as t(instance_id text, sequence bigint, sealed text)
     ), placed as (
       select i.id, i.created_at from instances i join input on input.instance_id = i.id
       where i.host_url = ? and i.state in (?)
       for share of i
     ), bound as (
       select placed.id, coalesce(s.sequence, 0) + ? + floor(extract(epoch from now() - coalesce(s.updated_at, placed.created_at)))::bigint as most
       from placed left join agent_states s on s.instance_id = placed.id
     ), allowed as (
       select input.* from input join bound on bound.id = input.instance_id where input.sequence <= bound.most
     ), kept as (
       insert into agent_states (instance_id, sequence, sealed)
       select instance_id, sequence, decode(sealed, 'base64') from allowed
       on conflict (instance_id) do update set sequence = excluded.sequence, sealed = excluded.sealed, updated_at = now()
         where agent_states.sequence < excluded.sequence
       returning instance_id
     )
     select bound.id, allowed.instance_id is not null as allowed, bound.most
     from bound left join allowed on allowed.instance_id = bound.id`,
    [input, hostUrl, LIVE, SEQUENCE_SLACK.toString()],
  );
  const placed: Placed = { kept: new Set(), tooFar: new Map() };
  for (const r of rows) {
    if (r.allowed) placed.kept.add(r.id);
    else placed.tooFar.set(r.id, BigInt(r.most));
  }
  return placed;
}

/** The newest sealed state kept for an agent; undefined when none is. */
export async function keptState(em: EntityManager, instanceId: string): Promise<StateIn | undefined> {
  const rows = await em.execute<{ sequence: string | number; sealed: Buffer }[]>(
    `select sequence, sealed from agent_states where instance_id = ?`,
    [instanceId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { instanceId, sequence: BigInt(r.sequence), sealed: new Uint8Array(r.sealed) };
}
