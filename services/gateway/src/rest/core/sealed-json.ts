// Sealed boxes and bytes as the REST paths carry them (docs/rest.md, "Agent
// memory", "Address book"): bytes as base64 strings, a sealed box as
// `{ephemeral_public_key, nonce, ciphertext}`, passed through unread.

import type { SealedBox } from "@convos-pool/gen/convos/pool/v1/memory_pb.js";
import { badRequest } from "./errors.js";
import type { JsonObject } from "./json.js";

export const SEALED_FIELDS = ["ephemeral_public_key", "nonce", "ciphertext"] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Base64 text (standard alphabet, or URL-safe in a query), padded or not; 400 naming `field` when it is not. */
export function base64Bytes(text: string, field: string, urlSafe = false): Uint8Array {
  if (text.length % 4 === 1 || !(BASE64.test(text) || (urlSafe && BASE64URL.test(text))))
    throw badRequest(field, "must be base64");
  return new Uint8Array(Buffer.from(text, urlSafe ? "base64url" : "base64"));
}

/** A base64 field of a body. */
export function bytesOf(body: JsonObject, key: string): Uint8Array {
  return base64Bytes(body.string(key), body.field(key));
}

export const b64 = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString("base64");

/** A sealed box on REST: each part base64. */
export interface SealedJson {
  ephemeral_public_key: string;
  nonce: string;
  ciphertext: string;
}

export const sealedToJson = (s: SealedBox | undefined): SealedJson => ({
  ephemeral_public_key: b64(s?.ephemeralPublicKey),
  nonce: b64(s?.nonce),
  ciphertext: b64(s?.ciphertext),
});

/**
 * The body's sealed box `key`, undefined when absent, a part left out empty:
 * what a box must hold is the service's to judge, every part at once, as on
 * Connect (claims memory/policy.ts). Refused here is only what is not base64.
 */
export function sealedOf(
  body: JsonObject,
  key: string,
): { ephemeralPublicKey: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array } | undefined {
  const sealed = body.object(key, SEALED_FIELDS);
  if (!sealed) return undefined;
  const part = (name: (typeof SEALED_FIELDS)[number]) => base64Bytes(sealed.string(name, ""), sealed.field(name));
  return { ephemeralPublicKey: part("ephemeral_public_key"), nonce: part("nonce"), ciphertext: part("ciphertext") };
}
