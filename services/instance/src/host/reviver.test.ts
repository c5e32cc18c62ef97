import { InstanceState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { createLogger } from "@convos-pool/kit/server";
import { describe, expect, it } from "vitest";
import { REVIVE_FIRST_MS, REVIVE_MAX_MS, reviveDelayMs, Reviver } from "./reviver.js";

const log = createLogger("reviver-test", { level: "silent" });

describe("reviveDelayMs", () => {
  it("doubles from the first delay with each failure, up to the most", () => {
    expect([1, 2, 3, 4].map((n) => reviveDelayMs(n))).toEqual([
      REVIVE_FIRST_MS,
      2 * REVIVE_FIRST_MS,
      4 * REVIVE_FIRST_MS,
      8 * REVIVE_FIRST_MS,
    ]);
    expect(reviveDelayMs(0)).toBe(REVIVE_FIRST_MS);
    expect(reviveDelayMs(40)).toBe(REVIVE_MAX_MS);
  });
});

describe("Reviver", () => {
  /** Agents as the host holds them; a restart works once `fixed`, and brings the agent back. */
  function host(states: Record<string, InstanceState>) {
    const agents = new Map(Object.entries(states).map(([id, state]) => [id, { id, state }]));
    const tries: string[] = [];
    let fixed = false;
    let now = 0;
    const reviver = new Reviver({
      agents: () => agents.values(),
      restart: async (id) => {
        tries.push(id);
        if (!fixed) throw new Error("rate limit exceeded");
        agents.get(id)!.state = InstanceState.CLAIMED;
      },
      log,
      firstMs: 40,
      maxMs: 100,
      now: () => now,
    });
    const later = (ms: number) => (now += ms);
    return { agents, tries, reviver, later, fix: () => (fixed = true) };
  }

  it("starts a crashed agent again only after its delay, later after each failure, and never a running one", async () => {
    const h = host({ a: InstanceState.CRASHED, b: InstanceState.CLAIMED, c: InstanceState.DORMANT });
    await h.reviver.run();
    expect(h.tries).toEqual([]); // seen now: first tried 40 ms on
    h.later(50);
    await h.reviver.run();
    expect(h.tries).toEqual(["a"]);
    // Failed once more: 80 ms this time.
    h.later(50);
    await h.reviver.run();
    expect(h.tries).toEqual(["a"]);
    h.later(40);
    h.fix();
    await h.reviver.run();
    expect(h.tries).toEqual(["a", "a"]);
    expect(h.agents.get("a")!.state).toBe(InstanceState.CLAIMED);
    h.later(110);
    await h.reviver.run();
    expect(h.tries).toEqual(["a", "a"]);
  });

  it("forgets an agent back by another way, and counts from its next crash afresh", async () => {
    const h = host({ a: InstanceState.CRASHED });
    await h.reviver.run();
    h.later(50);
    await h.reviver.run();
    expect(h.tries).toEqual(["a"]);
    h.agents.get("a")!.state = InstanceState.CLAIMED; // a StartInstance brought it back
    await h.reviver.run();
    h.agents.get("a")!.state = InstanceState.CRASHED;
    h.fix();
    await h.reviver.run();
    expect(h.tries).toEqual(["a"]); // a new crash waits the first delay, not the doubled one
    h.later(50);
    await h.reviver.run();
    expect(h.tries).toEqual(["a", "a"]);
  });

  it("starts nothing once stopped", async () => {
    const h = host({ a: InstanceState.CRASHED });
    await h.reviver.run();
    h.later(50);
    await h.reviver.stop();
    await h.reviver.run().catch(() => {});
    expect(h.tries).toEqual([]);
  });
});
