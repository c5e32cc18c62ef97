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
  // One plain connection (an ORM set up for one query cost more than the query), loaded
  // here: the fixtures beside this module serve unit tests too, which need no database driver.
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    // FILE_COPY copies template1's files instead of writing each page to the WAL (PostgreSQL 15's
    // default): 0.14 s of the server's CPU a database instead of 0.3 to 0.6, on a suite that makes hundreds.
    await client.query(`create database "${name}" strategy file_copy`).catch(async (err: unknown) => {
      // Before PostgreSQL 15 there is one way, and no STRATEGY to name.
      if (!/syntax|strategy/i.test(String(err))) throw err;
      await client.query(`create database "${name}"`);
    });
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return url.toString();
}
