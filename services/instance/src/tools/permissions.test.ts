import { describe, expect, it } from "vitest";
import { DEFAULT_PERMISSIONS, askedBy, grantFor, type PermissionTable } from "./permissions.js";

const owner = { role: "owner" as const, name: "Saul" };
const member = { role: "member" as const, name: "Ana" };
const outsider = { role: "outsider" as const, name: "+15550188009" };

describe("who may have the agent use a tool", () => {
  it("by default: the owner every tool, a member only with the owner's approval, an outsider none", () => {
    for (const tool of ["sms", "email", "crypto"]) {
      expect(grantFor(DEFAULT_PERMISSIONS, owner, tool)).toEqual({ grant: "allow" });
      expect(grantFor(DEFAULT_PERMISSIONS, member, tool)).toEqual({ grant: "ask" });
      expect(grantFor(DEFAULT_PERMISSIONS, outsider, tool)).toMatchObject({ grant: "refuse" });
    }
  });

  it("refuses a tool it does not know for anyone but says why in words", () => {
    expect(grantFor(DEFAULT_PERMISSIONS, owner, "teleport")).toEqual({
      grant: "refuse",
      reason: "my owner has not allowed owners to have me use my teleport",
    });
    const strict: PermissionTable = {
      ...DEFAULT_PERMISSIONS,
      member: { sms: "refuse", email: "ask", crypto: "refuse" },
    };
    expect(grantFor(strict, member, "crypto")).toEqual({
      grant: "refuse",
      reason: "my owner has not allowed members to have me use my wallet",
    });
  });

  it("names who asked in the owner's approval request, unless it was the owner", () => {
    expect(askedBy(owner)).toBeUndefined();
    expect(askedBy(member)).toBe("Asked by: Ana (member)");
  });
});
