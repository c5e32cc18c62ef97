/**
 * What PutAgentStates does with each state it is handed, pure: which are
 * refused at once (malformed, too big, named twice) and which go to the
 * database, where the agent's placement decides the rest (sql.ts).
 * It never looks inside a state: the pool cannot read it.
 */

/** One sealed state at most (docs/scaling.md): the instance host's own cap on what it seals (its platform/vault.ts). */
export const MAX_SEALED_STATE_BYTES = 2 * 1024 * 1024;
/** States in one call at most. */
export const MAX_STATES_PER_CALL = 1000;
/** A request holds at most this many bytes (the claims service's `maxRequestBytes`): several full states, and the rest. */
export const MAX_VAULT_REQUEST_BYTES = 8 * MAX_SEALED_STATE_BYTES + 64 * 1024;
/** A sequence is kept as PostgreSQL's bigint. */
const MAX_SEQUENCE = (1n << 63n) - 1n;

export interface StateIn {
  instanceId: string;
  sequence: bigint;
  sealed: Uint8Array;
}

export type StatePlan =
  /** To the database: kept if its agent is placed on the calling host and its sequence is newer. */
  { kind: "put"; state: StateIn } | { kind: "refuse"; instanceId: string; error: string };

/** Each state's step, in the order asked. */
export function planPutStates(states: readonly StateIn[]): StatePlan[] {
  const seen = new Set<string>();
  return states.map((state): StatePlan => {
    const refuse = (error: string): StatePlan => ({ kind: "refuse", instanceId: state.instanceId, error });
    if (state.instanceId === "") return refuse("instance_id: required");
    if (seen.has(state.instanceId)) return refuse("instance_id: named twice in one call; send the newest once");
    seen.add(state.instanceId);
    if (state.sequence < 1n || state.sequence > MAX_SEQUENCE) return refuse(`sequence: must be 1 to ${MAX_SEQUENCE}`);
    if (state.sealed.byteLength === 0) return refuse("sealed: required");
    if (state.sealed.byteLength > MAX_SEALED_STATE_BYTES)
      return refuse(`sealed: ${state.sealed.byteLength} bytes, at most ${MAX_SEALED_STATE_BYTES}`);
    return { kind: "put", state };
  });
}
