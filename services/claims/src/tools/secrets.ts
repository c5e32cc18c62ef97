import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Secrets of pool-provisioned tools, encrypted at rest with AES-256-GCM.
 *
 * Sealed form (bytea): version byte 0x01 | 12-byte IV | 16-byte tag | ciphertext
 * of the JSON secrets map. The associated data binds a ciphertext to its row
 * (`<instance id>/<tool id>`): a sealed secret copied onto another row does
 * not open. The key comes from configuration (`POOL_SECRETS_KEY`); it is never
 * stored, and nothing here logs or returns plaintext.
 */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error("SecretBox: the key must be 32 bytes (AES-256)");
    this.#key = Buffer.from(key);
  }

  /** Reads `POOL_SECRETS_KEY`: 64 hex characters or the base64 of 32 bytes. */
  static fromConfig(value: string | undefined, name = "POOL_SECRETS_KEY"): SecretBox {
    const v = (value ?? "").trim();
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(v)) key = Buffer.from(v, "hex");
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v))
      key = Buffer.from(v, v.includes("-") || v.includes("_") ? "base64url" : "base64");
    if (key?.length !== 32) {
      throw new Error(
        `${name} must be 32 random bytes, as 64 hex characters or base64 (e.g. \`openssl rand -hex 32\`)`,
      );
    }
    return new SecretBox(key);
  }

  /** A fresh random key, for tests and first-run development setups. */
  static generateKey(): string {
    return randomBytes(32).toString("hex");
  }

  seal(secrets: Readonly<Record<string, string>>, associatedData: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, "utf8"));
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Uint8Array, associatedData: string): Record<string, string> {
    const buf = Buffer.from(sealed);
    if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== VERSION) throw new Error("sealed secret: unknown format");
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(tag);
    let plain: string;
    try {
      plain = Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      // Wrong key, tampered bytes or another row's secret: say so without details.
      throw new Error("sealed secret: authentication failed");
    }
    return JSON.parse(plain) as Record<string, string>;
  }

  /** Never print the key. */
  toJSON(): string {
    return "[SecretBox]";
  }
}

/** The associated data of a tool's sealed secret. */
export const secretAad = (instanceId: string, toolId: string) => `${instanceId}/${toolId}`;

/**
 * What a host is given of a tool's secrets: all but a wallet's key, which stays sealed here and signs the
 * agent's payments here (signer/; docs/security.md, "Agents' money").
 */
export function secretsForHost(toolId: string, secrets: Readonly<Record<string, string>>): Record<string, string> {
  if (toolId !== "crypto") return { ...secrets };
  const { private_key: _kept, ...rest } = secrets;
  return rest;
}
