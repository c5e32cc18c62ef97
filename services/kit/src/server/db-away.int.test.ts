// The database away, for real: a PostgreSQL server of the test's own,
// crashed under a query, down, and back. Not durable (fsync off): this is
// about connections, and a restart then skips syncing the data directory, which
// took over 30 s on a busy machine. Its restart is awaited, so a server that
// does not come back fails this test by name, never as an unhandled rejection.
import { Code, ConnectError } from "@connectrpc/connect";
import { MikroORM } from "@mikro-orm/postgresql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseAwayInterceptor, isDatabaseAway, whileDatabaseAway } from "./db-away.js";
import { PostgresServer, waitFor } from "@convos-pool/testing";

let server: PostgresServer;
let orm: MikroORM;

beforeAll(async () => {
  server = await PostgresServer.create({ durable: false });
  orm = await MikroORM.init({
    clientUrl: server.url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: 2 },
  });
}, 150_000);

afterAll(async () => {
  await orm?.close(true);
  await server?.close();
});

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("a database away", () => {
  it("is told from a wrong query: crashed under a query, refusing connections, and back", {
    timeout: 150_000,
  }, async () => {
    expect(isDatabaseAway(await errorOf(orm.em.fork().execute("select nonsense from nowhere")))).toBe(false);
    const inFlight = errorOf(orm.em.fork().execute("select pg_sleep(5)"));
    await waitFor("the query running on the server", async () => {
      const running = await orm.em
        .fork()
        .execute<{ n: number }[]>(
          "select count(*)::int as n from pg_stat_activity where state = 'active' and query like 'select pg_sleep(5)%'",
        );
      return running[0]!.n === 1;
    });
    await server.stop("immediate");
    expect(isDatabaseAway(await inFlight)).toBe(true);
    expect(isDatabaseAway(await errorOf(orm.em.fork().execute("select 1")))).toBe(true);
    expect(isDatabaseAway(new ConnectError("connection refused", Code.Unavailable))).toBe(false);

    // Waited for while it comes back; a wrong query is not retried.
    let attempts = 0;
    // The scenario: the server is away for a second (several waits of whileDatabaseAway), then back.
    // A start that fails is thrown from the next attempt (not a database away, so not waited on).
    let startFailed: Error | undefined;
    const restarted = new Promise((r) => setTimeout(r, 1_000))
      .then(() => server.start())
      .catch((err: unknown) => {
        startFailed = err instanceof Error ? err : new Error(String(err));
      });
    const answer = await whileDatabaseAway(async (attempt) => {
      if (startFailed) throw startFailed;
      attempts = attempt;
      return (await orm.em.fork().execute<{ one: number }[]>("select 1 as one"))[0]!.one;
    }, 120_000);
    await restarted;
    expect(startFailed).toBeUndefined();
    expect(answer).toBe(1);
    expect(attempts).toBeGreaterThan(1);
    let wrong = 0;
    await errorOf(
      whileDatabaseAway(() => {
        wrong++;
        return orm.em.fork().execute("select nonsense from nowhere");
      }),
    );
    expect(wrong).toBe(1);
  });

  it("answers the caller UNAVAILABLE, keeping the cause, and passes every other error on", async () => {
    const away = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const call = (err: Error) => errorOf(databaseAwayInterceptor()(() => Promise.reject(err))({} as never));
    const e = ConnectError.from(await call(away));
    expect([e.code, e.rawMessage, e.cause]).toEqual([
      Code.Unavailable,
      "the service's database is unavailable; try again",
      away,
    ]);
    const other = new ConnectError("bad", Code.InvalidArgument);
    expect(await call(other)).toBe(other);
  });
});
