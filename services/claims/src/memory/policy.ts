// What is wrong with an owner's memory or address-book call (memory/service.ts,
// address-book/service.ts), the pure part: each request's fields checked
// together, every violation named at once with its field, before anything is
// read or the agent asked. The agent checks them again itself (it opens the
// box); these are the rules a request must pass to reach it. Not here: who
// asks (owner-call.ts) and each id's form (the agent's).
import type { SealedBox } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import { invalidArgument, invalidArguments, violationsOf, type FieldViolationInfo } from "@convos-pool/kit/content";
import { recipientKey, SEALED_NONCE_BYTES, X25519_KEY_BYTES } from "@convos-pool/kit/signing";

/** At most this many entries forgotten or shared, or contacts removed, in one call (the protos). */
export const MAX_IDS = 100;

const bytes = (field: string, value: Uint8Array, length: number, what: string) => () => {
  if (value.length !== length) throw invalidArgument(field, `must be ${length} bytes (${what}), not ${value.length}`);
};

/** A sealed box as the agent opens one: its three parts, each named when it cannot be one. `what`: what it must hold. */
export function sealedViolations(sealed: SealedBox | undefined, what: string): FieldViolationInfo[] {
  if (!sealed) return [{ field: "sealed", description: `is required: ${what}` }];
  return violationsOf(
    bytes("sealed.ephemeral_public_key", sealed.ephemeralPublicKey, X25519_KEY_BYTES, "an X25519 public key"),
    bytes("sealed.nonce", sealed.nonce, SEALED_NONCE_BYTES, "the box's nonce"),
    () => {
      if (sealed.ciphertext.length === 0) throw invalidArgument("sealed.ciphertext", `required: ${what}`);
    },
  );
}

/** The sealed box of a request, once sealedViolations finds nothing; refused with every violation otherwise. */
export function requireSealed(sealed: SealedBox | undefined, what: string): SealedBox {
  const violations = sealedViolations(sealed, what);
  if (!sealed || violations.length > 0) throw invalidArguments(violations);
  return sealed;
}

/** 1 to MAX_IDS ids in `field` (entry_ids, contact_ids); what each is is the agent's to check. */
export function idsViolations(field: string, ids: readonly string[], what: string): FieldViolationInfo[] {
  return ids.length === 0 || ids.length > MAX_IDS
    ? [{ field, description: `1 to ${MAX_IDS} ${what}, not ${ids.length}` }]
    : [];
}

/** The key an answer is sealed to for the owner (recipient_key): an X25519 public key. */
export function recipientKeyViolations(key: Uint8Array): FieldViolationInfo[] {
  return violationsOf(() => recipientKey(key));
}
