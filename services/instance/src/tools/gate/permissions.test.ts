import { Grant, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { resolvePermissions } from "@convos-pool/kit/content";
import { describe, expect, it } from "vitest";
import { answersOutsiders, askedBy, describePermissions, grantFor, type Requester } from "./permissions.js";

const owner: Requester = { role: "owner", id: "a".repeat(64), name: "Saul" };
const member: Requester = { role: "member", id: "b".repeat(64), name: "Ana" };
const outsider = (): Requester => ({ role: "outsider", id: "+15550188009", name: "+15550188009" });
const DEFAULTS = resolvePermissions(undefined);
const call = (toolId: string, action = "x", target = "") => ({ toolId, action, target });
const textBack = call("sms", "send_sms", "+15550188009");

describe("who may have the agent use a tool", () => {
  it("by default: the owner every tool, a member only with the owner's approval, an outsider none", () => {
    for (const tool of ["sms", "email", "crypto"]) {
      expect(grantFor(DEFAULTS, owner, call(tool))).toEqual({ grant: "allow" });
      expect(grantFor(DEFAULTS, member, call(tool))).toEqual({ grant: "ask" });
      expect(grantFor(DEFAULTS, outsider(), call(tool))).toMatchObject({ grant: "refuse" });
    }
    expect(grantFor(DEFAULTS, outsider(), textBack)).toMatchObject({ grant: "refuse" });
    expect(answersOutsiders(DEFAULTS)).toBe(false);
  });

  it("gives a member what the owner set, tool by tool, and says why it refuses", () => {
    const p = resolvePermissions({ memberSms: Grant.ALLOW, memberCrypto: Grant.REFUSE });
    expect(grantFor(p, member, call("sms"))).toEqual({ grant: "allow" });
    expect(grantFor(p, member, call("email"))).toEqual({ grant: "ask" });
    expect(grantFor(p, member, call("crypto"))).toEqual({
      grant: "refuse",
      reason: "my owner has not allowed members to have me use my wallet",
    });
    expect(grantFor(p, member, call("teleport"))).toMatchObject({ grant: "refuse" });
  });

  it("lets an outsider have one text back to their own number, and nothing else, only as the owner set", () => {
    const ask = resolvePermissions({ outsiderReply: OutsiderReply.ASK });
    const answer = resolvePermissions({ outsiderReply: OutsiderReply.ANSWER, memberSms: Grant.ALLOW });
    expect(answersOutsiders(ask) && answersOutsiders(answer)).toBe(true);
    expect(grantFor(ask, outsider(), textBack)).toEqual({ grant: "ask" });
    expect(grantFor(answer, outsider(), textBack)).toEqual({ grant: "allow" });
    // Another number, another tool, another action: never.
    expect(grantFor(answer, outsider(), call("sms", "send_sms", "+15550100001"))).toMatchObject({ grant: "refuse" });
    expect(grantFor(answer, outsider(), call("crypto", "send_payment", "+15550188009"))).toMatchObject({
      grant: "refuse",
    });
    expect(grantFor(answer, outsider(), call("email", "send_email", "+15550188009"))).toMatchObject({
      grant: "refuse",
    });
    const once = { ...outsider(), answered: true };
    expect(grantFor(answer, once, textBack)).toEqual({ grant: "refuse", reason: "I answer a text from outside once" });
  });

  it("names who asked in the owner's approval request, unless it was the owner", () => {
    expect(askedBy(owner)).toBeUndefined();
    expect(askedBy(member)).toBe("Asked by: Ana (member)");
  });

  it("says the table in words", () => {
    expect(describePermissions(resolvePermissions({ memberCrypto: Grant.REFUSE }))).toBe(
      "members: texts ask, mail ask, money refuse; texts from outside: none; approvals: conversation",
    );
  });
});
