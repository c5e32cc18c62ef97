/**
 * Test helper: a fresh, empty PostgreSQL database per call, on the throwaway
 * server that `npm test` (scripts/with-postgres.sh) starts.
 */
import { randomBytes } from "node:crypto";

export const TEST_PG_URL_ENV = "POOL_TEST_PG_URL";

/**
 * The unit tier (vitest.config.ts) runs without real components: a test that
 * reaches for one is in the wrong file, and is told so by name.
 */
export function requireIntegrationTier(what: string): void {
  if (process.env.POOL_TEST_TIER === "unit") {
    throw new Error(`${what} is not for unit tests: a test that needs it belongs in a *.int.test.ts file`);
  }
}

/** The admin URL of the test server; throws a clear error when tests were not started via `npm test`. */
export function testPostgresUrl(): string {
  requireIntegrationTier("PostgreSQL");
  const url = process.env[TEST_PG_URL_ENV];
  if (!url) {
    throw new Error(
      `${TEST_PG_URL_ENV} is not set: tests need the throwaway PostgreSQL server that the test command starts. ` +
        "Run them with `npm test` (all) or `scripts/with-postgres.sh npx vitest run <file>` (some).",
    );
  }
  return url;
}

/**
 * Creates a new, uniquely named database on the test server and returns its
 * postgres:// URL. The server is deleted after the run, so nothing is dropped.
 */
export async function createTestDatabase(prefix = "test"): Promise<string> {
  const admin = new URL(testPostgresUrl());
  const safePrefix =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, "_")
      .slice(0, 30) || "test";
  const name = `${safePrefix}_${Date.now().toString(36)}_${randomBytes(5).toString("hex")}`;
  // Loaded here: the fixtures beside this module serve unit tests too, which need no ORM.
  const { MikroORM } = await import("@mikro-orm/postgresql");
  const orm = await MikroORM.init({
    clientUrl: admin.toString(),
    entities: [],
    discovery: { warnWhenNoEntities: false },
    debug: false,
    ensureDatabase: false,
    pool: { min: 0, max: 1 },
  });
  try {
    await orm.em.execute(`create database "${name}"`);
  } finally {
    await orm.close(true);
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return url.toString();
}
