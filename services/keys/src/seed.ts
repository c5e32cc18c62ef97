// The pool's root key from the keys service's environment, exactly one way:
//   POOL_MASTER_SEED                the seed itself (development),
//   POOL_MASTER_SEED_FILE           a mounted secret holding it (as POOL_SERVICE_TOKEN_FILE
//                                   does a credential, kit's auth.ts),
//   POOL_MASTER_SEED_SEALED_FILE    the seed sealed under a key-encryption key (sealed-seed.ts),
//     with POOL_KEK_FILE            that key, 32 bytes (raw, or 64 hex digits), mounted apart,
//     and POOL_ID                   the pool the sealed seed must be of.
// A key given beside a plain seed is refused too: that deployment believes its seed sealed.
// Every error names the variable or the file, never the seed or a key.
import { readFileSync } from "node:fs";
import { ConfigError, type ServiceEnv } from "@convos-pool/kit/service";
import { MasterSeed } from "@convos-pool/kit/signing";
import { localKek, openSealedSeed, SealedSeedError, type KeyEncryptionKey } from "./sealed-seed.js";

export const SEED_VAR = "POOL_MASTER_SEED";
export const SEED_FILE_VAR = "POOL_MASTER_SEED_FILE";
export const SEALED_SEED_FILE_VAR = "POOL_MASTER_SEED_SEALED_FILE";
export const KEK_FILE_VAR = "POOL_KEK_FILE";

/** The seed, parsed: a ConfigError when it is missing, given two ways, unreadable, not opened or not a seed. */
export async function masterSeedFromEnv(env: ServiceEnv): Promise<MasterSeed> {
  const text = env.optional(SEED_VAR);
  const file = env.optional(SEED_FILE_VAR);
  const sealed = env.optional(SEALED_SEED_FILE_VAR);
  const given = [
    text !== undefined && SEED_VAR,
    file !== undefined && SEED_FILE_VAR,
    sealed !== undefined && SEALED_SEED_FILE_VAR,
  ];
  const ways = given.filter((w): w is string => typeof w === "string");
  if (ways.length > 1) throw new ConfigError(`${ways.join(" and ")} are set: give the seed one way`);
  // A key with a plain seed is a deployment that believes its seed sealed: said rather than ignored.
  if (sealed === undefined && env.optional(KEK_FILE_VAR) !== undefined)
    throw new ConfigError(`${KEK_FILE_VAR} is set without ${SEALED_SEED_FILE_VAR}: it opens only a sealed seed`);
  if (text !== undefined) return parseSeed(text, SEED_VAR);
  if (file !== undefined) return parseSeed(readSecret(file, SEED_FILE_VAR), `${SEED_FILE_VAR} ${file}`);
  if (sealed === undefined)
    throw new ConfigError(
      `${SEED_VAR} (or ${SEED_FILE_VAR}, or ${SEALED_SEED_FILE_VAR} with ${KEK_FILE_VAR}) is required: the pool's root key, a BIP-39 mnemonic or 32 bytes of hex, from which every agent's wallet derives`,
    );
  const kekFile = env.required(
    KEK_FILE_VAR,
    `the key-encryption key the seed in ${SEALED_SEED_FILE_VAR} is sealed under`,
  );
  const kek = kekFromFile(kekFile);
  const poolId = env.poolId();
  let seed: string;
  try {
    seed = await openSealedSeed(readSecret(sealed, SEALED_SEED_FILE_VAR), poolId, kek);
  } catch (err) {
    if (err instanceof SealedSeedError) throw new ConfigError(`${SEALED_SEED_FILE_VAR} ${sealed}: ${err.message}`);
    throw err;
  }
  return parseSeed(seed, `${SEALED_SEED_FILE_VAR} ${sealed}`);
}

/**
 * A KEK file's 32 bytes: raw, or 64 hex digits (a newline aside). `label`
 * names where the file was given (the variable, or seal-seed's option).
 */
export function kekFromFile(file: string, label = KEK_FILE_VAR): KeyEncryptionKey {
  const raw = readBytes(file, label);
  const hex = raw.toString("utf8").trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, "hex") : raw;
  if (bytes.length !== 32)
    throw new ConfigError(`${label} ${file}: a key-encryption key is 32 bytes (or 64 hex digits)`);
  return localKek(bytes);
}

/** A secret file's text: a ConfigError naming `label` and the file, never its content, when it cannot be read. */
export function readSecret(file: string, label: string): string {
  return readBytes(file, label).toString("utf8");
}

function readBytes(file: string, label: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${label} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** `text` as a seed: a ConfigError saying where it came from (`from`) and what is wrong, never what it is. */
export function parseSeed(text: string, from: string): MasterSeed {
  try {
    return MasterSeed.parse(text);
  } catch (err) {
    // MasterSeed.parse says what is wrong ("master seed: …"), never what the seed is.
    throw new ConfigError(`${from}: ${(err as Error).message}`);
  }
}
