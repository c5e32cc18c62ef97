/**
 * Opening a service's database: PostgreSQL through MikroORM 7, or, when no URL is
 * given, an embedded PGlite database on disk (the `npm start` default: no setup).
 *
 * Schema changes are made by migrations only (never by schema auto-sync); they run
 * in order when the database is opened, all in one transaction. Replicas of a
 * service that start together take turns (a PostgreSQL advisory lock around
 * the run): the first migrates, the others find nothing left to do.
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { AnyEntity, Constructor, EntityClass, EntitySchema } from "@mikro-orm/core";
import { MikroORM, type EntityManager } from "@mikro-orm/postgresql";
import { Migrator, type Migration } from "@mikro-orm/migrations";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import pg from "pg";
import { hasCluster, seedFromBlank } from "./pglite-blank.js";
import { QueryDeadline } from "./query-deadline.js";

/** One migration, named for the migrations table; `up()` runs once, in list order. */
export interface MigrationEntry {
  name: string;
  class: Constructor<Migration>;
}

export interface DatabaseOptions {
  /** postgres:// URL. Absent: embedded PGlite in `embeddedDir` (no setup at all). */
  url?: string | undefined;
  /** Data directory of the embedded database; default `.data/<name>` under process.cwd(). */
  embeddedDir?: string | undefined;
  /** Service name, for logs and the default embedded directory. */
  name: string;
  /** Entity classes or schemas (what `defineEntity` / `new EntitySchema` return). */
  entities: ReadonlyArray<EntityClass<AnyEntity> | EntitySchema>;
  /** Run at open (`up()`), in order; the ones already applied are skipped. */
  migrations: ReadonlyArray<MigrationEntry>;
  /** Connection pool size: default 10 on PostgreSQL; always 1 on PGlite. */
  poolSize?: number | undefined;
}

export interface Database {
  orm: MikroORM;
  /** The root EntityManager: `em.fork()` per request / unit of work. */
  em: EntityManager;
  /** True when this is the embedded PGlite database. */
  embedded: boolean;
  /** Closes the ORM (and the embedded server and PGlite, if any). Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_POOL_SIZE = 10;

/** Opens the database, runs pending migrations and returns it ready to use. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    const orm = await initOrm(opts, opts.url, opts.poolSize ?? DEFAULT_POOL_SIZE, opts.url);
    return wrap(orm, false, async () => {});
  }
  return openEmbedded(opts);
}

async function openEmbedded(opts: DatabaseOptions): Promise<Database> {
  const dir = path.resolve(opts.embeddedDir ?? path.join(process.cwd(), ".data", opts.name));
  await mkdir(dir, { recursive: true });
  if (!hasCluster(dir)) {
    await seedFromBlank(dir).catch(async () => {
      // No cache to use (a read-only home): PGlite makes the cluster itself, as it would have.
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    });
  }
  const pglite = await PGlite.create(dir);
  // PGlite is a single database session: expose it on a loopback port and give the
  // ORM exactly one connection (a second connection would wait on the first forever).
  const server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0, maxConnections: 1 });
  let orm: MikroORM | undefined;
  const shutdown = async () => {
    await server.stop().catch(() => {});
    if (!pglite.closed) await pglite.close();
  };
  try {
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres`;
    orm = await initOrm(opts, url, 1);
  } catch (err) {
    await shutdown();
    throw err;
  }
  return wrap(orm, true, shutdown);
}

async function initOrm(opts: DatabaseOptions, url: string, poolSize: number, lockUrl?: string): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [...opts.entities],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList: opts.migrations.map((m) => ({ name: m.name, class: m.class })),
      transactional: true,
      allOrNothing: true,
      // Migrations are code in the list above: no files, no schema snapshot on disk.
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
    // No query logging (queries can carry secrets); no implicit database creation.
    debug: false,
    ensureDatabase: false,
    pool: { min: 0, max: poolSize },
    // A transaction under a call with a deadline stops with it (query-deadline.ts).
    subscribers: [new QueryDeadline()],
  });
  try {
    await migrateInTurn(lockUrl, () => orm.migrator.up());
  } catch (err) {
    await orm.close(true);
    throw new Error(`${opts.name}: database migration failed: ${(err as Error).message}`, { cause: err });
  }
  return orm;
}

/**
 * Runs `migrate` holding a session advisory lock on its own connection to
 * `url` (none for the embedded database, which has one session and one
 * process): two replicas opening one database never migrate at once.
 */
async function migrateInTurn(url: string | undefined, migrate: () => Promise<unknown>): Promise<void> {
  if (!url) {
    await migrate();
    return;
  }
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query(`select pg_advisory_lock(hashtextextended('convos-pool/migrations', 0))`);
    await migrate();
  } finally {
    // Ending the session releases the lock, also when the unlock is never sent.
    await lock.end().catch(() => {});
  }
}

function wrap(orm: MikroORM, embedded: boolean, after: () => Promise<void>): Database {
  let closing: Promise<void> | undefined;
  return {
    orm,
    em: orm.em,
    embedded,
    close() {
      closing ??= (async () => {
        try {
          await orm.close(true);
        } finally {
          await after();
        }
      })();
      return closing;
    },
  };
}
