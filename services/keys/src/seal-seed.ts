// Seals the pool's seed for the keys service (sealed-seed.ts), rotates its
// key-encryption key, or makes one (deploy/README.md, "Backups"):
//
//   npm run -s seal-seed -- make-kek KEK_FILE
//   npm run -s seal-seed -- seal --pool-id ID --kek KEK_FILE --out SEALED [--seed-file SEED_FILE]
//   npm run -s seal-seed -- rewrap --pool-id ID --kek OLD_KEK --new-kek NEW_KEK --in SEALED --out NEW_SEALED
//
// `seal` without --seed-file makes a fresh seed (a new pool). Files written
// are the owner's alone (0600) and never overwritten; nothing secret is
// printed.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MasterSeed } from "@convos-pool/kit/signing";
import { ConfigError } from "@convos-pool/kit/service";
import { rewrapSealedSeed, sealSeed } from "./sealed-seed.js";
import { kekFromFile } from "./seed.js";

const USAGE = `usage:
  seal-seed make-kek KEK_FILE
  seal-seed seal --pool-id ID --kek KEK_FILE --out SEALED [--seed-file SEED_FILE]
  seal-seed rewrap --pool-id ID --kek OLD_KEK --new-kek NEW_KEK --in SEALED --out NEW_SEALED`;

function write(file: string, content: string): void {
  // "wx": an existing file is never overwritten (a seed or a key lost that way is every agent's wallet).
  writeFileSync(file, content, { mode: 0o600, flag: "wx" });
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
  const need = (name: keyof typeof values): string => {
    const v = values[name];
    if (typeof v !== "string" || v === "") throw new ConfigError(`--${name} is required\n${USAGE}`);
    return v;
  };
  const [command, target] = positionals;
  switch (command) {
    case "make-kek": {
      if (!target) throw new ConfigError(USAGE);
      write(target, `${randomBytes(32).toString("hex")}\n`);
      return `a key-encryption key written to ${target}: keep it apart from the sealed seed and the backups`;
    }
    case "seal": {
      const seedFile = values["seed-file"];
      const seed = seedFile ? readFileSync(seedFile, "utf8").trim() : randomBytes(32).toString("hex");
      // Checked before it is sealed: a file that is not a seed is said now, not at the keys service's start.
      MasterSeed.parse(seed);
      const out = need("out");
      write(out, await sealSeed(seed, need("pool-id"), kekFromFile(need("kek"))));
      return `${seedFile ? "the seed" : "a new seed"} sealed to ${out}`;
    }
    case "rewrap": {
      const out = need("out");
      const sealed = readFileSync(need("in"), "utf8");
      write(
        out,
        await rewrapSealedSeed(sealed, need("pool-id"), kekFromFile(need("kek")), kekFromFile(need("new-kek"))),
      );
      return `the same seed sealed under the new key-encryption key to ${out}`;
    }
    default:
      throw new ConfigError(USAGE);
  }
}

main(process.argv.slice(2)).then(
  (said) => console.log(said),
  (err: unknown) => {
    // The errors name files and variables, never a seed or a key (sealed-seed.ts, seed.ts).
    console.error(`seal-seed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
