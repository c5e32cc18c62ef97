import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FILES, Workspace } from "../../platform/workspace.js";
import { ASKS_WINDOW_MS, AskLog, MAX_ASKS_PER_HOUR, MAX_OUTSIDER_ASKS_PER_HOUR, asksOf } from "./asks.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const ANA = "member:ana";

describe("the questions asked for others than the owner", () => {
  it("are read from their lines; a line cut short by a crash, or not one, is skipped", () => {
    const text = [
      JSON.stringify({ requester: ANA, at: new Date(NOW).toISOString() }),
      '{"requester":"member:ana","at":"2026-11-25T12:00:0',
      JSON.stringify({ requester: ANA, at: "not a time" }),
      JSON.stringify({ at: new Date(NOW).toISOString() }),
    ].join("\n");
    expect(asksOf(text)).toEqual([{ requester: ANA, at: NOW }]);
  });

  describe("in a workspace", () => {
    let dir: string;
    let ws: Workspace;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "asks-"));
      ws = new Workspace(dir, "inst_asks");
      await ws.create();
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it("are kept across a restart: a requester who used their questions this hour gets none after it, nobody else loses any", async () => {
      const asks = await AskLog.open(ws);
      for (let i = 0; i < MAX_ASKS_PER_HOUR; i++) {
        expect(asks.allows(ANA, NOW + i)).toBe(true);
        await asks.add(ANA, NOW + i);
      }
      expect(asks.allows(ANA, NOW + 10)).toBe(false);
      const restarted = await AskLog.open(ws);
      expect(restarted.allows(ANA, NOW + 10)).toBe(false);
      expect(restarted.allows("member:bob", NOW + 10)).toBe(true);
      expect(restarted.allows(ANA, NOW + ASKS_WINDOW_MS)).toBe(true);
    });

    it("for texts from outside are capped for all numbers together, across a restart: fresh numbers ask no more, members still do", async () => {
      const asks = await AskLog.open(ws);
      // Each a new number, well within its own hour's questions.
      for (let i = 0; i < MAX_OUTSIDER_ASKS_PER_HOUR; i++) {
        expect(asks.allows(`outsider:+1555010${i}`, NOW + i)).toBe(true);
        await asks.add(`outsider:+1555010${i}`, NOW + i);
      }
      expect(asks.allows("outsider:+15550199", NOW + 10)).toBe(false);
      expect(asks.allows(ANA, NOW + 10)).toBe(true);
      const restarted = await AskLog.open(ws);
      expect(restarted.allows("outsider:+15550199", NOW + 10)).toBe(false);
      expect(restarted.allows(ANA, NOW + 10)).toBe(true);
      expect(restarted.allows("outsider:+15550199", NOW + ASKS_WINDOW_MS)).toBe(true);
    });

    it("are rewritten without what left the hour when the file grows, and still counted", async () => {
      const asks = await AskLog.open(ws);
      // 166 members' questions two hours ago (498 lines), then Ana's, past 500 lines.
      for (let m = 0; m < 166; m++)
        for (let i = 0; i < MAX_ASKS_PER_HOUR; i++) await asks.add(`member:${m}`, NOW - 2 * ASKS_WINDOW_MS + m);
      for (let i = 0; i < MAX_ASKS_PER_HOUR; i++) await asks.add(ANA, NOW + i);
      const lines = (await readFile(ws.path(FILES.asks), "utf8")).split("\n").filter(Boolean);
      expect(asksOf(lines.join("\n"))).toEqual(
        Array.from({ length: MAX_ASKS_PER_HOUR }, (_, i) => ({ requester: ANA, at: NOW + i })),
      );
      expect((await AskLog.open(ws)).allows(ANA, NOW + 10)).toBe(false);
      expect((await AskLog.open(ws)).allows("member:0", NOW + 10)).toBe(true);
    });
  });
});
