import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { conversationFile, Workspace } from "../../platform/workspace.js";
import { OUTSIDE_WORDS_KEPT, OutsideWords, withOutside } from "./outside-words.js";

/** Its home conversation, whose folder holds the ids. */
const HOME = "0123456789abcdef0123456789abcdef";

describe("the messages that carry outside words", () => {
  it("keep the newest ids, each once", () => {
    expect(withOutside(["a", "b"], "a")).toEqual(["b", "a"]);
    expect(withOutside(["a", "b", "c"], "d", 3)).toEqual(["b", "c", "d"]);
  });

  describe("in a workspace", () => {
    let dir: string;
    let ws: Workspace;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "outside-"));
      ws = new Workspace(dir, "inst_outside");
      await ws.create();
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it("are read back by another reader (a restart), capped, and a message not sent adds nothing", async () => {
      const words = new OutsideWords(ws, () => HOME);
      for (let i = 0; i < OUTSIDE_WORDS_KEPT + 5; i++) await words.add(`m${i}`);
      await words.add(undefined);
      const ids = await new OutsideWords(ws, () => HOME).ids();
      expect(ids.size).toBe(OUTSIDE_WORDS_KEPT);
      expect(ids.has(`m${OUTSIDE_WORDS_KEPT + 4}`)).toBe(true);
      expect(ids.has("m0")).toBe(false);
    });

    it("are kept in the conversation's folder; in no conversation none are read or kept", async () => {
      await new OutsideWords(ws, () => HOME).add("m1");
      expect(await ws.readJson(conversationFile(HOME, "outside-words"))).toEqual(["m1"]);
      const nowhere = new OutsideWords(ws, () => undefined);
      await nowhere.add("m2");
      expect((await nowhere.ids()).size).toBe(0);
      expect(await ws.readJson(conversationFile(HOME, "outside-words"))).toEqual(["m1"]);
    });

    it("read a damaged file as none", async () => {
      await ws.writeJson(conversationFile(HOME, "outside-words"), { not: "a list" });
      expect((await new OutsideWords(ws, () => HOME).ids()).size).toBe(0);
    });
  });
});
