// The data a scheduled payment's transaction carries (docs/schedules.md,
// "What the host does"): `convos-pool firing ` and the firing id, in UTF-8,
// so a firing retried after a crash finds the payment it already made, and
// anyone reading the chain sees which firing a payment is. Made only of a
// firing id: the payment signer signs this data and no other, so a host
// cannot have it sign a contract call. Browser-safe (viem).
import { type Hex, hexToString, isHex, stringToHex } from "viem";

export const FIRING_TAG_PREFIX = "convos-pool firing ";

/** A firing id: an item's id and its occurrence's instant, `sch_…@2026-12-04T17:00:00Z`. */
export const FIRING_ID = /^sch_[0-9a-f]{24}@\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The data of a payment that carries out `firingId`; throws for what is not a firing id. */
export function firingTag(firingId: string): Hex {
  if (!FIRING_ID.test(firingId)) throw new Error(`${JSON.stringify(firingId)} is not a firing id`);
  return stringToHex(`${FIRING_TAG_PREFIX}${firingId}`);
}

/** The firing id a transaction's data names; undefined for data that is not exactly a tag. */
export function firingOfData(data: string): string | undefined {
  if (!isHex(data) || data.length % 2 !== 0) return undefined;
  const text = hexToString(data);
  if (!text.startsWith(FIRING_TAG_PREFIX)) return undefined;
  const id = text.slice(FIRING_TAG_PREFIX.length);
  return FIRING_ID.test(id) ? id : undefined;
}

/**
 * The idempotency key a scheduled text or mail carries to its provider (Telnyx's and AgentMail's `Idempotency-Key`,
 * a mail's Message-ID): letters, digits, `_`, `:` and `-` only, as Telnyx asks; the same on every retry of a firing.
 */
export function firingKey(firingId: string): string {
  if (!FIRING_ID.test(firingId)) throw new Error(`${JSON.stringify(firingId)} is not a firing id`);
  return `firing:${firingId.replace("@", ":")}`;
}
