// Sealed boxes (memory.proto's SealedBox, docs/memory.md "Sealed boxes"):
// bytes only the holder of one X25519 private key can open, so the pool
// relays an agent's memory between the agent and its owner without reading
// it. A fresh ephemeral key per box; the AES-256-GCM key is HKDF-SHA256 over
// X25519(ephemeral, recipient), salt ephemeral pub || recipient pub, info
// "convos-pool/sealed-box/v1". Browser-safe: @noble/curves and Web Crypto.
//
// The agent's memory key (MemoryKey) is signed by its wallet with EIP-191, so
// its owner can check the pool did not put a key of its own in its place.

import { x25519 } from "@noble/curves/ed25519";
import { bytesToHex, recoverMessageAddress, type Hex } from "viem";
import { invalidArgument } from "../content/errors.js";
import { deriveInboxId } from "./inbox.js";

export const SEALED_BOX_INFO = "convos-pool/sealed-box/v1";
export const X25519_KEY_BYTES = 32;

/** A request's `recipient_key`, the X25519 public key an answer is sealed to; INVALID_ARGUMENT naming it otherwise. */
export function recipientKey(key: Uint8Array): Uint8Array {
  if (key.length !== X25519_KEY_BYTES)
    throw invalidArgument(
      "recipient_key",
      `must be ${X25519_KEY_BYTES} bytes (an X25519 public key), not ${key.length}`,
    );
  return key;
}
export const SEALED_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;

export interface SealedBoxBytes {
  ephemeralPublicKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/** Seals `plaintext` to `recipientPublicKey` (32 bytes). */
export async function sealTo(recipientPublicKey: Uint8Array, plaintext: Uint8Array): Promise<SealedBoxBytes> {
  checkLength("recipient public key", recipientPublicKey, X25519_KEY_BYTES);
  const ephemeral = x25519.utils.randomPrivateKey();
  const ephemeralPublicKey = x25519.getPublicKey(ephemeral);
  const key = await boxKey(
    x25519.getSharedSecret(ephemeral, recipientPublicKey),
    ephemeralPublicKey,
    recipientPublicKey,
  );
  const nonce = crypto.getRandomValues(new Uint8Array(SEALED_NONCE_BYTES));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, copy(plaintext)));
  return { ephemeralPublicKey, nonce, ciphertext };
}

/** Opens a box sealed to the public key of `privateKey`; a wrong key or a changed byte throws. */
export async function openSealed(privateKey: Uint8Array, box: SealedBoxBytes): Promise<Uint8Array> {
  checkLength("private key", privateKey, X25519_KEY_BYTES);
  checkLength("ephemeral public key", box.ephemeralPublicKey, X25519_KEY_BYTES);
  checkLength("nonce", box.nonce, SEALED_NONCE_BYTES);
  if (box.ciphertext.length < GCM_TAG_BYTES)
    throw new SealedBoxError(
      `ciphertext is ${box.ciphertext.length} bytes, shorter than its ${GCM_TAG_BYTES}-byte tag`,
    );
  const recipientPublicKey = x25519.getPublicKey(privateKey);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(privateKey, box.ephemeralPublicKey);
  } catch {
    throw new SealedBoxError("ephemeral public key is not a usable X25519 key");
  }
  const key = await boxKey(shared, box.ephemeralPublicKey, recipientPublicKey);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: copy(box.nonce) }, key, copy(box.ciphertext)),
    );
  } catch {
    throw new SealedBoxError("it does not open with this key: sealed to another key, or changed on the way");
  }
}

/** A new X25519 key pair (the owner's one-time key for an export or a listing). */
export function x25519KeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = x25519.utils.randomPrivateKey();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  checkLength("private key", privateKey, X25519_KEY_BYTES);
  return x25519.getPublicKey(privateKey);
}

/** Why a box could not be sealed or opened (no key material in the message). */
export class SealedBoxError extends Error {
  override name = "SealedBoxError";
}

/** Web Crypto takes bytes over a plain ArrayBuffer only. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function checkLength(what: string, bytes: Uint8Array, want: number): void {
  if (bytes.length !== want) throw new SealedBoxError(`${what} is ${bytes.length} bytes, not ${want}`);
}

async function boxKey(
  shared: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  recipientPublicKey: Uint8Array,
): ReturnType<typeof crypto.subtle.deriveKey> {
  const salt = new Uint8Array(X25519_KEY_BYTES * 2);
  salt.set(ephemeralPublicKey, 0);
  salt.set(recipientPublicKey, X25519_KEY_BYTES);
  const ikm = await crypto.subtle.importKey("raw", copy(shared), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: new TextEncoder().encode(SEALED_BOX_INFO) },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

// ---- the agent's memory key ----

export interface MemoryKeyFields {
  publicKey: Uint8Array;
  agentAddress: string;
  keySignature: string;
}

/** The exact text the agent's wallet signs (EIP-191) for its memory key. */
export function memoryKeyMessage(instanceId: string, publicKey: Uint8Array): string {
  return `Convos Agent Pool memory key\ninstance: ${instanceId}\nkey: ${bytesToHex(publicKey)}`;
}

/**
 * Whether `key` is the memory key of the agent with `inboxId`: signed by its
 * wallet for this instance, and that wallet's inbox (nonce 1, or 0 as the
 * Convos CLI creates them) is the agent's. Throws SealedBoxError saying which
 * check failed.
 */
export async function verifyMemoryKey(key: MemoryKeyFields, instanceId: string, inboxId: string): Promise<void> {
  checkLength("memory key", key.publicKey, X25519_KEY_BYTES);
  if (!/^0x[0-9a-fA-F]{40}$/.test(key.agentAddress))
    throw new SealedBoxError("agent address is not an Ethereum address");
  let signer: string;
  try {
    signer = await recoverMessageAddress({
      message: memoryKeyMessage(instanceId, key.publicKey),
      signature: key.keySignature as Hex,
    });
  } catch {
    throw new SealedBoxError("key signature is malformed");
  }
  if (signer.toLowerCase() !== key.agentAddress.toLowerCase())
    throw new SealedBoxError("key signature is not the agent address's signature over this key and instance");
  if (deriveInboxId(signer, 1) !== inboxId && deriveInboxId(signer, 0) !== inboxId) {
    throw new SealedBoxError("the key's wallet does not belong to the agent's inbox");
  }
}
