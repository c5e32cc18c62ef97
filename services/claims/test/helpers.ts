/**
 * TEST HELPERS, NOT PRODUCT CODE. Small pieces every gRPC test of the claims
 * service uses, with the stand-in host (stand-in-stack.ts) or the real one
 * (@convos-pool/e2e's RealStack): the caller header, an expected gRPC error, rows of the
 * claims database, what is left of an instance's tools after a rollback.
 */
import { readdir } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClaimRequest } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import pg from "pg";
import { expect } from "vitest";
import { CALLER_HEADER } from "@convos-pool/kit/content";
import type { TestIdentity } from "@convos-pool/kit/testing";

/** Call options of a signed-in caller: `who` (an identity or an inbox id) in the caller header. */
export const as = (who: TestIdentity | string) => ({
  headers: { [CALLER_HEADER]: typeof who === "string" ? who : who.inboxId },
});

/** The fields of a ClaimRequest, each optional. */
export type ClaimFields = Partial<Omit<ClaimRequest, "$typeName" | "$unknown">>;

/** Awaits a call that must fail with `code`; its error. */
export async function expectCode(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code], (err as ConnectError).message).toBe(Code[code]);
  return err as ConnectError;
}

/** The rows of a query of the claims database. */
export async function rowsOf<T = Record<string, unknown>>(
  sql: pg.Client,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await sql.query(text, params)).rows as T[];
}

/** An instance's row; it must exist. */
export const instanceRowOf = async (sql: pg.Client, id: string) =>
  (await rowsOf(sql, `select * from instances where id = $1`, [id]))[0]!;

/** How many mailboxes the local mail provider holds under `root`. */
export const mailboxCount = (root: string): Promise<number> =>
  readdir(root).then(
    (e) => e.length,
    () => 0,
  );

/** What the database and the providers still hold for an instance: must be nothing after a rollback. */
export async function leftoversOf(sql: pg.Client, mailboxRoot: string, instanceId: string) {
  const tools = await rowsOf(sql, `select tool_id from provisioned_tools where instance_id = $1`, [instanceId]);
  const numbers = await rowsOf(sql, `select number from sms_numbers where instance_id = $1`, [instanceId]);
  return { tools: tools.length, numbers: numbers.length, mailboxes: await mailboxCount(mailboxRoot) };
}

/**
 * Every row of every table of a database, as one searchable text: bytea
 * values as latin1 (so a plaintext phrase inside a blob is found too). For
 * tests that show something never reached a database.
 */
export async function databaseText(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await rowsOf<{ schemaname: string; tablename: string }>(
      client,
      `select schemaname, tablename from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`,
    );
    const parts: string[] = [];
    for (const t of tables) {
      const rows = await rowsOf(client, `select * from "${t.schemaname}"."${t.tablename}"`);
      for (const r of rows) {
        for (const v of Object.values(r))
          parts.push(
            Buffer.isBuffer(v)
              ? v.toString("latin1")
              : typeof v === "object" && v !== null
                ? JSON.stringify(v)
                : String(v),
          );
      }
    }
    return parts.join("\n");
  } finally {
    await client.end();
  }
}
