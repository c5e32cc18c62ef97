import { describe, expect, it } from "vitest";
import { addressKey, clientAddress, limitClassOf, parseTrustedProxies } from "./addresses.js";

describe("limits per client address", () => {
  it("counts claims, sign-ins and template writes (a rollout's start and steps among them); reads and owner operations are not counted here", () => {
    expect(limitClassOf("convos.pool.v1.ClaimService", "Claim")).toBe("claims");
    expect(limitClassOf("convos.pool.v1.SessionService", "CreateSession")).toBe("sign-ins");
    for (const m of [
      "CreateTemplate",
      "UpdateTemplate",
      "PatchTemplate",
      "SetTemplateVisibility",
      "ArchiveTemplate",
      "DeleteTemplate",
      "RollbackTemplate",
    ]) {
      expect(limitClassOf("convos.pool.v1.TemplateService", m), m).toBe("template-writes");
    }
    for (const m of ["StartRollout", "StepRollout"]) {
      expect(limitClassOf("convos.pool.v1.RolloutService", m), m).toBe("template-writes");
    }
    for (const [s, m] of [
      ["convos.pool.v1.TemplateService", "GetTemplate"],
      ["convos.pool.v1.TemplateService", "BrowseStore"],
      ["convos.pool.v1.RolloutService", "GetRollout"],
      ["convos.pool.v1.RolloutService", "ListRollouts"],
      ["convos.pool.v1.ClaimService", "ListOwnerAgents"],
      ["convos.pool.v1.ClaimService", "SetInstancePin"],
      ["convos.pool.v1.ClaimService", "SetTrustLevel"],
      ["convos.pool.v1.ClaimService", "SetPermissions"],
      ["convos.pool.v1.ClaimService", "SetParticipation"],
      ["convos.pool.v1.ClaimService", "ListAgentActivity"],
      ["convos.pool.v1.SessionService", "DeleteSession"],
    ] as const) {
      expect(limitClassOf(s, m), m).toBeUndefined();
    }
  });

  it("keys IPv4 as it is, IPv4-mapped IPv6 as IPv4, other IPv6 by its /64", () => {
    expect(addressKey("203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:DB8:0001:0002:ffff::1%eth0")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
    // Not an address (a proxy's garbage): its own key, harmless.
    expect(addressKey("not-an-address")).toBe("not-an-address");
  });

  it("takes X-Forwarded-For only from a trusted peer, and then its rightmost entry that is no trusted proxy", () => {
    const trusted = new Set(["10.0.0.1", "10.0.0.2"]);
    expect(clientAddress("203.0.113.9", "198.51.100.1", trusted)).toBe("203.0.113.9");
    expect(clientAddress("10.0.0.1", "198.51.100.1", trusted)).toBe("198.51.100.1");
    expect(clientAddress("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2", trusted)).toBe("198.51.100.1");
    expect(clientAddress("10.0.0.1", ["6.6.6.6", "198.51.100.1"], trusted)).toBe("198.51.100.1");
    expect(clientAddress("::ffff:10.0.0.1", "198.51.100.1", trusted)).toBe("198.51.100.1");
    // Nothing but proxies: the last one.
    expect(clientAddress("10.0.0.1", "10.0.0.2", trusted)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.1", undefined, trusted)).toBe("10.0.0.1");
    expect(clientAddress(undefined, "198.51.100.1", trusted)).toBe("unknown");
  });

  it("reads POOL_TRUSTED_PROXIES and names an entry that is no address", () => {
    expect(parseTrustedProxies("")).toEqual([]);
    expect(parseTrustedProxies(" 10.0.0.1, ::1 ")).toEqual(["10.0.0.1", "::1"]);
    expect(() => parseTrustedProxies("10.0.0.1,proxy.local")).toThrow(
      'POOL_TRUSTED_PROXIES: "proxy.local" is not an IP address',
    );
  });
});
