// What an agent keeps of its schedules, and that a release forgets it: the
// workspace and schedules.json are real, on disk; no schedules service is
// reached (none is given).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isDurableFile } from "../../platform/vault.js";
import { Workspace } from "../../platform/workspace.js";
import { Scheduling } from "./scheduling.js";

const ACT = {
  act: "pay" as const,
  toolId: "crypto" as const,
  target: "0x8ba1f109551bD432803012645Ac136ddd64DBA72",
  amountWei: "1",
};

let dir: string;
let ws: Workspace;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "scheduling-"));
  ws = new Workspace(dir, "inst_scheduling");
  await ws.create();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("what an agent keeps of its schedules", () => {
  it("keeps each conversation's zone and each act's bound request across a restart", async () => {
    const before = new Scheduling("inst", undefined, ws, { now: () => 0 });
    await (await before.store()).setZone("g1", "Europe/Paris");
    await (await before.store()).keepAct("sch_1", "g1", ACT);
    const after = await new Scheduling("inst", undefined, ws, { now: () => 0 }).store();
    expect(after.zoneOf("g1")).toBe("Europe/Paris");
    expect(after.actOf("sch_1")).toEqual({ ...ACT, conversationId: "g1" });
  });

  it("forgets all of it at a release, so the next owner's claim inherits no zone, no act and no waiting request", async () => {
    const scheduling = new Scheduling("inst", undefined, ws, { now: () => 0 });
    await (await scheduling.store()).setZone("g1", "Europe/Paris");
    await (await scheduling.store()).keepAct("sch_1", "g1", ACT);
    scheduling.waiting.set("g1", { said: { id: "m", senderInboxId: "a", content: "remind me" }, role: "owner" });
    scheduling.zoneAsked.add("g1");
    await scheduling.release();
    expect(await ws.readJson("schedules.json")).toBeUndefined();
    const store = await scheduling.store();
    expect([store.zoneOf("g1"), store.actOf("sch_1"), scheduling.waiting.size, scheduling.zoneAsked.size]).toEqual([
      undefined,
      undefined,
      0,
      0,
    ]);
  });
});

it("keeps schedules.json among the agent's durable state, so that a host lost for good loses no zone and no act's bound request", () => {
  expect(isDurableFile("schedules.json")).toBe(true);
});
