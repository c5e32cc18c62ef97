// The verified badge (docs/signatures.md, "The verified badge"): the pool's
// Ed25519 signature over sha256(inboxId || timestamp), in the scheme Convos
// clients check, its public keys as a JWKS. Verification only, and no Node
// module: the CLI, the agent and the web app check attestations with it.
// Signing belongs to the holder of the keys (attestation-keys.ts, the claims
// service).
import { ed25519 } from "@noble/curves/ed25519";
import { sha256 } from "viem";

/** How old an attestation Convos clients still accept. */
export const ATTESTATION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** How far in the future its timestamp may be (clock skew), as Convos clients allow. */
export const ATTESTATION_SKEW_MS = 60_000;
/** How often the pool gives its agents a fresh one: twice in a client's window. */
export const ATTESTATION_REFRESH_MS = 12 * 60 * 60 * 1000;
/** Where the gateway serves the pool's public keys (the path Convos clients fetch). */
export const JWKS_PATH = "/.well-known/agents.json";

/** An attestation as an agent's profile metadata carries it (`attestation`, `attestation_ts`, `attestation_kid`). */
export interface AttestationParts {
  inboxId: string;
  /** base64url, 64 bytes. */
  signature: string;
  /** ISO 8601 UTC, exactly as signed. */
  timestamp: string;
  kid: string;
}

/** One key of a JWKS, as Convos clients read it. */
export interface AttestationJwk {
  kid: string;
  kty: "OKP";
  crv: "Ed25519";
  /** base64url of the raw 32-byte public key. */
  x: string;
  use: "sig";
  /** ISO 8601; absent for a key without an expiry. */
  exp?: string;
}

export interface AttestationJwks {
  keys: AttestationJwk[];
}

export type AttestationCheck = { valid: true; kid: string } | { valid: false; reason: string };

const text = new TextEncoder();

/** What is signed: sha256 of the inbox id followed by the timestamp, as UTF-8. */
export function attestationDigest(inboxId: string, timestamp: string): Uint8Array {
  return sha256(text.encode(`${inboxId}${timestamp}`), "bytes");
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The JWKS of public keys ({kid, x, expiresAt}), as the gateway serves it. */
export function toJwks(keys: readonly { kid: string; x: string; expiresAt?: string }[]): AttestationJwks {
  return {
    keys: keys.map((k) => ({
      kid: k.kid,
      kty: "OKP",
      crv: "Ed25519",
      x: k.x,
      use: "sig",
      ...(k.expiresAt ? { exp: k.expiresAt } : {}),
    })),
  };
}

/**
 * Checks an attestation as a Convos client does: the key named by `kid` in
 * the JWKS (an Ed25519 key, not expired), a timestamp at most 24 hours old
 * and at most a minute ahead, and the signature over this inbox id.
 */
export function checkAttestation(
  a: AttestationParts,
  jwks: AttestationJwks,
  opts: { now?: number; maxAgeMs?: number } = {},
): AttestationCheck {
  const now = opts.now ?? Date.now();
  const key = Array.isArray(jwks.keys) ? jwks.keys.find((k) => k.kid === a.kid) : undefined;
  if (!key) return { valid: false, reason: `no key ${JSON.stringify(a.kid)} in the pool's JWKS` };
  if (key.kty !== "OKP" || key.crv !== "Ed25519") return { valid: false, reason: `key ${a.kid} is not Ed25519` };
  if (key.exp !== undefined) {
    const exp = Date.parse(key.exp);
    if (Number.isNaN(exp) || exp < now) return { valid: false, reason: `key ${a.kid} expired (${key.exp})` };
  }
  return checkAttestationWithKey(a, key.x, opts);
}

/** The same check against one public key (base64url of its 32 raw bytes). */
export function checkAttestationWithKey(
  a: AttestationParts,
  x: string,
  opts: { now?: number; maxAgeMs?: number } = {},
): AttestationCheck {
  const now = opts.now ?? Date.now();
  const at = Date.parse(a.timestamp);
  if (Number.isNaN(at)) return { valid: false, reason: "attestation_ts is not a timestamp" };
  if (now - at > (opts.maxAgeMs ?? ATTESTATION_MAX_AGE_MS)) {
    return { valid: false, reason: `attestation is too old (signed ${a.timestamp})` };
  }
  if (at - now > ATTESTATION_SKEW_MS) return { valid: false, reason: "attestation_ts is in the future" };
  const sig = fromBase64url(a.signature);
  if (sig?.length !== 64) return { valid: false, reason: "attestation is not a 64-byte base64url signature" };
  const pub = fromBase64url(x);
  if (pub?.length !== 32) return { valid: false, reason: `key ${a.kid} is not a 32-byte Ed25519 key` };
  let ok = false;
  try {
    ok = ed25519.verify(sig, attestationDigest(a.inboxId, a.timestamp), pub);
  } catch {
    ok = false;
  }
  return ok
    ? { valid: true, kid: a.kid }
    : { valid: false, reason: `not signed by key ${a.kid} for inbox ${a.inboxId}` };
}
