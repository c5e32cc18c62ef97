// PostgresServer for real: a PostgreSQL server of the test's own (the
// binaries scripts/with-postgres.sh found), crashed, stopped and started again.
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresServer } from "./postgres-server.js";

const servers: PostgresServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function one(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ one: number }>("select 1 as one")).rows[0]!.one;
  } finally {
    await c.end();
  }
}

describe("a PostgreSQL server of a test's own", () => {
  it("answers once started, and again after a crash and after a fast stop, keeping what was committed", {
    timeout: 120_000,
  }, async () => {
    // Not durable, as the faster to restart: a crash of the server's processes loses nothing committed either way
    // (fsync guards against the machine's crash). The durable one is the fault suite's (faults.system.test.ts).
    const server = await PostgresServer.create({ durable: false });
    servers.push(server);
    const url = await server.createDatabase("kept");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("create table t (v int); insert into t values (7)");
    await c.end();
    await server.stop("immediate");
    await expect(one(server.url)).rejects.toThrow();
    await server.start();
    expect(await one(server.url)).toBe(1);
    await server.stop("fast");
    await server.start();
    const d = new pg.Client({ connectionString: url });
    await d.connect();
    expect((await d.query<{ v: number }>("select v from t")).rows).toEqual([{ v: 7 }]);
    await d.end();
  });

  it("fails a start that does not answer in time, naming the port and the end of its log", {
    timeout: 120_000,
  }, async () => {
    const server = await PostgresServer.create({ durable: false, startWithinMs: 1_000 });
    servers.push(server);
    await server.stop("fast");
    // A server that cannot come up: a line its configuration does not read.
    await appendFile(join(server.data, "postgresql.conf"), "\nthis is not a setting\n");
    const err = await server.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^PostgreSQL on 127\\.0\\.0\\.1:${server.port} did not answer within 1000 ms .*its log ends:\n.*syntax error`,
        "s",
      ),
    );
  });
});
