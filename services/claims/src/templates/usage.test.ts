import { describe, expect, it } from "vitest";
import { UsageBatcher } from "./usage.js";

describe("UsageBatcher", () => {
  it("sends one sum per template with its distinct owners, and keeps what failed for the next flush", async () => {
    const sent: [string, number, string[]][] = [];
    let fail = true;
    const errors: string[] = [];
    const batcher = new UsageBatcher(
      async (id, count, owners) => {
        if (fail && id === "b") throw new Error("down");
        sent.push([id, count, owners]);
      },
      (id) => errors.push(id),
      60_000,
    );
    batcher.record("a", "alice");
    batcher.record("a", "alice");
    batcher.record("a", "bob");
    batcher.record("b", "alice");
    await batcher.flush();
    expect(sent).toEqual([["a", 3, ["alice", "bob"]]]);
    expect(errors).toEqual(["b"]);
    fail = false;
    batcher.record("b", "carol");
    await batcher.close();
    expect(sent).toEqual([
      ["a", 3, ["alice", "bob"]],
      ["b", 2, ["alice", "carol"]],
    ]);
  });
});
