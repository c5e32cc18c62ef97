// The pool's values as the app writes them, from the generated messages' shapes (no call is made).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InstanceSchema, SyncState } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import { ethRounded, rolloutNote, runsWords, signedInAs, templateVersionWords, whyNotRate } from "./format";

describe("whyNotRate", () => {
  const from = new Date("2026-11-28T03:40:19.464Z");
  const reason = `owners rate after a day with their agent: you may rate from ${from.toISOString()}`;

  it("replaces the service's ISO date with one for people", () => {
    const s = whyNotRate(reason, timestampFromDate(from));
    expect(s).toMatch(/^Owners rate after a day with their agent: you may rate from .+, .+ \(.+\)\.$/);
    expect(s).not.toContain("2026-11-28T");
  });

  it("leaves a reason without a date as the service wrote it", () => {
    const other = "you made this template: its creator cannot rate it";
    expect(whyNotRate(other, undefined)).toBe(other);
  });
});

describe("rolloutNote", () => {
  const agent = (sync: { appliedVersion: bigint; inRollout: boolean; rolloutVersion: bigint }) =>
    create(InstanceSchema, { id: "inst_1", sync: { state: SyncState.CURRENT, ...sync } });

  it("says nothing outside a rollout", () => {
    expect(rolloutNote(agent({ appliedVersion: 4n, inRollout: false, rolloutVersion: 0n }))).toBeUndefined();
    expect(rolloutNote(create(InstanceSchema, { id: "inst_1" }))).toBeUndefined();
  });

  it("names the version tried, and what a pin keeps, before and after the agent moved", () => {
    expect(rolloutNote(agent({ appliedVersion: 4n, inRollout: true, rolloutVersion: 5n }))).toBe(
      "Its creator is trying version 5 in a share of conversations first, this one among them; " +
        "the pool stops the trial if people do worse with it. It still runs version 4: pin it to stay there.",
    );
    expect(rolloutNote(agent({ appliedVersion: 5n, inRollout: true, rolloutVersion: 5n }))).toMatch(
      /It runs version 5 now: pinning keeps it there\.$/,
    );
  });
});

describe("ethRounded", () => {
  it("rounds to 4 decimals, or 2 significant digits below 0.001, to the nearest, trailing zeros dropped", () => {
    expect(ethRounded(509876543210987654n)).toBe("0.5099");
    expect(ethRounded(50000000000000000n)).toBe("0.05");
    expect(ethRounded(12345678900000000000n)).toBe("12.3457");
    expect(ethRounded(12345600000000n)).toBe("0.000012");
    expect(ethRounded(500000000000000n)).toBe("0.0005");
    expect(ethRounded(999999999999999n)).toBe("0.001");
    expect(ethRounded(1n)).toBe("0.000000000000000001");
    expect(ethRounded(0n)).toBe("0");
  });
});

describe("templateVersionWords", () => {
  it("names the version as the store does, and the instructions' version its agents name when publishing raised only the first", () => {
    expect(templateVersionWords({ version: 2n, contentVersion: 2n })).toBe("v2");
    expect(templateVersionWords({ version: 2n, contentVersion: 1n })).toBe(
      "v2 (its instructions are v1's: agents on it say v1)",
    );
  });
});

describe("runsWords", () => {
  it("names the template an agent runs as its statement does, by name and the instructions' version it applied", () => {
    const agent = create(InstanceSchema, {
      templateId: "tmpl_0123456789ab",
      agentName: "Trip Planner",
      sync: { state: SyncState.CURRENT, appliedVersion: 1n },
    });
    expect(runsWords(agent)).toBe("Trip Planner v1");
    expect(runsWords(create(InstanceSchema, { templateId: "tmpl_0123456789ab", agentName: "Trip Planner" }))).toBe(
      "Trip Planner",
    );
    expect(runsWords(create(InstanceSchema, { templateId: "tmpl_0123456789ab" }))).toBe("tmpl_0123456789ab");
  });
});

describe("signedInAs", () => {
  const inbox = `c64527${"0".repeat(54)}4415`;
  it("calls the signed-in person by the name their Convos profile gave, else by their short inbox", () => {
    expect(signedInAs("Saul", inbox)).toBe("Saul");
    expect(signedInAs(undefined, inbox)).toBe("c64527…4415");
    expect(signedInAs("  ", inbox)).toBe("c64527…4415");
  });
});
