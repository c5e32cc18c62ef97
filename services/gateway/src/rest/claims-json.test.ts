// The permissions body and answer of the agent paths, as plain calls (no
// server): names in, the proto's values out, and back to names.

import { create } from "@bufbuild/protobuf";
import { Grant, InstanceSchema, OutsiderReply } from "@convos-pool/gen/convos/pool/v1/instance_pb.js";
import { permissionsMessage } from "@convos-pool/kit";
import { describe, expect, it } from "vitest";
import {
  PERMISSIONS_ERRORS,
  PERMISSIONS_FIELDS,
  instanceToJson,
  permissionsFromBody,
  permissionsToJson,
} from "./claims-json.js";
import { RestError } from "./errors.js";
import { JsonObject } from "./json.js";

const parse = (body: unknown) => permissionsFromBody(JsonObject.body(body, PERMISSIONS_FIELDS));

function refusal(body: unknown): [string | undefined, string] {
  try {
    parse(body);
  } catch (err) {
    if (err instanceof RestError) return [err.field, err.message];
    throw err;
  }
  throw new Error("parsed");
}

describe("PUT /api/pool/agents/{id}/permissions body", () => {
  it("takes each field by its name and leaves out those not given, for the claims service to fill with the defaults", () => {
    expect(parse({ member_crypto: "refuse", outsider_reply: "answer" }).permissions).toEqual({
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.ANSWER,
    });
    expect(
      parse({ member_sms: "allow", member_email: "ask", member_crypto: "refuse", outsider_reply: "none" }).permissions,
    ).toEqual({
      memberSms: Grant.ALLOW,
      memberEmail: Grant.ASK,
      memberCrypto: Grant.REFUSE,
      outsiderReply: OutsiderReply.NONE,
    });
    expect(parse({})).toEqual({ permissions: {}, ownerSignature: undefined });
    expect(parse({ owner_signature: { signature: "0xab", issued_at: 5, nonce: "0xcd" } }).ownerSignature).toMatchObject(
      { signature: "0xab", issuedAt: 5n, nonce: "0xcd" },
    );
  });

  it("refuses a name it does not know, naming the field and the names it takes", () => {
    expect(refusal({ member_sms: "yes" })).toEqual(["member_sms", 'member_sms: must be "allow" or "ask" or "refuse"']);
    expect(refusal({ member_email: 1 })[0]).toBe("member_email");
    expect(refusal({ member_crypto: "none" })[0]).toBe("member_crypto");
    // A grant is not a reply to an outsider, nor the other way round.
    expect(refusal({ outsider_reply: "allow" })).toEqual([
      "outsider_reply",
      'outsider_reply: must be "none" or "ask" or "answer"',
    ]);
    expect(refusal({ member_sms: "refuse", colour: "red" })[0]).toBe("colour");
    expect(refusal({ outsiderReply: "none" })[1]).toBe("outsiderReply: unknown field; did you mean outsider_reply?");
  });

  it("names the claims service's `permissions.member_sms` as the body does", () => {
    expect(PERMISSIONS_ERRORS.field("permissions.member_sms", () => false)).toBe("member_sms");
    expect(PERMISSIONS_ERRORS.field("owner_signature.nonce", () => false)).toBe("owner_signature.nonce");
  });
});

describe("an agent's permissions in its JSON", () => {
  it("are by name, the defaults when its owner never set them", () => {
    expect(instanceToJson(create(InstanceSchema, { id: "inst_1" }))).toMatchObject({
      id: "inst_1",
      permissions: { member_sms: "ask", member_email: "ask", member_crypto: "ask", outsider_reply: "none" },
    });
    const set = permissionsMessage({ memberSms: Grant.REFUSE, outsiderReply: OutsiderReply.ASK });
    expect(instanceToJson(create(InstanceSchema, { id: "inst_2", permissions: set }))).toMatchObject({
      permissions: { member_sms: "refuse", member_email: "ask", member_crypto: "ask", outsider_reply: "ask" },
    });
    // A value this gateway does not know (a newer agent's): shown as that field's default.
    expect(permissionsToJson({ ...set, memberEmail: 9 as Grant, outsiderReply: 9 as OutsiderReply })).toMatchObject({
      member_email: "ask",
      outsider_reply: "none",
    });
  });
});
