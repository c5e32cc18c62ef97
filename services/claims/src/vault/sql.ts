/**
 * The agents' sealed states in the claims database (`agent_states`): the
 * newest one of each claimed agent. A state is kept only for an agent placed
 * on the host that sends it and live (claiming, claimed or crashed), and only
 * when its sequence is above the one kept; a trigger deletes it when the agent
 * is released, rolled back or ended (migration 0022).
 */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { StateIn } from "./policy.js";

/** Agents whose states the pool keeps: live and someone's (or about to be). */
const LIVE = ["claiming", "claimed", "crashed"];

/**
 * Puts the states of agents on `hostUrl`; returns the ids of those placed
 * there (for them the state is now kept, or a newer one already was). The
 * agent's row is locked (`for share`) while its state is written, so an
 * agent ended at the same moment loses its state with it, whichever is first.
 */
export async function putStates(em: EntityManager, hostUrl: string, states: readonly StateIn[]): Promise<Set<string>> {
  if (states.length === 0) return new Set();
  const input = JSON.stringify(
    states.map((s) => ({
      instance_id: s.instanceId,
      sequence: s.sequence.toString(),
      sealed: Buffer.from(s.sealed).toString("base64"),
    })),
  );
  const rows = await em.execute<{ id: string }[]>(
    `with input as (
       select * from jsonb_to_recordset(?::jsonb) as t(instance_id text, sequence bigint, sealed text)
     ), placed as (
       select i.id from instances i join input on input.instance_id = i.id
       where i.host_url = ? and i.state in (?)
       for share of i
     ), kept as (
       insert into agent_states (instance_id, sequence, sealed)
       select input.instance_id, input.sequence, decode(input.sealed, 'base64') from input join placed on placed.id = input.instance_id
       on conflict (instance_id) do update set sequence = excluded.sequence, sealed = excluded.sealed, updated_at = now()
         where agent_states.sequence < excluded.sequence
       returning instance_id
     )
     select id from placed`,
    [input, hostUrl, LIVE],
  );
  return new Set(rows.map((r) => r.id));
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
