/**
 * What PutAgentStates does with each state it is handed, pure: which are
 * refused at once (malformed, too big, named twice) and which go to the
 * database, where the agent's placement decides the rest (sql.ts).
 * It never looks inside a state: the pool cannot read it.
 */
import { INSTANCE_ID_PATTERN } from "@convos-pool/kit/content";

/** One sealed state at most (docs/scaling.md): the instance host's own cap on what it seals (its platform/vault.ts). */
export const MAX_SEALED_STATE_BYTES = 2 * 1024 * 1024;
/** States in one call at most. */
export const MAX_STATES_PER_CALL = 1000;
/** A request holds at most this many bytes (the claims service's `maxRequestBytes`): several full states, and the rest. */
export const MAX_VAULT_REQUEST_BYTES = 8 * MAX_SEALED_STATE_BYTES + 64 * 1024;
/**
 * How far a state's sequence may pass the one kept (sql.ts): this many, and
 * one more for each second since that one was kept (or since the agent's
 * instance was made, for its first). An honest host seals an agent at most
 * once a pass (2 s at the least, longer while the vault does not answer:
 * host/vault-sender.ts), so it never runs ahead of the clock, however long
 * the vault was away; a host cannot jump an agent to an arbitrary number.
 */
export const SEQUENCE_SLACK = 1000n;
/** A sequence is kept as PostgreSQL's bigint. */
const MAX_SEQUENCE = (1n << 63n) - 1n;

export interface StateIn {
  instanceId: string;
  sequence: bigint;
  sealed: Uint8Array;
}

export type StatePlan =
  /** To the database: kept if its agent is placed on the calling host and its sequence is newer, within the bound. */
  { kind: "put"; state: StateIn } | { kind: "refuse"; instanceId: string; error: string };

// A NUL is refused by PostgreSQL's text, half a surrogate pair by everyone: neither is in an address.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is what it finds
const NOT_TEXT = /[\u0000-\u001f\u007f]|[\ud800-\udfff]/u;

/** A host's address as the pool names it: http(s), no user or fragment, at most 2,048 characters. */
export function hostUrlProblem(hostUrl: string): string | undefined {
  if (hostUrl === "") return "required: the host's own address, as the pool names it";
  if (hostUrl.length > 2048) return `${hostUrl.length} characters, at most 2048`;
  if (NOT_TEXT.test(hostUrl)) return "not a URL: it holds control characters or broken text";
  let url: URL;
  try {
    url = new URL(hostUrl);
  } catch {
    return "not a URL: the host's own address, as the pool names it";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https address";
  if (url.username !== "" || url.password !== "" || url.hash !== "") return "must not name a user or a fragment";
  return undefined;
}

/** Each state's step, in the order asked. */
export function planPutStates(states: readonly StateIn[]): StatePlan[] {
  const seen = new Set<string>();
  return states.map((state): StatePlan => {
    const refuse = (error: string): StatePlan => ({ kind: "refuse", instanceId: state.instanceId, error });
    if (state.instanceId === "") return refuse("instance_id: required");
    if (!INSTANCE_ID_PATTERN.test(state.instanceId))
      return refuse('instance_id: must be an instance id such as "inst_" followed by 16 letters or digits');
    if (seen.has(state.instanceId)) return refuse("instance_id: named twice in one call; send the newest once");
    seen.add(state.instanceId);
    if (state.sequence < 1n || state.sequence > MAX_SEQUENCE) return refuse(`sequence: must be 1 to ${MAX_SEQUENCE}`);
    if (state.sealed.byteLength === 0) return refuse("sealed: required");
    if (state.sealed.byteLength > MAX_SEALED_STATE_BYTES)
      return refuse(`sealed: ${state.sealed.byteLength} bytes, at most ${MAX_SEALED_STATE_BYTES}`);
    return { kind: "put", state };
  });
}
