/**
 * Test helper: a PostgreSQL server of a test's own, in a temporary directory,
 * that the test can stop, crash and start again (the fault suite). The
 * shared server of `npm test` must never be stopped: other test files use it.
 * Binaries: the ones scripts/with-postgres.sh found (POOL_TEST_PG_BINDIR).
 * As root, the server runs as the `postgres` user, as initdb requires.
 *
 * Starting waits for the server to answer a query, not for pg_ctl's fixed
 * 30 s: after a crash a busy machine took longer than that, and pg_ctl gave
 * up on a server that was still coming up. The wait has a deadline of its own
 * and fails naming the port and the end of the server's log.
 */
import { execFile } from "node:child_process";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

const run = promisify(execFile);

export interface PostgresServerOptions {
  /**
   * False: fsync off, for a test about connections, not about what survives a crash. Restarting
   * after a crash then skips the sync of the whole data directory, the slow part on a busy disk.
   */
  durable?: boolean;
  /** How long a start may take before it fails (default 120 s: recovery after a crash, under load). */
  startWithinMs?: number;
}

export class PostgresServer {
  private constructor(
    private readonly bindir: string,
    private readonly dir: string,
    readonly port: number,
    private readonly options: Required<PostgresServerOptions>,
  ) {}

  static async create(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const bindir = process.env.POOL_TEST_PG_BINDIR;
    if (!bindir)
      throw new Error("POOL_TEST_PG_BINDIR is not set: run tests with `npm test` or scripts/with-postgres.sh");
    const dir = await mkdtemp(join(tmpdir(), "pool-pg-own-"));
    const server = new PostgresServer(bindir, dir, await freePort(), {
      durable: options.durable ?? true,
      startWithinMs: options.startWithinMs ?? 120_000,
    });
    if (process.getuid?.() === 0) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      await chown(dir, Number(stdout), Number(gid));
    }
    await server.exec("initdb", [
      "-D",
      server.data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--no-locale",
      "--no-sync",
      "--no-instructions",
    ]);
    // A first start that fails leaves no server behind: nobody else holds it to close.
    await server.start().catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
    return server;
  }

  /** Its data directory (postgresql.conf, the WAL): for a test that breaks it on purpose. */
  get data(): string {
    return join(this.dir, "data");
  }

  /** The admin URL (the `postgres` database). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private exec(tool: string, args: string[]) {
    const bin = join(this.bindir, tool);
    return process.getuid?.() === 0 ? run("runuser", ["-u", "postgres", "--", bin, ...args]) : run(bin, args);
  }

  /** Starts it (again) on the same port and data; resolves once it answers a query. */
  async start(): Promise<void> {
    // Durable by default, unlike the shared test server: a crash here must lose no committed transaction, as in production.
    let opts = `-c listen_addresses=127.0.0.1 -p ${this.port} -c unix_socket_directories=${this.dir} -c max_connections=200`;
    if (!this.options.durable) opts += " -c fsync=off";
    // -W: pg_ctl returns once the server is launched; the wait is ours (see the header).
    await this.exec("pg_ctl", ["-D", this.data, "-l", this.log, "-o", opts, "-W", "start"]);
    await this.answering(this.options.startWithinMs);
  }

  private get log(): string {
    return join(this.dir, "server.log");
  }

  private async answering(withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
      c.on("error", () => undefined);
      try {
        await c.connect();
        await c.query("select 1");
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          const log = await readFile(this.log, "utf8").catch(() => "");
          throw new Error(
            `PostgreSQL on 127.0.0.1:${this.port} did not answer within ${withinMs} ms (${String(err)}); its log ends:\n${log.split("\n").slice(-15).join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  }

  /** `immediate`: as if the machine lost power (no clean shutdown); `fast`: a restart by its operator. */
  async stop(mode: "immediate" | "fast" = "fast"): Promise<void> {
    // A fast stop writes a checkpoint, which a busy disk can take long over.
    await this.exec("pg_ctl", ["-D", this.data, "-m", mode, "-w", "-t", "120", "stop"]);
  }

  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url });
    await c.connect();
    try {
      await c.query(`create database "${name}"`);
    } finally {
      await c.end();
    }
    return this.url.replace(/\/postgres$/, `/${name}`);
  }

  async close(): Promise<void> {
    await this.stop("immediate").catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
