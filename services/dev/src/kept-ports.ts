// The instance hosts' ports of one data directory, the same at every start:
// an agent's key goes only to the host address it runs on (docs/security.md),
// so a host that came back on another port would get none of its agents'
// keys, and every agent would wait for the pool to call its host lost. Kept
// in `host-ports.json` beside the services' data; a kept port another process
// holds now is replaced, and its agents move as from a lost host.
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { freePort } from "@convos-pool/kit/server";

const FILE = "host-ports.json";

/** The port kept for host `name` under `dataDir`, or a free one, kept from now on. */
export async function keptPort(dataDir: string, name: string, host: string): Promise<number> {
  const file = join(dataDir, FILE);
  const kept: Record<string, number> = await readFile(file, "utf8").then(
    (text) => JSON.parse(text) as Record<string, number>,
    () => ({}),
  );
  const port = kept[name];
  if (port !== undefined && (await free(host, port))) return port;
  const chosen = await freePort(host);
  await writeFile(file, `${JSON.stringify({ ...kept, [name]: chosen })}\n`);
  return chosen;
}

/** Whether nothing listens on `port` now. */
function free(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
