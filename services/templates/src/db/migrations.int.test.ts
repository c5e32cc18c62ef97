import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { openDatabase } from "@convos-pool/kit/service";
import { createTestDatabase } from "@convos-pool/testing";
import { migrations } from "./migrations.js";

const clients: pg.Client[] = [];
afterAll(async () => {
  for (const c of clients) await c.end();
});

it("gives existing templates and versions the content version their change summaries imply", async () => {
  const url = await createTestDatabase("templates_migration");
  const before = await openDatabase({ name: "templates", url, entities: [], migrations: migrations.slice(0, 2) });
  await before.close();
  const sql = new pg.Client({ connectionString: url });
  clients.push(sql);
  await sql.connect();
  const content = {
    agent_name: "A",
    instructions: "I",
    model: { default: "m", allow_override: true },
    tools: [],
    description: "",
    category: "",
    tags: [],
  };
  const history = [
    "create",
    "publish",
    "update",
    "unpublish",
    "patch description",
    "publish",
    "rollback to v1",
    "archive",
  ];
  for (const [id, summaries] of [
    ["tmpl_AAAAAAAAAAAAAAAA", history],
    ["tmpl_BBBBBBBBBBBBBBBB", ["create"]],
  ] as const) {
    await sql.query(
      `insert into templates (id, creator_id, agent_name, instructions, model, version, created_at, updated_at)
       values ($1, 'c', 'A', 'I', '{}', $2, now(), now())`,
      [id, summaries.length],
    );
    for (const [i, summary] of summaries.entries()) {
      await sql.query(
        `insert into template_versions (template_id, version, snapshot, changed_by, changed_at, change_summary)
         values ($1, $2, $3, 'c', now(), $4)`,
        [id, i + 1, JSON.stringify({ content, visibility: "private", status: "active" }), summary],
      );
    }
  }

  const after = await openDatabase({ name: "templates", url, entities: [], migrations });
  await after.close();
  const versions = await sql.query(
    `select version, content_version from template_versions where template_id = 'tmpl_AAAAAAAAAAAAAAAA' order by version`,
  );
  expect(versions.rows.map((r) => r.content_version)).toEqual([1, 1, 3, 3, 5, 5, 7, 7]);
  const templates = await sql.query(`select id, version, content_version from templates order by id`);
  expect(templates.rows).toEqual([
    { id: "tmpl_AAAAAAAAAAAAAAAA", version: 8, content_version: 7 },
    { id: "tmpl_BBBBBBBBBBBBBBBB", version: 1, content_version: 1 },
  ]);
  // Templates made before the highest trust level existed have none (L2): their content hashes as it did.
  const levels = await sql.query(`select max_trust_level from templates`);
  expect(levels.rows.map((r) => r.max_trust_level)).toEqual([0, 0]);
  // Their signed changes were never kept: nothing to relay for them.
  const signed = await sql.query(`select count(*)::int as n from template_versions where change_kind is not null`);
  expect(signed.rows[0].n).toBe(0);
});
