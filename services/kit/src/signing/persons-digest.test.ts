// What ReportVersionSignals signs of a day's persons (fields.ts
// personsDigest): pure, nothing stands in.
import { keccak256, stringToBytes } from "viem";
import { describe, expect, it } from "vitest";
import { personsDigest } from "./fields.js";

const A = "a".repeat(64);
const B = "b".repeat(64);

describe("the digest of a day's persons", () => {
  it("is the line it was before stops and failed tool calls were per person, for a person with none of them", () => {
    const before = keccak256(stringToBytes(`${A} 3 1 0\n${B} 2 0 1`));
    expect(
      personsDigest([
        { person: B, answers: 2, thumbsDown: 0, corrections: 1 },
        { person: A, answers: 3, thumbsDown: 1, corrections: 0 },
      ]),
    ).toBe(before);
    expect(
      personsDigest([
        { person: A, answers: 3, thumbsDown: 1, corrections: 0, stopRequests: 0, toolCallsFailed: 0 },
        { person: B, answers: 2, thumbsDown: 0, corrections: 1 },
      ]),
    ).toBe(before);
  });

  it("changes with a person's stops and with their failed tool calls, each on its own", () => {
    const of = (stopRequests: number, toolCallsFailed: number) =>
      personsDigest([{ person: A, answers: 3, thumbsDown: 1, corrections: 0, stopRequests, toolCallsFailed }]);
    const digests = new Set([of(0, 0), of(1, 0), of(0, 1), of(2, 0), of(1, 1)]);
    expect(digests.size).toBe(5);
  });

  it("is empty for no persons", () => {
    expect(personsDigest([])).toBe("");
  });
});
