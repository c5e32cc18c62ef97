// A transaction opened while serving a call with a deadline: real PostgreSQL
// (a throwaway database), the kit's openDatabase, the deadline set as the
// admission sets it (runWithDeadline). No timing is asserted: a statement
// that would sleep for 10 s is cancelled by the server (57014), which
// only the deadline's statement_timeout can do.
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@convos-pool/testing";
import { deadlineClock, runWithDeadline } from "../server/overload/deadline.js";
import { openDatabase, type Database } from "./db.js";

let db: Database | undefined;
afterAll(async () => db?.close());

async function open(): Promise<Database> {
  db ??= await openDatabase({
    name: "query-deadline",
    url: await createTestDatabase("kit_statement_deadline"),
    entities: [],
    migrations: [],
  });
  return db;
}

describe("a transaction under a call's deadline", () => {
  it("has its statements cancelled by the server once the deadline has passed", async () => {
    const { orm } = await open();
    const em = orm.em.fork();
    const err = await runWithDeadline(deadlineClock() + 300, () =>
      em.transactional((tx) => tx.execute("select pg_sleep(10)")),
    ).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err?.code).toBe("57014");
  });

  it("takes what is left of the deadline as its statement_timeout, and none outside a call", async () => {
    const { orm } = await open();
    const inCall = await runWithDeadline(deadlineClock() + 60_000, () =>
      orm.em
        .fork()
        .transactional((tx) => tx.execute<{ t: string }[]>("select current_setting('statement_timeout') as t")),
    );
    expect(inCall[0]?.t).toMatch(/^(59|60)(\.\d+)?s$|^\d{5}ms$/);
    const outside = await orm.em
      .fork()
      .transactional((tx) => tx.execute<{ t: string }[]>("select current_setting('statement_timeout') as t"));
    expect(outside[0]?.t).toBe("0");
  });
});
