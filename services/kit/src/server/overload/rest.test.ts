// The REST face's admission as policy: which RPC's criticality a REST
// request takes, and the refusal REST clients read. Pure: no server.
import { describe, expect, it } from "vitest";
import { deadlinePassed } from "./deadline.js";
import { overloaded } from "./interceptor.js";
import { restCallOf, restRefusal } from "./rest.js";

describe("restCallOf", () => {
  it("names the RPC a route calls, so the route takes that RPC's criticality", () => {
    expect(restCallOf("DELETE", "ClaimService/RemoveAgent")).toEqual({
      service: "ClaimService",
      method: "RemoveAgent",
    });
  });

  it("names a route of no RPC by its HTTP method alone, which no criticality names: default", () => {
    expect(restCallOf("GET", undefined)).toEqual({ service: "REST", method: "GET" });
  });
});

describe("restRefusal", () => {
  it("answers an overloaded server with 429 rate_limited, Retry-After and the delay in its message", () => {
    const refusal = restRefusal(overloaded("gateway", 2_500));
    expect(refusal.status).toBe(429);
    expect(refusal.headers["retry-after"]).toBe("3");
    expect(refusal.body).toEqual({
      error: { type: "rate_limited", code: "resource_exhausted", message: "gateway is busy; try again in 3 s" },
    });
  });

  it("answers a call whose deadline had passed with 504 timeout and no Retry-After", () => {
    const refusal = restRefusal(deadlinePassed("GET /api/pool/agents"));
    expect(refusal.status).toBe(504);
    expect(refusal.headers["retry-after"]).toBeUndefined();
    expect(refusal.body.error).toMatchObject({ type: "timeout", code: "deadline_exceeded" });
  });
});
