import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defineEntity, p } from "@mikro-orm/core";
import { Migration } from "@mikro-orm/migrations";
import { openDatabase, type MigrationEntry } from "./db.js";
import { createTestDatabase } from "@convos-pool/testing";

const Item = defineEntity({
  name: "Item",
  tableName: "items",
  properties: {
    id: p.integer().primary().autoincrement(),
    label: p.string(),
  },
});

class CreateItems extends Migration {
  override up(): void {
    // No "if not exists": running it twice would fail, so a reopen proves it ran once.
    this.addSql("create table items (id serial primary key, label text not null)");
  }
}

class AddItemNote extends Migration {
  override up(): void {
    this.addSql("alter table items add column note text");
  }
}

class Broken extends Migration {
  override up(): void {
    this.addSql("create table half_done (id int)");
    this.addSql("this is not sql");
  }
}

const migrations: MigrationEntry[] = [{ name: "0001_items", class: CreateItems }];

async function roundTrip(open: () => ReturnType<typeof openDatabase>, embedded: boolean): Promise<void> {
  const db = await open();
  expect(db.embedded).toBe(embedded);
  try {
    const em = db.em.fork();
    em.create(Item, { label: "first" });
    await em.flush();
    await db.em.fork().execute("insert into items (label) values (?)", ["second"]);
  } finally {
    await db.close();
  }
  await db.close(); // idempotent

  const again = await open();
  try {
    const rows = await again.em.fork().find(Item, {}, { orderBy: { id: "asc" } });
    expect(rows.map((r) => r.label)).toEqual(["first", "second"]);
    const applied = await again.em.fork().execute("select name from mikro_orm_migrations order by id");
    expect(applied.map((r) => r.name)).toEqual(["0001_items"]);
  } finally {
    await again.close();
  }
}

describe("openDatabase on PostgreSQL", () => {
  it("runs migrations at open and keeps data across close and reopen", async () => {
    const url = await createTestDatabase("kit_db");
    await roundTrip(() => openDatabase({ name: "kit-test", url, entities: [Item], migrations }), false);
  });

  it("runs only new migrations on a later open, in order", async () => {
    const url = await createTestDatabase("kit_db");
    await (await openDatabase({ name: "kit-test", url, entities: [], migrations })).close();
    const db = await openDatabase({
      name: "kit-test",
      url,
      entities: [],
      migrations: [...migrations, { name: "0002_item_note", class: AddItemNote }],
    });
    try {
      await db.em.fork().execute("insert into items (label, note) values ('a', 'b')");
      const applied = await db.em.fork().execute("select name from mikro_orm_migrations order by id");
      expect(applied.map((r) => r.name)).toEqual(["0001_items", "0002_item_note"]);
    } finally {
      await db.close();
    }
  });

  it("applies all pending migrations or none", async () => {
    const url = await createTestDatabase("kit_db");
    await expect(
      openDatabase({
        name: "kit-test",
        url,
        entities: [],
        migrations: [...migrations, { name: "0002_broken", class: Broken }],
      }),
    ).rejects.toThrow(/kit-test: database migration failed/);
    const db = await openDatabase({ name: "kit-test", url, entities: [], migrations: [] });
    try {
      const tables = await db.em
        .fork()
        .execute(
          "select table_name from information_schema.tables where table_schema = 'public' and table_name in ('items', 'half_done')",
        );
      expect(tables).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("replicas opening one new database at once migrate it once, in turn", async () => {
    const url = await createTestDatabase("kit_db");
    const all = [...migrations, { name: "0002_item_note", class: AddItemNote }];
    const dbs = await Promise.all(
      Array.from({ length: 4 }, () => openDatabase({ name: "kit-test", url, entities: [], migrations: all })),
    );
    try {
      const applied = await dbs[0]!.em.fork().execute("select name from mikro_orm_migrations order by id");
      expect(applied.map((r) => r.name)).toEqual(["0001_items", "0002_item_note"]);
      await dbs[3]!.em.fork().execute("insert into items (label, note) values ('a', 'b')");
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it("uses a pool of the requested size", async () => {
    const url = await createTestDatabase("kit_db");
    const db = await openDatabase({ name: "kit-test", url, entities: [], migrations: [], poolSize: 5 });
    try {
      // Twelve units of work at once: each names the server session it ran on. (Not a count of the
      // database's sessions: another client's, such as autovacuum's, may be among them.)
      const backends = await Promise.all(
        Array.from({ length: 12 }, () =>
          db.em.fork().transactional(async (tx) => {
            await tx.execute("select pg_sleep(0.05)");
            const rows = await tx.execute<{ pid: number }[]>("select pg_backend_pid() as pid");
            return rows[0]!.pid;
          }),
        ),
      );
      expect(new Set(backends).size).toBe(5);
    } finally {
      await db.close();
    }
  });
});

// PGlite is PostgreSQL compiled to WebAssembly: a first open (its initdb) takes seconds, and tens on a busy machine.
describe("openDatabase embedded (PGlite, the npm start default)", { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("opens in a directory, runs migrations and keeps data across close and reopen", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kit-pglite-"));
    dirs.push(dir);
    const embeddedDir = path.join(dir, "data");
    await roundTrip(() => openDatabase({ name: "kit-test", embeddedDir, entities: [Item], migrations }), true);
  });

  it("runs transactions on its single connection", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kit-pglite-"));
    dirs.push(dir);
    const db = await openDatabase({ name: "kit-test", embeddedDir: dir, entities: [Item], migrations });
    try {
      await expect(
        db.em.fork().transactional(async (tx) => {
          await tx.execute("insert into items (label) values ('rolled back')");
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      // Several units of work at once queue on the one connection instead of deadlocking.
      await Promise.all(
        ["a", "b", "c"].map((label) =>
          db.em.fork().transactional(async (tx) => {
            tx.create(Item, { label });
          }),
        ),
      );
      const rows = await db.em.fork().find(Item, {}, { orderBy: { label: "asc" } });
      expect(rows.map((r) => r.label)).toEqual(["a", "b", "c"]);
    } finally {
      await db.close();
    }
  });
});
