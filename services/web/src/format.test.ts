// The pool's values as the app writes them, from the generated messages' shapes (no call is made).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { whyNotRate } from "./format";

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
