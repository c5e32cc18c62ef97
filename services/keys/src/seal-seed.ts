// Seals the pool's seed for the keys service (sealed-seed.ts), rotates its
// key-encryption key, or makes one (deploy/README.md, "Backup and restore"):
//
//   npm run -s seal-seed -- make-kek KEK_FILE
//   npm run -s seal-seed -- seal --pool-id ID --kek KEK_FILE --out SEALED [--seed-file SEED_FILE]
//   npm run -s seal-seed -- rewrap --pool-id ID --kek OLD_KEK --new-kek NEW_KEK --in SEALED --out NEW_SEALED
//
// `seal` without --seed-file makes a fresh seed (a new pool), which then
// exists only sealed. Each file written is opened again before it is kept,
// is the owner's alone (0600) and never overwrites another; nothing secret
// is printed.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "@convos-pool/kit/service";
import { isPoolId } from "@convos-pool/kit/signing";
import { type KeyEncryptionKey, openSealedSeed, rewrapSealedSeed, SealedSeedError, sealSeed } from "./sealed-seed.js";
import { kekFromFile, parseSeed, readSecret } from "./seed.js";

const USAGE = `usage:
  seal-seed make-kek KEK_FILE
  seal-seed seal --pool-id ID --kek KEK_FILE --out SEALED [--seed-file SEED_FILE]
  seal-seed rewrap --pool-id ID --kek OLD_KEK --new-kek NEW_KEK --in SEALED --out NEW_SEALED`;

function write(file: string, content: string, label: string): void {
  try {
    // "wx": an existing file is never overwritten (a seed or a key lost that way is every agent's wallet).
    writeFileSync(file, content, { mode: 0o600, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new ConfigError(
      `${label} ${file} ${code === "EEXIST" ? "exists: seal-seed never overwrites a file" : `cannot be written (${code})`}`,
    );
  }
}

/** Writes `sealed` to `out` once it opens to `seed` under `kek`: a file that would not open is never kept. */
async function keep(out: string, sealed: string, seed: string, poolId: string, kek: KeyEncryptionKey): Promise<void> {
  if ((await openSealedSeed(sealed, poolId, kek)) !== seed.trim())
    throw new Error("the sealed seed does not open to the seed: nothing written");
  write(out, sealed, "--out");
}

async function main(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "pool-id": { type: "string" },
      kek: { type: "string" },
      "new-kek": { type: "string" },
      "seed-file": { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
    },
  });
  const need = (name: Exclude<keyof typeof values, "seed-file">): string => {
    const v = values[name];
    if (typeof v !== "string" || v === "") throw new ConfigError(`--${name} is required\n${USAGE}`);
    return v;
  };
  const kek = (name: "kek" | "new-kek") => kekFromFile(need(name), `--${name}`);
  const poolIdOption = () => {
    const id = need("pool-id");
    // As the keys service checks POOL_ID: a seed sealed for an id no pool can have would never open.
    if (!isPoolId(id))
      throw new ConfigError("--pool-id must be lower-case letters, digits and inner dashes, at most 63");
    return id;
  };
  const [command, target] = positionals;
  switch (command) {
    case "make-kek": {
      if (!target) throw new ConfigError(USAGE);
      write(target, `${randomBytes(32).toString("hex")}\n`, "make-kek");
      return `a key-encryption key written to ${target}: keep it apart from the sealed seed and the backups`;
    }
    case "seal": {
      const [poolId, out, key] = [poolIdOption(), need("out"), kek("kek")];
      const seedFile = values["seed-file"];
      const seed = seedFile ? readSecret(seedFile, "--seed-file").trim() : randomBytes(32).toString("hex");
      // Checked before it is sealed: a file that is not a seed is said now, not at the keys service's start.
      parseSeed(seed, seedFile ? `--seed-file ${seedFile}` : "the new seed");
      await keep(out, await sealSeed(seed, poolId, key), seed, poolId, key);
      return `${seedFile ? "the seed" : "a new seed"} of ${poolId} sealed to ${out}`;
    }
    case "rewrap": {
      const [poolId, out, from, to, input] = [poolIdOption(), need("out"), kek("kek"), kek("new-kek"), need("in")];
      const sealed = readSecret(input, "--in");
      let seed: string;
      let rotated: string;
      try {
        seed = await openSealedSeed(sealed, poolId, from);
        rotated = await rewrapSealedSeed(sealed, poolId, from, to);
      } catch (err) {
        if (err instanceof SealedSeedError) throw new ConfigError(`--in ${input}: ${err.message}`);
        throw err;
      }
      await keep(out, rotated, seed, poolId, to);
      return `the same seed, its data key wrapped under the new key-encryption key, written to ${out}: start the keys service on the new pair, then retire the old key`;
    }
    default:
      throw new ConfigError(USAGE);
  }
}

main(process.argv.slice(2)).then(
  (said) => console.log(said),
  (err: unknown) => {
    // The errors name files and options, never a seed or a key (sealed-seed.ts, seed.ts).
    console.error(`seal-seed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
