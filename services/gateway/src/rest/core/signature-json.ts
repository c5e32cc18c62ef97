// The signature object of every signed REST body, `{signature, issued_at,
// nonce}` (docs/rest.md, "Signatures"), as the Signature message.

import { create } from "@bufbuild/protobuf";
import { SignatureSchema, type Signature } from "@convos-pool/gen/convos/pool/v1/common_pb.js";
import type { JsonObject } from "./json.js";

const SIGNATURE_FIELDS = ["signature", "issued_at", "nonce"] as const;

/**
 * The body's `signature` (or `owner_signature`, or a rollout's
 * `fallback_signature` and `step_signature`), undefined when absent: the
 * service then answers 401. Given, all three fields are required.
 */
export function signatureOf(
  body: JsonObject,
  key: "signature" | "owner_signature" | "fallback_signature" | "step_signature" = "signature",
): Signature | undefined {
  const s = body.object(key, SIGNATURE_FIELDS);
  if (!s) return undefined;
  return create(SignatureSchema, {
    signature: s.string("signature"),
    // Any whole number JSON carries: the signing window is the service's to judge, one rule for both faces.
    issuedAt: BigInt(s.integer("issued_at", Number.MIN_SAFE_INTEGER)),
    nonce: s.string("nonce"),
  });
}
