// What the owner's sealed calls carry (the memory calls, the address book's):
// a key to seal an answer to, something sealed to the agent's memory key, a
// list of ids; each checked with INVALID_ARGUMENT naming the field, never
// saying what a sealed box holds.

import type { SealedBox } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import { invalidArgument } from "@convos-pool/kit/content";
import { openSealed, SealedBoxError } from "@convos-pool/kit/signing";

/** `recipient_key`: an X25519 public key to seal the answer to, checked as the claims service checks it. */
export { recipientKey } from "@convos-pool/kit/signing";

/** `sealed`, opened with the agent's memory key; INVALID_ARGUMENT when it was sealed to another key, or tampered with. */
export async function openSealedToAgent(privateKey: Uint8Array, sealed: SealedBox): Promise<Uint8Array> {
  try {
    return await openSealed(privateKey, sealed);
  } catch (err) {
    if (err instanceof SealedBoxError)
      throw invalidArgument("sealed", `${err.message} (seal it to this agent's memory key, GetMemoryKey)`);
    throw err;
  }
}

/** A list of ids in `field`: 1 to `max`, each matching `pattern` (`what` says how one looks). */
export function idList(field: string, ids: string[], max: number, pattern: RegExp, what: string): string[] {
  if (ids.length === 0 || ids.length > max)
    throw invalidArgument(field, `1 to ${max} ${field.replace(/_/g, " ").replace(/s$/, "")}s, not ${ids.length}`);
  ids.forEach((id, i) => {
    if (!pattern.test(id)) throw invalidArgument(`${field}[${i}]`, `must be ${what}`);
  });
  return ids;
}
