import { deflateRawSync } from "node:zlib";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ConversationCustomMetadataSchema } from "@convos-pool/gen/convos/app/v1/invite_pb.js";
import { MemberKind, ProfileUpdateSchema } from "@convos-pool/gen/convos/app/v1/profile_pb.js";
import { encodeJoinRequest, encodeProfileUpdate, readAppData, writeAppData } from "./app-data.js";

describe("Convos app data and content", () => {
  it("reads a group's tag from plain and compressed app data", () => {
    const plain = writeAppData({ tag: "abc123", emoji: "🗾" });
    expect(readAppData(plain)?.tag).toBe("abc123");

    const bytes = Buffer.from(plain, "base64url");
    const size = Buffer.alloc(4);
    size.writeUInt32BE(bytes.length);
    const compressed = Buffer.concat([Buffer.from([0x1f]), size, deflateRawSync(bytes)]).toString("base64url");
    expect(readAppData(compressed)?.emoji).toBe("🗾");
    expect(fromBinary(ConversationCustomMetadataSchema, bytes).tag).toBe("abc123");

    for (const junk of ["", "{not base64}", "AAAA", Buffer.from([0x1f, 0, 0, 0, 4, 9, 9]).toString("base64url")]) {
      expect(readAppData(junk)?.tag ?? "").toBe("");
    }
  });

  it("encodes a join request and an agent's profile the way Convos clients read them", () => {
    const join = encodeJoinRequest({ inviteSlug: "s1ug", profile: { name: "Trip Planner", memberKind: "agent" } });
    expect(join.type).toEqual({ authorityId: "convos.org", typeId: "join_request", versionMajor: 1, versionMinor: 0 });
    expect(JSON.parse(new TextDecoder().decode(join.content))).toEqual({
      inviteSlug: "s1ug",
      profile: { name: "Trip Planner", memberKind: "agent" },
    });

    const profile = encodeProfileUpdate("Trip Planner");
    expect(profile.type.typeId).toBe("profile_update");
    const decoded = fromBinary(ProfileUpdateSchema, profile.content);
    expect(decoded.name).toBe("Trip Planner");
    expect(decoded.memberKind).toBe(MemberKind.AGENT);
    expect(toBinary(ProfileUpdateSchema, decoded)).toEqual(profile.content);
  });
});
