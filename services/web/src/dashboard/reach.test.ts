// The dashboard's sentence on a version reaching the agents (reach.ts), from the generated messages' shapes (no call is made).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReleaseReachSchema } from "@convos-pool/gen/convos/pool/v1/claim_service_pb.js";
import { reachView } from "./reach";

const reach = (fields: Parameters<typeof create<typeof ReleaseReachSchema>>[1]) => create(ReleaseReachSchema, fields);
const running = (...pairs: [number, number][]) =>
  pairs.map(([version, count]) => ({ version: BigInt(version), count: BigInt(count) }));

describe("reachView", () => {
  it("says both agents run version 1 when the pool holds no release yet (it said they ran older versions)", () => {
    const view = reachView(
      1n,
      reach({ releaseVersion: 0n, liveCount: 2n, currentCount: 0n, running: running([1, 2]) }),
    );
    expect(view.text).toBe("2 of 2 live agents run version 1");
    expect(view.onNewest).toBe(2);
  });

  it("during a half rollout, counts the half on the new version and names what the rest run", () => {
    const view = reachView(
      2n,
      reach({ releaseVersion: 1n, liveCount: 20n, currentCount: 20n, running: running([2, 10], [1, 10]) }),
    );
    expect(view.text).toBe(
      "10 of 20 live agents run version 2; 10 run version 1; version 2 is not released to every agent yet (see Rollouts)",
    );
    expect(view.onNewest).toBe(10);
  });

  it("once released: what is under way, failed and pinned, and one agent said in the singular", () => {
    const view = reachView(
      3n,
      reach({
        releaseVersion: 3n,
        liveCount: 5n,
        currentCount: 2n,
        pendingCount: 1n,
        failedCount: 1n,
        pinnedCount: 1n,
        running: running([3, 2], [2, 2], [1, 1]),
      }),
    );
    expect(view.text).toBe(
      "2 of 5 live agents run version 3; 2 run version 2; 1 runs version 1; 1 updating; 1 failed (retrying); 1 pinned by their owners",
    );
  });

  it("says there are none when no agent is live", () => {
    expect(reachView(4n, reach({ releaseVersion: 4n, liveCount: 0n })).text).toBe("No live agents.");
    expect(reachView(4n, undefined).onNewest).toBe(0);
  });
});
