// The pool operator's attestation keys (docs/signatures.md, "The verified
// badge"): Ed25519 keys with key ids, held by the claims service alone. The
// newest (the last listed) signs; every key is published in the JWKS until
// it expires, so an attestation signed before a rotation stays checkable for
// its 24 hours. Node's crypto signs; nothing here ever prints a private key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { invalidArgument } from "../content/errors.js";
import type { AgentStatement } from "@convos-pool/gen/convos/pool/v1/statement_pb.js";
import { attestationDigest, base64url, type AttestationParts } from "./attestation.js";
import { statementJws, statementSigningInput } from "./statement.js";

/** A key as the operator configures it (ATTESTATION_KEYS: a JSON list of these). */
export interface AttestationKeyConfig {
  kid: string;
  /** PKCS#8 PEM of an Ed25519 private key. */
  pem: string;
  /** ISO 8601: from then on the key is neither published nor used. Absent: no expiry. */
  exp?: string;
}

interface Key {
  kid: string;
  privateKey: KeyObject;
  x: string;
  exp?: number;
  expText?: string;
}

const KID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The raw 32-byte public key of an Ed25519 key, base64url (JWK `x`). */
function rawPublicKey(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: "jwk" }) as { x?: string };
  if (!jwk.x) throw new Error("not an Ed25519 key");
  return jwk.x;
}

export class AttestationKeyRing {
  private readonly keys: Key[];

  constructor(
    configs: readonly AttestationKeyConfig[],
    private readonly now: () => number = Date.now,
  ) {
    if (configs.length === 0) throw invalidArgument("ATTESTATION_KEYS", "lists no key");
    const kids = new Set<string>();
    this.keys = configs.map((c, i) => {
      const field = `ATTESTATION_KEYS[${i}]`;
      if (!KID.test(c.kid ?? "")) throw invalidArgument(`${field}.kid`, "1 to 64 letters, digits or ._:-");
      if (kids.has(c.kid)) throw invalidArgument(`${field}.kid`, `${c.kid} is listed twice`);
      kids.add(c.kid);
      let privateKey: KeyObject;
      try {
        privateKey = createPrivateKey(c.pem);
      } catch {
        // Never the PEM itself in the error.
        throw invalidArgument(`${field}.pem`, "is not a PEM private key");
      }
      if (privateKey.asymmetricKeyType !== "ed25519") throw invalidArgument(`${field}.pem`, "is not an Ed25519 key");
      const exp = c.exp === undefined ? undefined : Date.parse(c.exp);
      if (exp !== undefined && Number.isNaN(exp)) throw invalidArgument(`${field}.exp`, "is not an ISO 8601 time");
      return {
        kid: c.kid,
        privateKey,
        x: rawPublicKey(privateKey),
        ...(exp !== undefined ? { exp, expText: new Date(exp).toISOString() } : {}),
      };
    });
  }

  /** ATTESTATION_KEYS: a JSON list of {kid, pem, exp?}. */
  static fromJson(json: string): AttestationKeyRing {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw invalidArgument("ATTESTATION_KEYS", "is not JSON: a list of {kid, pem, exp?}");
    }
    if (!Array.isArray(parsed)) throw invalidArgument("ATTESTATION_KEYS", "must be a JSON list of {kid, pem, exp?}");
    return new AttestationKeyRing(parsed as AttestationKeyConfig[]);
  }

  private live(): Key[] {
    const now = this.now();
    return this.keys.filter((k) => k.exp === undefined || k.exp > now);
  }

  /** The key that signs: the newest (last listed) not expired. */
  get signingKid(): string | undefined {
    return this.live().at(-1)?.kid;
  }

  /** Signs `inboxId` now with the newest key; throws when every key has expired. */
  attest(inboxId: string): AttestationParts & { x: string; expiresAt?: string } {
    const key = this.live().at(-1);
    if (!key) throw new Error("every attestation key has expired: configure a new one (ATTESTATION_KEYS)");
    const timestamp = new Date(this.now()).toISOString();
    const signature = base64url(sign(null, attestationDigest(inboxId, timestamp), key.privateKey));
    return {
      inboxId,
      signature,
      timestamp,
      kid: key.kid,
      x: key.x,
      ...(key.expText ? { expiresAt: key.expText } : {}),
    };
  }

  /** Signs an agent's statement (statement.ts) with the newest key: its compact JWS and the key's id. */
  signStatement(statement: AgentStatement): { jws: string; kid: string } {
    const key = this.live().at(-1);
    if (!key) throw new Error("every attestation key has expired: configure a new one (ATTESTATION_KEYS)");
    const input = statementSigningInput(statement, key.kid);
    return { jws: statementJws(input, sign(null, Buffer.from(input), key.privateKey)), kid: key.kid };
  }

  /** What the JWKS publishes: every key not expired, public halves only. */
  publicKeys(): { kid: string; x: string; expiresAt?: string }[] {
    return this.live().map((k) => ({ kid: k.kid, x: k.x, ...(k.expText ? { expiresAt: k.expText } : {}) }));
  }
}

/** A new Ed25519 key as PKCS#8 PEM (the development key; `pool`'s operators make theirs with openssl). */
export function generateAttestationKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
