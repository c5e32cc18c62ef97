// topicCursors alone: a pure function, no store, no transport. A
// subscription's replay and live delivery are tested over gRPC in
// protocol.test.ts.
import { describe, expect, it } from "vitest";
import { topicCursors } from "./subscriptions.js";

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
