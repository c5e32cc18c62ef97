/**
 * Test helper: a PostgreSQL server of a test's own, in a temporary directory,
 * that the test can stop, crash and start again (the fault suite). The
 * shared server of `npm test` must never be stopped: other test files use it.
 * Binaries: the ones scripts/with-postgres.sh found (POOL_TEST_PG_BINDIR).
 * As root, the server runs as the `postgres` user, as initdb requires.
 */
import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

const run = promisify(execFile);

export class PostgresServer {
  private constructor(
    private readonly bindir: string,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PostgresServer> {
    const bindir = process.env.POOL_TEST_PG_BINDIR;
    if (!bindir)
      throw new Error("POOL_TEST_PG_BINDIR is not set: run tests with `npm test` or scripts/with-postgres.sh");
    const dir = await mkdtemp(join(tmpdir(), "pool-pg-own-"));
    const server = new PostgresServer(bindir, dir, await freePort());
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
    await server.start();
    return server;
  }

  private get data(): string {
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

  /** Starts it (again) on the same port and data. */
  async start(): Promise<void> {
    // Durable, unlike the shared test server: a crash here must lose no committed transaction, as in production.
    const opts = `-c listen_addresses=127.0.0.1 -p ${this.port} -c unix_socket_directories=${this.dir} -c max_connections=200`;
    await this.exec("pg_ctl", [
      "-D",
      this.data,
      "-l",
      join(this.dir, "server.log"),
      "-o",
      opts,
      "-w",
      "-t",
      "30",
      "start",
    ]);
  }

  /** `immediate`: as if the machine lost power (no clean shutdown); `fast`: a restart by its operator. */
  async stop(mode: "immediate" | "fast" = "fast"): Promise<void> {
    await this.exec("pg_ctl", ["-D", this.data, "-m", mode, "-w", "-t", "30", "stop"]);
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
