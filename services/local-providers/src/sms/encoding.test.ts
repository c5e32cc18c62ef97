// smsParts alone: a pure function, no server.
import { describe, expect, it } from "vitest";
import { smsParts } from "./encoding.js";

describe("smsParts", () => {
  it("puts up to 160 GSM characters in one GSM-7 part and splits longer texts by 153", () => {
    expect(smsParts("a".repeat(160))).toEqual({ encoding: "GSM-7", parts: 1 });
    expect(smsParts("a".repeat(161))).toEqual({ encoding: "GSM-7", parts: 2 });
    expect(smsParts("a".repeat(306))).toEqual({ encoding: "GSM-7", parts: 2 });
    expect(smsParts("a".repeat(307))).toEqual({ encoding: "GSM-7", parts: 3 });
  });

  it("counts a character of the extension table as two septets", () => {
    expect(smsParts("€".repeat(80))).toEqual({ encoding: "GSM-7", parts: 1 });
    expect(smsParts("€".repeat(81))).toEqual({ encoding: "GSM-7", parts: 2 });
  });

  it("sends a text with any character outside the GSM alphabet as UCS-2: 70 units in one part, then 67 per part", () => {
    expect(smsParts("ok 👍")).toEqual({ encoding: "UCS-2", parts: 1 });
    expect(smsParts(`${"é".repeat(69)}ж`)).toEqual({ encoding: "UCS-2", parts: 1 });
    expect(smsParts("ж".repeat(71))).toEqual({ encoding: "UCS-2", parts: 2 });
    expect(smsParts("ж".repeat(135))).toEqual({ encoding: "UCS-2", parts: 3 });
  });
});
