// topicCursors and admitsStream alone: pure functions, no store, no transport. A
// subscription's replay and live delivery are tested over gRPC in
// protocol.test.ts.
import { describe, expect, it } from "vitest";
import { admitsStream, DEFAULT_MAX_STREAMS, topicCursors } from "./subscriptions.js";

describe("topicCursors", () => {
  it("keeps each topic once, with the lowest cursor of its filters", () => {
    const key = Buffer.from("k");
    const { cursors, keys } = topicCursors([
      { topic: "a", key, cursor: 5n },
      { topic: "b", key, cursor: 0n },
      { topic: "a", key, cursor: 2n },
      { topic: "a", key, cursor: 9n },
    ]);
    expect([...cursors]).toEqual([
      ["a", 2n],
      ["b", 0n],
    ]);
    expect([...keys.keys()]).toEqual(["a", "b"]);
  });
});

describe("admitsStream", () => {
  it("opens a stream below the limit and refuses one at it; 0 is no limit", () => {
    expect(DEFAULT_MAX_STREAMS).toBe(20_000);
    expect(admitsStream(1, 2)).toBe(true);
    expect(admitsStream(2, 2)).toBe(false);
    expect(admitsStream(1_000_000, 0)).toBe(true);
  });
});
