// A call refused at a full server touches no database: a real kit server
// (startServer, its admission as every service has it, set to a limit of
// two that never waits), a real client over HTTP/2, real PostgreSQL (a
// throwaway database) into which each call's handler writes a row before
// it waits on the test. The service is a stand-in SessionService.
import { Code, ConnectError, createClient, type ConnectRouter } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SessionService } from "@convos-pool/gen/convos/pool/v1/session_service_pb.js";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "@convos-pool/testing";
import { waitFor } from "@convos-pool/testing/wait";
import { openDatabase, type Database } from "../../service/db.js";
import { limitExceededOf } from "../limits.js";
import { createLogger } from "../log.js";
import { startServer, type RunningServer } from "../start.js";
import { ADMISSION_LIMIT } from "./interceptor.js";

let db: Database | undefined;
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe("a call refused at a full server", () => {
  it("writes nothing to the database and names its retry delay", async () => {
    db = await openDatabase({
      name: "refusal",
      url: await createTestDatabase("kit_refusal"),
      entities: [],
      migrations: [],
    });
    const em = db.em.fork();
    await em.execute("create table calls (inbox_id text not null)");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const routes = (router: ConnectRouter) =>
      router.service(SessionService, {
        async createSession(req) {
          await db!.em.fork().execute("insert into calls (inbox_id) values (?)", [req.inboxId]);
          await held;
          return { token: req.inboxId };
        },
      });
    server = await startServer({
      name: "refusal",
      routes,
      log: createLogger("test", { level: "silent" }),
      admission: {
        limit: { initial: 2, min: 2, max: 2 },
        shares: { critical: 1, default: 1, sheddable: 1 },
        waitLatencies: { critical: 0, default: 0, sheddable: 0 },
      },
    });
    const client = createClient(
      SessionService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }),
    );
    const count = async () => Number((await em.execute<{ n: string }[]>("select count(*) as n from calls"))[0]?.n);
    const first = [client.createSession({ inboxId: "a" }), client.createSession({ inboxId: "b" })];
    await waitFor("both calls at work", async () => (await count()) === 2);
    const err = await client.createSession({ inboxId: "c" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(limitExceededOf(err)).toEqual({ limit: ADMISSION_LIMIT, retryAfterSeconds: 1 });
    release();
    await Promise.all(first);
    const rows = await em.execute<{ inbox_id: string }[]>("select inbox_id from calls order by inbox_id");
    expect(rows.map((r) => r.inbox_id)).toEqual(["a", "b"]);
  });
});
