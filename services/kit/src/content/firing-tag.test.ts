// The firing tag a scheduled payment's transaction carries as its data
// (docs/schedules.md, "What the host does"). Pure; nothing stood in for.
import { hexToString } from "viem";
import { describe, expect, it } from "vitest";
import { FIRING_TAG_PREFIX, firingKey, firingOfData, firingTag } from "./firing-tag.js";

const FIRING = "sch_0123456789abcdef01234567@2027-01-01T08:00:00Z";

describe("a firing tag", () => {
  it("is the prefix and the firing id in UTF-8, so an explorer shows which firing a payment is", () => {
    const data = firingTag(FIRING);
    expect(hexToString(data)).toBe(`${FIRING_TAG_PREFIX}${FIRING}`);
    expect(firingOfData(data)).toBe(FIRING);
  });

  it("is made only of a firing id, so no other data can be asked for through it", () => {
    for (const bad of [
      "",
      "sch_01@x",
      `${FIRING} `,
      "0xa9059cbb",
      `${FIRING}\u0000`,
      "sch_0123456789ABCDEF01234567@2027-01-01T08:00:00Z",
    ])
      expect(() => firingTag(bad)).toThrow(/firing id/);
  });

  it("reads no firing from data that is not exactly a tag", () => {
    expect(firingOfData("0x")).toBeUndefined();
    expect(firingOfData("0xa9059cbb000000000000000000000000")).toBeUndefined();
    expect(firingOfData(`${firingTag(FIRING)}00`)).toBeUndefined();
  });

  it("gives a text's or a mail's idempotency key of letters, digits, _, : and - only, one per firing", () => {
    expect(firingKey(FIRING)).toBe("firing:sch_0123456789abcdef01234567:2027-01-01T08:00:00Z");
    expect(firingKey(FIRING)).toMatch(/^[A-Za-z0-9_:-]{1,255}$/);
    expect(() => firingKey("sch_01@x")).toThrow(/firing id/);
  });
});
