import { ConnectError, Code } from "@connectrpc/connect";
import { ApprovalPlace, Grant, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import {
  APPROVAL_PLACE_NAMES,
  DEFAULT_PERMISSION_VALUES,
  GRANT_NAMES,
  OUTSIDER_REPLY_NAMES,
  approvalPlaceName,
  parseApprovalPlace,
  parseGrant,
  parseOutsiderReply,
  permissionNames,
  resolvePermissions,
} from "./permissions.js";
import { fieldViolations } from "./errors.js";

describe("resolvePermissions", () => {
  it("fills what is unspecified with the defaults: members ask, outsiders are not answered, the owner is asked in the conversation", () => {
    expect(resolvePermissions(undefined)).toEqual(DEFAULT_PERMISSION_VALUES);
    expect(resolvePermissions({ memberCrypto: Grant.REFUSE })).toEqual({
      memberSms: Grant.ASK,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.NONE,
      approvals: ApprovalPlace.CONVERSATION,
    });
    // Unspecified (an owner's permissions from before the choice) is the conversation too.
    expect(resolvePermissions({ approvals: ApprovalPlace.UNSPECIFIED }).approvals).toBe(ApprovalPlace.CONVERSATION);
    expect(resolvePermissions({ approvals: ApprovalPlace.DIRECT })).toEqual({
      ...DEFAULT_PERMISSION_VALUES,
      approvals: ApprovalPlace.DIRECT,
    });
  });

  it("refuses a value it does not know, naming the field", () => {
    for (const [key, field] of [
      ["memberSms", "permissions.member_sms"],
      ["outsiderReply", "permissions.outsider_reply"],
      ["approvals", "permissions.approvals"],
    ] as const) {
      const err = (() => {
        try {
          resolvePermissions({ [key]: 9 });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage).toContain(field);
    }
    expect(() => resolvePermissions({ approvals: 3 as ApprovalPlace })).toThrow(
      "permissions.approvals: must be one of conversation, direct",
    );
  });

  it("names every value it does not know at once, one violation each", () => {
    let err: unknown;
    try {
      resolvePermissions({ memberSms: 9 as Grant, memberCrypto: Grant.ALLOW, outsiderReply: 7 as OutsiderReply });
    } catch (e) {
      err = e;
    }
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["permissions.member_sms", "permissions.outsider_reply"]);
  });
});

describe("names", () => {
  it("round-trip through their values", () => {
    for (const n of GRANT_NAMES)
      expect(permissionNames(resolvePermissions({ memberSms: parseGrant(n) })).member_sms).toBe(n);
    for (const n of OUTSIDER_REPLY_NAMES)
      expect(permissionNames(resolvePermissions({ outsiderReply: parseOutsiderReply(n) })).outsider_reply).toBe(n);
    for (const n of APPROVAL_PLACE_NAMES) {
      expect(permissionNames(resolvePermissions({ approvals: parseApprovalPlace(n) })).approvals).toBe(n);
      expect(approvalPlaceName(parseApprovalPlace(n))).toBe(n);
    }
    expect(APPROVAL_PLACE_NAMES).toEqual(["conversation", "direct"]);
    expect(parseApprovalPlace("direct")).toBe(ApprovalPlace.DIRECT);
    expect(parseApprovalPlace("conversation")).toBe(ApprovalPlace.CONVERSATION);
  });

  it("name an unknown or unset place as nothing, shown as the default", () => {
    expect(approvalPlaceName(ApprovalPlace.UNSPECIFIED)).toBe("");
    expect(approvalPlaceName(9 as ApprovalPlace)).toBe("");
    expect(permissionNames({ ...DEFAULT_PERMISSION_VALUES, approvals: 9 as ApprovalPlace }).approvals).toBe(
      "conversation",
    );
  });

  it("are exact", () => {
    expect(parseGrant("Allow")).toBeUndefined();
    expect(parseGrant("")).toBeUndefined();
    expect(parseOutsiderReply("yes")).toBeUndefined();
    expect(parseApprovalPlace("Direct")).toBeUndefined();
    expect(parseApprovalPlace("dm")).toBeUndefined();
    expect(parseApprovalPlace("")).toBeUndefined();
  });
});
