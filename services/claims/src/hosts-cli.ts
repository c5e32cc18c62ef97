// The operator's instance-host commands (pool/host-commands.ts; docs/scaling.md,
// "Draining" and "A host lost for good"), run beside the claims service with
// its DATABASE_URL (`kubectl exec deploy/claims -- npx tsx
// services/claims/src/hosts-cli.ts ...`, or `docker compose exec claims ...`):
// list | drain <host url> | undrain <host url> | lost <host url> | found <host url>.
// A program of its own, as main.ts is: an entry above every floor.
import { openDatabase } from "@convos-pool/kit/service";
import { entities } from "./db/entities.js";
import { hostsCommandOn, parseCommand, USAGE } from "./pool/host-commands.js";
import { migrations } from "./schema/migrations.js";

export async function runHostsCommand(
  args: string[],
  databaseUrl: string | undefined,
  out: (line: string) => void,
): Promise<number> {
  const parsed = parseCommand(args);
  if (!databaseUrl) {
    out("DATABASE_URL is required: the claims service's database");
    return 2;
  }
  if (!parsed) {
    out(USAGE);
    return 2;
  }
  const db = await openDatabase({ name: "claims", url: databaseUrl, entities, migrations, poolSize: 1 });
  try {
    return await hostsCommandOn(db.em.fork(), args, (process.env.INSTANCE_HOST_URLS ?? "").split(","), out);
  } finally {
    await db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runHostsCommand(process.argv.slice(2), process.env.DATABASE_URL, (line) =>
    process.stdout.write(`${line}\n`),
  );
}
