// The pool's root key from the keys service's environment: POOL_MASTER_SEED,
// or POOL_MASTER_SEED_FILE naming a mounted secret (as POOL_SERVICE_TOKEN_FILE
// does a credential, kit's auth.ts), exactly one. Every error names the
// variable or the file, never the seed.
import { readFileSync } from "node:fs";
import { ConfigError, type ServiceEnv } from "@convos-pool/kit/service";
import { MasterSeed } from "@convos-pool/kit/signing";

export const SEED_VAR = "POOL_MASTER_SEED";
export const SEED_FILE_VAR = "POOL_MASTER_SEED_FILE";

/** The seed, parsed: a ConfigError when it is missing, given twice, unreadable or not a seed. */
export function masterSeedFromEnv(env: ServiceEnv): MasterSeed {
  const text = env.optional(SEED_VAR);
  const file = env.optional(SEED_FILE_VAR);
  if (text !== undefined && file !== undefined)
    throw new ConfigError(`${SEED_VAR} and ${SEED_FILE_VAR} are both set: give the seed one way`);
  if (text !== undefined) return parsed(text, SEED_VAR);
  if (file === undefined)
    throw new ConfigError(
      `${SEED_VAR} (or ${SEED_FILE_VAR}) is required: the pool's root key, a BIP-39 mnemonic or 32 bytes of hex, from which every agent's wallet derives`,
    );
  let content: string;
  try {
    content = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(
      `${SEED_FILE_VAR} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  return parsed(content, `${SEED_FILE_VAR} ${file}`);
}

function parsed(text: string, from: string): MasterSeed {
  try {
    return MasterSeed.parse(text);
  } catch (err) {
    // MasterSeed.parse says what is wrong ("master seed: …"), never what the seed is.
    throw new ConfigError(`${from}: ${(err as Error).message}`);
  }
}
