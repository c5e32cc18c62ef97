// What the agent keeps of its schedules (store.ts) on a real workspace and
// its real schedules.json; the one stand-in is a disk slower for the first
// of two writes (the workspace's writeJson delayed once), as a busy disk may
// be. What must hold: two changes made at once both reach the file, whatever
// order their writes would have finished in.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Workspace } from "../../platform/workspace.js";
import { ScheduleStore } from "./store.js";

const ANA = "0x8ba1f109551bD432803012645Ac136ddd64DBA72";
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A workspace whose first write waits `ms` before it reaches the disk, what it writes taken when it was asked. */
async function slowFirst(ms: number): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "schedule-store-"));
  dirs.push(dir);
  const ws = new Workspace(dir, "inst-1");
  await ws.create();
  let writes = 0;
  ws.writeJson = async (name, value) => {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    if (writes++ === 0) await new Promise((r) => setTimeout(r, ms));
    await ws.writeText(name, text);
  };
  return ws;
}

describe("schedules.json", () => {
  it("keeps both of two changes made at once, the first one's write slower", async () => {
    const ws = await slowFirst(50);
    const store = await ScheduleStore.open(ws);
    await Promise.all([
      store.setZone("g1", "Europe/Paris"),
      store.keepAct("sch_000000000000000000000001", "g1", {
        act: "pay",
        toolId: "crypto",
        target: ANA,
        amountWei: "1",
      }),
    ]);
    const again = await ScheduleStore.open(ws);
    expect(again.zoneOf("g1")).toBe("Europe/Paris");
    expect(again.actOf("sch_000000000000000000000001")).toMatchObject({ target: ANA, conversationId: "g1" });
  });

  it("keeps a firing done after a write that failed before it", async () => {
    const ws = await slowFirst(0);
    const store = await ScheduleStore.open(ws);
    const write = ws.writeJson.bind(ws);
    let failed = false;
    ws.writeJson = async (name, value) => {
      if (!failed) {
        failed = true;
        throw new Error("disk full");
      }
      await write(name, value);
    };
    await expect(store.setZone("g1", "Europe/Paris")).rejects.toThrow("disk full");
    await store.markFired("sch_000000000000000000000001@2027-01-01T08:00:00Z");
    const again = await ScheduleStore.open(ws);
    expect(again.fired("sch_000000000000000000000001@2027-01-01T08:00:00Z")).toBe(true);
  });
});
