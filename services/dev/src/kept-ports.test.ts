import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keptPort } from "./kept-ports.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kept-ports-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("an instance host's port, kept across starts", () => {
  it("is the same at the next start, each host its own, and written beside the data", async () => {
    const first = await keptPort(dir, "pool", "127.0.0.1");
    const second = await keptPort(dir, "second", "127.0.0.1");
    expect(second).not.toBe(first);
    expect(await keptPort(dir, "pool", "127.0.0.1")).toBe(first);
    expect(JSON.parse(await readFile(join(dir, "host-ports.json"), "utf8"))).toEqual({ pool: first, second });
  });

  it("is a new one when another process holds the kept port now", async () => {
    const first = await keptPort(dir, "pool", "127.0.0.1");
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(first, "127.0.0.1", r));
    try {
      const next = await keptPort(dir, "pool", "127.0.0.1");
      expect(next).not.toBe(first);
      expect(await keptPort(dir, "pool", "127.0.0.1")).toBe(next);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
