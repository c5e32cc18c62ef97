// How often the host's watch reopens its subscription streams while agents
// keep falling asleep (a host restoring thousands of dormant agents): each
// shard about once, not once every 100 ms. The streams go to a port where
// nothing listens; what is counted is what the watch asks for. Time is a test
// clock (the watch's timers and Date.now), moved by the test: the agents fall
// asleep 10 ms apart whatever the machine's load, and no test waits the real
// debounce.
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createLogger, freePort } from "@convos-pool/kit/server";
import { FLUSH_MAX_MS, GroupWatch, SHARD_SIZE } from "./group-watch.js";

const log = createLogger("group-watch-test", { level: "silent" });

describe("GroupWatch", () => {
  it("opens each shard about once while agents fall asleep every few ms", async () => {
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
    const watch = new GroupWatch({ apiUrl, log, retryMs: 600_000 });
    try {
      const shards = 4;
      const started = performance.now();
      for (let i = 0; i < shards * SHARD_SIZE; i++) {
        watch.watch(randomBytes(32).toString("hex"), 0n, () => undefined);
        if (i % 8 === 7) await vi.advanceTimersByTimeAsync(10);
      }
      await vi.advanceTimersByTimeAsync(FLUSH_MAX_MS + 200);
      const elapsed = performance.now() - started;
      expect(watch.size).toBe(shards * SHARD_SIZE);
      // Each shard when it filled, and the filling one at most once a FLUSH_MAX_MS;
      // a reopen every 100 ms would be one for each tenth of `elapsed`.
      expect(watch.opens).toBeGreaterThanOrEqual(shards);
      expect(watch.opens).toBeLessThanOrEqual(shards + Math.ceil(elapsed / FLUSH_MAX_MS));
    } finally {
      await watch.close();
      vi.useRealTimers();
    }
  });
});
