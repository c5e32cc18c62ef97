import { ConnectError, Code } from "@connectrpc/connect";
import { Grant, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PERMISSION_VALUES,
  GRANT_NAMES,
  OUTSIDER_REPLY_NAMES,
  parseGrant,
  parseOutsiderReply,
  permissionNames,
  resolvePermissions,
} from "./permissions.js";

describe("resolvePermissions", () => {
  it("fills what is unspecified with the defaults: members ask, outsiders are not answered", () => {
    expect(resolvePermissions(undefined)).toEqual(DEFAULT_PERMISSION_VALUES);
    expect(resolvePermissions({ memberCrypto: Grant.REFUSE })).toEqual({
      memberSms: Grant.ASK,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.NONE,
    });
  });

  it("refuses a value it does not know, naming the field", () => {
    for (const [key, field] of [
      ["memberSms", "permissions.member_sms"],
      ["outsiderReply", "permissions.outsider_reply"],
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
  });
});

describe("names", () => {
  it("round-trip through their values", () => {
    for (const n of GRANT_NAMES)
      expect(permissionNames(resolvePermissions({ memberSms: parseGrant(n) })).member_sms).toBe(n);
    for (const n of OUTSIDER_REPLY_NAMES)
      expect(permissionNames(resolvePermissions({ outsiderReply: parseOutsiderReply(n) })).outsider_reply).toBe(n);
  });

  it("are exact", () => {
    expect(parseGrant("Allow")).toBeUndefined();
    expect(parseGrant("")).toBeUndefined();
    expect(parseOutsiderReply("yes")).toBeUndefined();
  });
});
