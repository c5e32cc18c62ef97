// The dashboard's usage chart as data (usage.ts), from the generated messages' shapes (no call is made).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DayUsageSchema } from "@convos-pool/gen/convos/pool/v1/lineage_service_pb.js";
import { usageSeries, usageSummary } from "./usage";

const day = (d: string, claims: bigint, activeAgents: bigint) =>
  create(DayUsageSchema, { day: d, claims, activeAgents });

describe("usageSeries", () => {
  it("draws claims and active agents, each day by its date", () => {
    const [claims, active] = usageSeries([day("2026-11-26", 2n, 3n), day("2026-11-27", 0n, 3n)]);
    expect(claims?.label).toBe("Claims");
    expect([...(claims?.values ?? [])]).toEqual([
      ["2026-11-26", 2],
      ["2026-11-27", 0],
    ]);
    expect(active?.label).toBe("Active agents");
    expect(active?.values.get("2026-11-27")).toBe(3);
  });
});

describe("usageSummary", () => {
  it("says the window's claims, today's active agents and the busiest day, in people's plurals", () => {
    expect(usageSummary([day("2026-11-26", 1n, 4n), day("2026-11-27", 0n, 1n)])).toBe(
      "1 claim in the last 2 days; 1 agent active today, at most 4 on one day.",
    );
    expect(usageSummary([])).toBe("No usage yet.");
  });
});
