// Which version reports lineage takes (policy.ts ranVersion), in
// memory: the versions an agent ran by the claims feed, per UTC day.
import { describe, expect, it } from "vitest";
import { ranVersion, type VersionHistory } from "./policy.js";

const at = (iso: string) => new Date(iso);

describe("a report's version", () => {
  // Claimed on 6 on the 24th at 10:00, updated to 7 on the 25th at 15:00.
  const history: VersionHistory = {
    stretches: [
      { version: "6", from: at("2026-11-24T10:00:00Z"), to: at("2026-11-25T15:00:00Z") },
      { version: "7", from: at("2026-11-25T15:00:00Z") },
    ],
  };

  it("is taken for a day on which the agent ran it, the old version's last day after an update included", () => {
    expect(ranVersion(history, "6", "2026-11-24")).toBe(true);
    expect(ranVersion(history, "6", "2026-11-25")).toBe(true);
    expect(ranVersion(history, "7", "2026-11-25")).toBe(true);
    expect(ranVersion(history, "7", "2026-11-30")).toBe(true);
  });

  it("is refused for a version it never ran, or did not run that day", () => {
    expect(ranVersion(history, "8", "2026-11-25")).toBe(false);
    expect(ranVersion(history, "6", "2026-11-26")).toBe(false);
    expect(ranVersion(history, "7", "2026-11-24")).toBe(false);
    // Before its claim it ran nothing.
    expect(ranVersion(history, "6", "2026-11-23")).toBe(false);
  });

  it("is not the old version's the day after an update at midnight", () => {
    const atMidnight: VersionHistory = {
      stretches: [
        { version: "6", from: at("2026-11-24T10:00:00Z"), to: at("2026-11-25T00:00:00Z") },
        { version: "7", from: at("2026-11-25T00:00:00Z") },
      ],
    };
    expect(ranVersion(atMidnight, "6", "2026-11-25")).toBe(false);
    expect(ranVersion(atMidnight, "7", "2026-11-25")).toBe(true);
  });

  it("is the agent's word when lineage cannot tell: no version known, or a day that began before lineage knew them", () => {
    expect(ranVersion({ stretches: [] }, "8", "2026-11-25")).toBe(true);
    const late: VersionHistory = {
      knownFrom: at("2026-11-25T09:00:00Z"),
      stretches: [{ version: "7", from: at("2026-11-25T09:00:00Z") }],
    };
    expect(ranVersion(late, "6", "2026-11-25")).toBe(true);
    expect(ranVersion(late, "6", "2026-11-24")).toBe(true);
    expect(ranVersion(late, "6", "2026-11-26")).toBe(false);
    expect(ranVersion(late, "7", "2026-11-26")).toBe(true);
  });
});
