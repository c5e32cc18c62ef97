// The operator's instance-host commands (docs/scaling.md, "Draining" and "A
// host lost for good"), run
// beside the claims service with its DATABASE_URL (`kubectl exec deploy/claims
// -- npx tsx services/claims/src/hosts-cli.ts ...`, or `docker compose exec
// claims ...`):
//
//   list                 every host with its instances by state, and whether it drains
//   drain <host url>     no new instances there; its idle ones are replaced elsewhere;
//                        its claimed agents stay and keep answering
//   undrain <host url>   the host takes new instances again
//   lost <host url>      the host is gone for good: its claimed agents move to other hosts
//                        from their sealed states; it runs nothing of ours again
//   found <host url>     the host takes new instances again (agents moved stay moved)
//
// The setting is a row in the claims database, so every claims replica's
// next pool pass sees it: nothing to restart. A host URL is written as in
// INSTANCE_HOST_URLS; one the pool has never used (a typo) is refused.
import { openDatabase } from "@convos-pool/kit/service";
import type { EntityManager } from "@mikro-orm/postgresql";
import { entities } from "./db/entities.js";
import { hostSummaries, setDraining } from "./pool/instances.js";
import { markFound, markLost } from "./pool/lost-hosts.js";
import { migrations } from "./db/migrations.js";

const USAGE =
  "usage: hosts-cli.ts list | drain <host url> | undrain <host url> | lost <host url> | found <host url>   (DATABASE_URL: the claims service's database)";

type HostCommand = "drain" | "undrain" | "lost" | "found";
const HOST_COMMANDS: readonly string[] = ["drain", "undrain", "lost", "found"] satisfies HostCommand[];

/** The command the arguments name, or undefined when they name none. */
function parseCommand(args: string[]): { command: "list" } | { command: HostCommand; url: string } | undefined {
  const [command, url] = args;
  if (command === "list") return { command };
  if (command && HOST_COMMANDS.includes(command) && url) return { command: command as HostCommand, url };
  return undefined;
}

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

/**
 * A command on the claims database at hand: the CLI's, and the running
 * service's own (`RunningClaimsService.hostsCommand`: `npm start`'s
 * terminal, whose embedded database no other process can open).
 * `configured`: the hosts the service is told of (INSTANCE_HOST_URLS).
 */
export async function hostsCommandOn(
  em: EntityManager,
  args: string[],
  configured: readonly string[],
  out: (line: string) => void,
): Promise<number> {
  const parsed = parseCommand(args);
  if (!parsed) {
    out(USAGE);
    return 2;
  }
  if (parsed.command === "list") {
    const hosts = await hostSummaries(em);
    if (hosts.length === 0) out("no instance hosts recorded yet");
    for (const h of hosts) {
      const states =
        Object.entries(h.states)
          .map(([state, n]) => `${state} ${n}`)
          .join(", ") || "no live instances";
      const marks = [h.lost ? "lost" : "", h.draining ? "draining" : ""].filter(Boolean).join(", ");
      out(`${h.url}${marks ? ` (${marks})` : ""}: ${states}`);
    }
    return 0;
  }
  const { command, url } = parsed;
  const known = (await hostSummaries(em)).some((h) => h.url === url);
  if (!known && !configured.map((u) => u.trim()).includes(url)) {
    out(
      `${url} is no instance host of this pool (none in INSTANCE_HOST_URLS, no instance recorded there); \`list\` shows the hosts`,
    );
    return 2;
  }
  if (command === "lost") {
    const marked = await markLost(em, url, "marked by an operator");
    if (!marked) {
      out(`${url} was already lost`);
      return 0;
    }
    out(
      `${url} is lost: nothing new goes there, its claimed agents move to other hosts within a few seconds (pool_agents_moved_total)`,
    );
    if (marked.unmovable.length > 0)
      out(
        `${marked.unmovable.length} of its agents have no sealed state kept and cannot be moved: ${marked.unmovable.join(", ")}`,
      );
    return 0;
  }
  if (command === "found") {
    out(
      (await markFound(em, url))
        ? `${url} is no longer lost: it takes new instances again; agents moved off it stay where they went`
        : `${url} was not lost`,
    );
    return 0;
  }
  await setDraining(em, url, command === "drain");
  out(
    command === "drain"
      ? `${url} drains: no new instances go there, its idle ones are replaced elsewhere within a pool pass; its claimed agents stay`
      : `${url} takes new instances again`,
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runHostsCommand(process.argv.slice(2), process.env.DATABASE_URL, (line) =>
    process.stdout.write(`${line}\n`),
  );
}
