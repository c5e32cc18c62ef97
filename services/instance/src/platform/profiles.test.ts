// Which profiles a message announces (xmtp.ts `profilesIn`), on stand-in
// messages built as the SDK decodes them with the Convos codecs: a profile
// update is its sender's; of a snapshot, its sender's own entry, and the
// others only when the conversation's creator sent it, as vouched. How they
// are applied is people.test.ts; on the XMTP node, people-e2e.int.test.ts.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  MemberKind,
  ProfileSnapshotSchema,
  ProfileUpdateSchema,
  type ProfileSnapshot,
  type ProfileUpdate,
} from "@convos-pool/gen/convos/app/v1/profile_pb.js";
import { profilesIn, type AgentMessage } from "./xmtp.js";

const CREATOR = "c".repeat(64);
const BOB = "b".repeat(64);
const ANA = "a".repeat(64);

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));

function message(typeId: string, senderInboxId: string, content: ProfileSnapshot | ProfileUpdate): AgentMessage {
  return {
    contentType: { authorityId: "convos.org", typeId, versionMajor: 1, versionMinor: 0 },
    senderInboxId,
    content,
  } as unknown as AgentMessage;
}

const snapshot = (sender: string) =>
  message(
    "profile_snapshot",
    sender,
    create(ProfileSnapshotSchema, {
      profiles: [
        { inboxId: bytes(sender), name: "Sender" },
        { inboxId: bytes(ANA), name: "Ana" },
        { inboxId: bytes(BOB), name: "Tabby", memberKind: MemberKind.AGENT },
      ],
    }),
  );

describe("profiles a message announces", () => {
  it("a profile update is its sender's, with the kind it declares", () => {
    const update = create(ProfileUpdateSchema, { name: "Ana", memberKind: MemberKind.AGENT });
    expect(profilesIn(message("profile_update", ANA, update), CREATOR)).toEqual([
      { inboxId: ANA, name: "Ana", agent: true },
    ]);
  });

  it("the creator's snapshot gives its own entry and vouches for everyone else's in it", () => {
    expect(profilesIn(snapshot(CREATOR), CREATOR)).toEqual([
      { inboxId: CREATOR, name: "Sender", agent: false },
      { inboxId: ANA, name: "Ana", agent: false, vouched: true },
      { inboxId: BOB, name: "Tabby", agent: true, vouched: true },
    ]);
  });

  it("a member's snapshot gives only its sender's own entry, the first if it gives two: a member speaks for no one else", () => {
    expect(profilesIn(snapshot(BOB), CREATOR)).toEqual([{ inboxId: BOB, name: "Sender", agent: false }]);
    expect(profilesIn(snapshot(CREATOR), undefined)).toEqual([{ inboxId: CREATOR, name: "Sender", agent: false }]);
  });
});
