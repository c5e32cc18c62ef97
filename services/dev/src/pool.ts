import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, type Logger } from "@convos-pool/kit";
import { startGateway } from "@convos-pool/gateway/src/server.js";
import { startTemplateService } from "@convos-pool/templates/src/server.js";

export interface PoolOptions {
  /** Where embedded databases and local secrets live. */
  dataDir: string;
  /** The gateway's port: the only public one. */
  port?: number;
  host?: string;
  /** Per service: postgres:// URL; absent means embedded PGlite under dataDir. */
  templatesDatabaseUrl?: string;
  gatewayDatabaseUrl?: string;
  log?: Logger;
}

export interface RunningPool {
  gatewayUrl: string;
  templatesUrl: string;
  close(): Promise<void>;
}

/**
 * A secret kept in the data directory (mode 0600), so that what depends on it
 * (sessions) survives a restart of the local pool.
 */
async function localSecret(dataDir: string, name: string): Promise<string> {
  const file = join(dataDir, name);
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const secret = randomBytes(32).toString("base64url");
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return secret;
  }
}

/** The whole pool in one process, each service on its own port and its own database. */
export async function startPool(opts: PoolOptions): Promise<RunningPool> {
  const log = opts.log ?? createLogger("pool");
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  // Internal calls still present a credential, as they do across machines.
  const serviceToken = randomBytes(32).toString("base64url");
  const templates = await startTemplateService({
    databaseUrl: opts.templatesDatabaseUrl,
    embeddedDir: join(opts.dataDir, "templates"),
    serviceToken,
    log: log.child({ service: "templates" }),
  });
  try {
    const gateway = await startGateway({
      port: opts.port ?? 8080,
      host: opts.host ?? "127.0.0.1",
      templatesUrl: templates.url,
      serviceToken,
      sessionSecret: await localSecret(opts.dataDir, "session-secret"),
      databaseUrl: opts.gatewayDatabaseUrl,
      embeddedDir: join(opts.dataDir, "gateway"),
      log: log.child({ service: "gateway" }),
    });
    return {
      gatewayUrl: gateway.url,
      templatesUrl: templates.url,
      async close() {
        await gateway.close(); // the public entry first: no new work comes in
        await templates.close();
      },
    };
  } catch (err) {
    await templates.close();
    throw err;
  }
}
