// The pool's seed at rest, sealed (envelope encryption, as KMS-backed systems
// keep keys): the seed is encrypted under a fresh data key, and the data key
// is wrapped under a key-encryption key (KEK) kept apart from it. The sealed
// file can sit beside the backups; without the KEK it opens nothing. Here the
// KEK is 32 bytes from a mounted secret (`localKek`); a cloud KMS's
// encrypt and decrypt calls are the other implementation of
// `KeyEncryptionKey`, and nothing else changes. Both layers are AES-256-GCM,
// bound (as associated data) to the file's format, version and pool id, so a
// file of another pool, an edited header or a changed byte opens nothing. A
// rotation unwraps the data key and wraps it under the new KEK: the seed's
// ciphertext is kept as it was.
//
// The file, JSON:
//   format      "convos-pool.sealed-seed"
//   version     1
//   pool_id     the pool whose seed it is (POOL_ID)
//   kek         which kind of KEK wraps the data key: "local" (a 32-byte key file)
//   wrapped_key the data key (32 bytes) under the KEK; for "local", base64 of nonce (12) | ciphertext (32) | tag (16)
//   sealed_seed the seed's text (as POOL_MASTER_SEED gives it) under the data key:
//               base64 of nonce (12) | ciphertext | tag (16)
// The associated data, UTF-8: format NUL version NUL pool_id NUL layer, the layer
// "data-key:<kek>" for wrapped_key and "seed" for sealed_seed.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const SEALED_SEED_FORMAT = "convos-pool.sealed-seed";
export const SEALED_SEED_VERSION = 1;

/**
 * Wraps and unwraps data keys: a local key here, a KMS key in a cloud (its
 * encrypt and decrypt calls, the associated data as their encryption
 * context). The keys service calls `unwrap` alone, once at start; `wrap` is
 * for seal-seed.ts.
 */
export interface KeyEncryptionKey {
  /** What the file's `kek` field says ("local"; a KMS's would name itself). */
  readonly kind: string;
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** A SealedSeedError when `wrapped` was not wrapped by this key with this associated data. */
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

/** Why a sealed seed does not open; never what the seed or a key is. */
export class SealedSeedError extends Error {
  override name = "SealedSeedError";
}

/** A KEK of 32 bytes held by this process (a mounted secret). */
export function localKek(key: Uint8Array): KeyEncryptionKey {
  if (key.length !== 32) throw new SealedSeedError(`a key-encryption key is 32 bytes, not ${key.length}`);
  const k = Buffer.from(key);
  return {
    kind: "local",
    wrap: async (dataKey, aad) => seal(k, dataKey, aad),
    unwrap: async (wrapped, aad) => open(k, wrapped, aad, "the data key does not unwrap under this key-encryption key"),
  };
}

/** The sealed file for `seed` (its text, as POOL_MASTER_SEED gives it) of pool `poolId`. */
export async function sealSeed(seed: string, poolId: string, kek: KeyEncryptionKey): Promise<string> {
  const dataKey = randomBytes(32);
  try {
    const sealed = seal(dataKey, Buffer.from(seed.trim(), "utf8"), seedAad(poolId));
    return await fileOf(poolId, kek, dataKey, sealed.toString("base64"));
  } finally {
    dataKey.fill(0);
  }
}

/** The seed's text from a sealed file of pool `poolId`; a SealedSeedError saying why not. */
export async function openSealedSeed(text: string, poolId: string, kek: KeyEncryptionKey): Promise<string> {
  const file = parse(text, poolId, kek);
  const dataKey = await unwrapped(file, kek);
  try {
    return opened(file, dataKey).toString("utf8");
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The same file with its data key wrapped under `to` instead of `from` (a
 * rotation): the seed's ciphertext is kept, once it is seen to open. The old
 * file is left as it was.
 */
export async function rewrapSealedSeed(
  text: string,
  poolId: string,
  from: KeyEncryptionKey,
  to: KeyEncryptionKey,
): Promise<string> {
  const file = parse(text, poolId, from);
  const dataKey = await unwrapped(file, from);
  try {
    opened(file, dataKey).fill(0);
    return await fileOf(poolId, to, dataKey, file.sealed_seed);
  } finally {
    dataKey.fill(0);
  }
}

async function fileOf(poolId: string, kek: KeyEncryptionKey, dataKey: Buffer, sealedSeed: string): Promise<string> {
  const file: SealedSeedFile = {
    format: SEALED_SEED_FORMAT,
    version: SEALED_SEED_VERSION,
    pool_id: poolId,
    kek: kek.kind,
    wrapped_key: Buffer.from(await kek.wrap(dataKey, keyAad(poolId, kek.kind))).toString("base64"),
    sealed_seed: sealedSeed,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

async function unwrapped(file: SealedSeedFile, kek: KeyEncryptionKey): Promise<Buffer> {
  const aad = keyAad(file.pool_id, kek.kind);
  const dataKey = Buffer.from(await kek.unwrap(Buffer.from(file.wrapped_key, "base64"), aad));
  if (dataKey.length !== 32) throw new SealedSeedError("its data key is not 32 bytes");
  return dataKey;
}

function opened(file: SealedSeedFile, dataKey: Buffer): Buffer {
  const sealed = Buffer.from(file.sealed_seed, "base64");
  return open(dataKey, sealed, seedAad(file.pool_id), "the seed does not open: the file was changed");
}

interface SealedSeedFile {
  format: string;
  version: number;
  pool_id: string;
  kek: string;
  wrapped_key: string;
  sealed_seed: string;
}

/** The file's fields, once it is seen to be a sealed seed of `poolId` whose data key `kek` can unwrap. */
function parse(text: string, poolId: string, kek: KeyEncryptionKey): SealedSeedFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SealedSeedError("it is not JSON");
  }
  const f = json as Partial<SealedSeedFile> | null;
  if (!f || f.format !== SEALED_SEED_FORMAT) throw new SealedSeedError(`it is not a ${SEALED_SEED_FORMAT} file`);
  if (f.version !== SEALED_SEED_VERSION)
    throw new SealedSeedError(`its version ${String(f.version)} is not one this pool reads (${SEALED_SEED_VERSION})`);
  for (const field of ["pool_id", "kek", "wrapped_key", "sealed_seed"] as const)
    if (typeof f[field] !== "string" || f[field] === "") throw new SealedSeedError(`its ${field} is missing`);
  const file = f as SealedSeedFile;
  if (file.pool_id !== poolId)
    throw new SealedSeedError(`it is the seed of the pool "${file.pool_id}", not of "${poolId}"`);
  if (file.kek !== kek.kind)
    throw new SealedSeedError(`its data key is wrapped by a "${file.kek}" key, not a "${kek.kind}" one`);
  return file;
}

// What each layer is bound to: a file's header, changed, opens nothing; each layer's label keeps
// one from standing for the other.
const bound = (poolId: string, layer: string) =>
  Buffer.from(`${SEALED_SEED_FORMAT}\0${SEALED_SEED_VERSION}\0${poolId}\0${layer}`, "utf8");
const keyAad = (poolId: string, kekKind: string) => bound(poolId, `data-key:${kekKind}`);
const seedAad = (poolId: string) => bound(poolId, "seed");

function seal(key: Buffer, plain: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Uint8Array, aad: Uint8Array, why: string): Buffer {
  if (sealed.length < 12 + 16) throw new SealedSeedError(why);
  const b = Buffer.from(sealed);
  const decipher = createDecipheriv("aes-256-gcm", key, b.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(b.subarray(b.length - 16));
  try {
    return Buffer.concat([decipher.update(b.subarray(12, b.length - 16)), decipher.final()]);
  } catch {
    throw new SealedSeedError(why);
  }
}
