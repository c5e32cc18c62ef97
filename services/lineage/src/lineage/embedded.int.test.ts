// The lineage service's SQL on embedded PGlite, as `npm start` runs it with
// no DATABASE_URL: migrations, the feed (arrays of sequences, one
// transaction) and the recursive reads. service.int.test.ts covers the same on
// real PostgreSQL over gRPC.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LineageEventSchema, type LineageEvent } from "@convos-pool/gen/convos/pool/v1/lineage_event_service_pb.js";
import { openDatabase, type Database } from "@convos-pool/kit/service";
import { entities } from "../db/entities.js";
import { applyEvents } from "./events.js";
import { migrations } from "../db/migrations.js";
import { ancestors, descendants, ownerAgents, templateDashboard } from "./sql.js";

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lineage-embedded-"));
  db = await openDatabase({ name: "lineage", embeddedDir: dir, entities, migrations });
}, 60_000);

afterAll(async () => {
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const claimed = (sequence: bigint, instanceId: string, parentInstanceId = ""): LineageEvent =>
  create(LineageEventSchema, {
    sequence,
    event: {
      case: "claimed",
      value: {
        instanceId,
        templateId: "tmpl_t",
        ownerId: "owner",
        parentInstanceId,
        conversationId: `conv-${instanceId}`,
        carry: parentInstanceId ? ["training"] : [],
      },
    },
  });

it("applies the feed once and reads the tree on embedded PGlite, as npm start runs it", async () => {
  expect(db.embedded).toBe(true);
  const ended = create(LineageEventSchema, {
    sequence: 4n,
    event: { case: "ended", value: { instanceId: "inst_root", reason: "removed by its owner" } },
  });
  // 2 arrives before 1, as a late commit would make it; then everything again.
  expect(await applyEvents(db.em.fork(), [claimed(2n, "inst_root")])).toBe(1);
  expect(await applyEvents(db.em.fork(), [claimed(1n, "inst_other")])).toBe(1);
  expect(
    await applyEvents(db.em.fork(), [
      claimed(1n, "inst_other"),
      claimed(2n, "inst_root"),
      claimed(3n, "inst_child", "inst_root"),
      ended,
    ]),
  ).toBe(2);
  const em = db.em.fork();
  expect((await ancestors(em, "inst_child")).map((n) => [n.instanceId, n.endedAt !== null])).toEqual([
    ["inst_root", true],
  ]);
  expect((await descendants(em, "inst_root")).map((n) => [n.instanceId, n.depth, n.carry])).toEqual([
    ["inst_child", 1, ["training"]],
  ]);
  expect(await templateDashboard(em, "tmpl_t")).toMatchObject({
    live: 2,
    total: 3,
    ended: 1,
    clones: 1,
    liveClones: 1,
    maxDepth: 1,
  });
  const page = await ownerAgents(em, "owner", { includeEnded: false, limit: 1, pageToken: "" });
  expect(page.agents).toHaveLength(1);
  expect(
    (await ownerAgents(em, "owner", { includeEnded: false, limit: 1, pageToken: page.nextPageToken })).agents,
  ).toHaveLength(1);
});
