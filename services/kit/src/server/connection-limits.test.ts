import { describe, expect, it } from "vitest";
import { admission, connectionLimitsOf } from "./connection-limits.js";
import { DEFAULT_LIMITS, NO_LIMITS } from "./limits.js";

describe("connection admission", () => {
  const limits = { perAddress: 2, total: 3 };

  it("lets a connection in below both caps", () => {
    expect(admission(limits, { total: 0, fromAddress: 0 }, false)).toBe("ok");
    expect(admission(limits, { total: 2, fromAddress: 1 }, false)).toBe("ok");
  });

  it("refuses an address at its share, unless it is exempt (a proxy in front)", () => {
    expect(admission(limits, { total: 2, fromAddress: 2 }, false)).toBe("address_cap");
    expect(admission(limits, { total: 2, fromAddress: 2 }, true)).toBe("ok");
  });

  it("refuses everyone, exempt or not, once the server is full", () => {
    expect(admission(limits, { total: 3, fromAddress: 0 }, false)).toBe("total_cap");
    expect(admission(limits, { total: 3, fromAddress: 0 }, true)).toBe("total_cap");
  });

  it("has no cap where the limit is off", () => {
    expect(admission({}, { total: 1e6, fromAddress: 1e6 }, false)).toBe("ok");
  });

  it("reads the connection entries of POOL_LIMITS, in milliseconds", () => {
    expect(connectionLimitsOf(DEFAULT_LIMITS, ["10.0.0.1"])).toEqual({
      perAddress: 256,
      total: 4096,
      firstRequestMs: 10_000,
      http2IdleMs: 60_000,
      exempt: ["10.0.0.1"],
    });
    expect(connectionLimitsOf(NO_LIMITS)).toEqual({
      perAddress: undefined,
      total: undefined,
      firstRequestMs: undefined,
      http2IdleMs: undefined,
      exempt: [],
    });
  });
});
